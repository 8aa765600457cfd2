//! Semantic checks on a parsed query, before any planning: every problem at once, in source
//! order.
//!
//! - `duplicate-identifier`: two statements with one identifier (restQL silently drops one).
//! - `unknown-chain-target`: a chain in `with` or `headers` naming no statement (restQL checks
//!   only `with`; an unchecked header chain hangs its query).
//! - `unknown-depends-on-target`.
//! - `dependency-cycle`: statements waiting on each other through chains or `depends-on`
//!   (restQL never runs them and hangs until the query timeout).

use std::collections::HashMap;

use crate::error::{Error, ErrorCode, Errors, Phase};
use crate::syntax::ast::{ChainItem, FilterFn, Query, Statement, Value, ValueKind};

/// Check `query`, parsed from `source` (used for line, column and snippet of each error).
pub fn validate(query: &Query, source: &str) -> Result<(), Errors> {
    let mut errors = Vec::new();
    let index = statement_index(query, source, &mut errors);
    let deps = dependencies(query, source, &index, &mut errors);
    find_cycles(query, source, &deps, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        errors.sort_by_key(|e| (e.span.start, e.span.end));
        Err(Errors(errors))
    }
}

/// Identifier -> index of its first statement; reports the later duplicates.
fn statement_index<'q>(
    query: &'q Query,
    source: &str,
    errors: &mut Vec<Error>,
) -> HashMap<&'q str, usize> {
    let mut index = HashMap::with_capacity(query.statements.len());
    for (i, st) in query.statements.iter().enumerate() {
        let id = st.id();
        if let Some(&first) = index.get(id.name.as_str()) {
            let first: &Statement = &query.statements[first];
            let at = crate::span::Location::of(source, first.id().span.start);
            errors.push(
                Error::new(
                    ErrorCode::DuplicateIdentifier,
                    Phase::Validate,
                    format!(
                        "statement identifier '{}' is already used at {}:{}; give one of them another name with 'as'",
                        id.name, at.line, at.column
                    ),
                    id.span,
                    source,
                )
                .with_expected(vec!["a unique statement identifier".into()])
                .with_found(format!("'{}'", id.name)),
            );
        } else {
            index.insert(id.name.as_str(), i);
        }
    }
    index
}

/// For each statement, the statements it waits for (chains and `depends-on`), each with the
/// span of the reference, for cycle reports. Reports references to unknown statements.
fn dependencies(
    query: &Query,
    source: &str,
    index: &HashMap<&str, usize>,
    errors: &mut Vec<Error>,
) -> Vec<Vec<usize>> {
    let mut deps = vec![Vec::new(); query.statements.len()];
    for (i, st) in query.statements.iter().enumerate() {
        let mut chain_targets = Vec::new();
        collect_chains(st, &mut chain_targets);
        for value in chain_targets {
            let ValueKind::Chain(items) = &value.kind else {
                continue;
            };
            let Some(ChainItem::Key(target)) = items.first() else {
                continue;
            };
            match index.get(target.as_str()) {
                Some(&t) => deps[i].push(t),
                None => errors.push(
                    Error::new(
                        ErrorCode::UnknownChainTarget,
                        Phase::Validate,
                        format!(
                            "chained value '{}' refers to '{target}', which is not a statement of this query",
                            chain_text(items)
                        ),
                        value.span,
                        source,
                    )
                    .with_expected(vec!["the identifier of a statement".into()])
                    .with_found(format!("'{target}'")),
                ),
            }
        }
        if let Some(target) = &st.depends_on {
            match index.get(target.name.as_str()) {
                Some(&t) => deps[i].push(t),
                None => errors.push(
                    Error::new(
                        ErrorCode::UnknownDependsOnTarget,
                        Phase::Validate,
                        format!(
                            "depends-on refers to '{}', which is not a statement of this query",
                            target.name
                        ),
                        target.span,
                        source,
                    )
                    .with_expected(vec!["the identifier of a statement".into()])
                    .with_found(format!("'{}'", target.name)),
                ),
            }
        }
        deps[i].sort_unstable();
        deps[i].dedup();
    }
    deps
}

/// Chains that make `st` wait: in `with` parameters (nested ones too) and header values.
fn collect_chains<'a>(st: &'a Statement, out: &mut Vec<&'a Value>) {
    st.for_each_value(|v| {
        if matches!(v.kind, ValueKind::Chain(_)) {
            out.push(v);
        }
    });
}

fn chain_text(items: &[ChainItem]) -> String {
    items
        .iter()
        .map(|i| match i {
            ChainItem::Key(k) => k.clone(),
            ChainItem::Var(v) => format!("${v}"),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Report each cycle once, at the first of its statements in source order.
///
/// Statements are peeled off while all they wait for is peeled (Kahn); every statement left
/// waits on another one left, so following those edges from any of them must close a cycle.
fn find_cycles(query: &Query, source: &str, deps: &[Vec<usize>], errors: &mut Vec<Error>) {
    let n = deps.len();
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut done = vec![false; n];
    while let Some(i) = ready.pop() {
        done[i] = true;
        for &dep in &dependents[i] {
            waiting[dep] -= 1;
            if waiting[dep] == 0 {
                ready.push(dep);
            }
        }
    }
    let mut reported = vec![false; n];
    for start in 0..n {
        if done[start] || reported[start] {
            continue;
        }
        // Walk until a statement repeats (a new cycle) or one already reported is reached.
        let mut path = vec![start];
        let mut on_path = vec![None; n];
        on_path[start] = Some(0);
        let mut current = start;
        while let Some(&next) = deps[current].iter().find(|&&d| !done[d]) {
            if reported[next] {
                break;
            }
            if let Some(pos) = on_path[next] {
                let cycle = &path[pos..];
                for &c in cycle {
                    reported[c] = true;
                }
                let first = cycle.iter().copied().min().unwrap_or(next);
                let rotate = cycle.iter().position(|&c| c == first).unwrap_or(0);
                let mut names: Vec<&str> = cycle[rotate..]
                    .iter()
                    .chain(&cycle[..rotate])
                    .map(|&c| query.statements[c].id().name.as_str())
                    .collect();
                names.push(names[0]);
                let st = &query.statements[first];
                errors.push(
                    Error::new(
                        ErrorCode::DependencyCycle,
                        Phase::Validate,
                        format!(
                            "statements wait on each other and would never run: {}",
                            names.join(" -> ")
                        ),
                        st.id().span,
                        source,
                    )
                    .with_expected(vec!["statements without circular dependencies".into()])
                    .with_found(names.join(" -> ")),
                );
                break;
            }
            on_path[next] = Some(path.len());
            path.push(next);
            current = next;
        }
    }
}

/// Checks that need run-time variables: a regex given through a variable
/// (`matches($re)`, `filterByRegex($path, $re)`) must be a string that compiles. Variables
/// absent from `variables` are not checked (they may still be supplied at run time).
pub fn validate_variables(
    query: &Query,
    source: &str,
    variables: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), Errors> {
    let mut errors = Vec::new();
    for st in &query.statements {
        for filter in &st.only {
            for func in &filter.fns {
                let regex = match func {
                    FilterFn::Matches(re) => re,
                    FilterFn::FilterByRegex { regex, .. } => regex,
                };
                let ValueKind::Var(name) = &regex.kind else {
                    continue;
                };
                let problem = match variables.get(name) {
                    None => None,
                    Some(serde_json::Value::String(pattern)) => crate::regex::compile(pattern)
                        .err()
                        .map(|e| format!("variable ${name} is not a valid regex: {e}")),
                    Some(other) => Some(format!(
                        "variable ${name} must be a string holding a regex, found {other}"
                    )),
                };
                if let Some(message) = problem {
                    errors.push(Error::new(
                        ErrorCode::InvalidRegex,
                        Phase::Validate,
                        message,
                        regex.span,
                        source,
                    ));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Errors(errors))
    }
}
