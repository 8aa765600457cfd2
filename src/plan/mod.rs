//! The plan: which statement calls what, after what, multiplexed how. Pure data computed from
//! the query, the mappings and the run inputs; no I/O, no clock, same input -> same plan.

mod batch;
mod display;
pub(crate) mod request;
pub(crate) mod values;

use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};
use serde_json::Value as Json;

use crate::error::{Error, ErrorCode, Errors, Phase};
use crate::exec::shape::{OnlyTree, compile_only};
use crate::http::Request;
use crate::mapping::{Mappings, UrlTemplate};
use crate::syntax::ast::{ChainItem, Query, Statement, UseKey, Value, ValueKind};
pub(crate) use batch::canonical_key_owned;
pub use batch::{BatchGroup, BatchItem, canonical_key};
pub use request::{Call, Item, RequestKey};
use request::{RequestShape, build_call, missing_params_message};
pub use values::Tree;
use values::{ChainSource, NoChains, Val, apply_fns, multiplex, resolve};

/// What a run receives besides the query: variables and the client's request headers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    /// `$name` values. Strings from query strings and headers, any JSON from a JSON body.
    pub variables: serde_json::Map<String, Json>,
    /// Headers of the client request, forwarded upstream (minus hop-by-hop ones).
    pub headers: Vec<(String, String)>,
}

/// Limits and defaults of planning and execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Statements per query (error `too-many-statements`).
    pub max_statements: usize,
    /// Upstream calls per query after multiplexing, before dedupe (error `too-many-calls`).
    pub max_calls: usize,
    /// Bytes read from one upstream answer (the call fails with 502 past it).
    pub max_response_bytes: usize,
    /// Per-statement timeout when the statement has no `timeout` (restQL: 5 s).
    pub statement_timeout_ms: u64,
    /// Query deadline when there is no `use timeout` (restQL documents 30 s but never arms it).
    pub query_deadline_ms: u64,
    /// Add `details.debug` to every result.
    pub debug: bool,
    /// restQL parses body strings that are valid JSON (`"123"` -> `123`); kept for
    /// compatibility.
    pub json_strings_in_body: bool,
    /// Record the per-call trace ([`crate::Outcome::trace`]; on by default). Off, the trace
    /// is empty, calls are not timed (unless `debug` asks for response times), and a batched
    /// item's own URL, which only the trace, debug output and `explain` show, is not written.
    pub trace: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_statements: 100,
            max_calls: 1000,
            max_response_bytes: 8 * 1024 * 1024,
            statement_timeout_ms: 5_000,
            query_deadline_ms: 30_000,
            debug: false,
            json_strings_in_body: true,
            trace: true,
        }
    }
}

/// The plan of one run.
#[derive(Debug)]
pub struct Plan<'q> {
    /// In query order.
    pub statements: Vec<StatementPlan<'q>>,
    /// Statement indexes by dependency depth: wave 0 waits for nothing, wave n for wave < n.
    /// The executor starts each statement as soon as its own dependencies end.
    pub waves: Vec<Vec<usize>>,
    /// The query deadline: `use timeout`, else the default.
    pub deadline_ms: u64,
    pub(crate) source: &'q str,
    pub(crate) inputs: &'q Inputs,
    pub(crate) options: Options,
}

/// One statement of the plan.
#[derive(Debug)]
pub struct StatementPlan<'q> {
    /// The identifier: alias, else resource.
    pub id: &'q str,
    pub statement: &'q Statement,
    pub template: &'q UrlTemplate,
    pub wave: usize,
    pub dependencies: Vec<Dependency>,
    pub timeout_ms: u64,
    /// The statement's own directive, `use` defaults applied.
    pub cache: CacheDirective,
    /// The calls, when no chained value decides them; `None` until the executor resolves
    /// chains. Leaves are in multiplex order.
    pub items: Option<Tree<Item>>,
    /// The resource's batch endpoint, unless the statement opts out (`-> no-batch`) or is
    /// not a read (`from`).
    pub batch: Option<std::rc::Rc<crate::mapping::BatchSpec>>,
    pub(crate) only: Option<OnlyTree>,
    /// Whether anything reads this statement's bodies as JSON (`only`, `in`; chains read the text);
    /// otherwise they are checked and passed through unparsed.
    pub(crate) parse_body: bool,
    /// The statement whose items this one's follow one to one, when its calls can start
    /// item by item, as each item of that statement ends (see [`item_by_item_target`]).
    pub(crate) item_by_item: Option<usize>,
}

/// Why a statement waits for another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// Index of the statement waited for.
    pub target: usize,
    pub kind: DependencyKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyKind {
    /// A `with` param (or the dynamic body) chains from the target.
    Param(String),
    /// A header value chains from the target.
    Header(String),
    DependsOn,
}

/// `max-age` / `s-maxage` / `no-cache`, from a statement or an upstream `Cache-Control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheDirective {
    pub no_cache: bool,
    pub max_age: Option<u64>,
    pub s_maxage: Option<u64>,
}

impl CacheDirective {
    pub fn is_empty(&self) -> bool {
        !self.no_cache && self.max_age.is_none() && self.s_maxage.is_none()
    }

    /// Combine two directives: `no-cache` wins, else the smaller of each value present.
    pub fn merge(self, other: CacheDirective) -> CacheDirective {
        fn min(a: Option<u64>, b: Option<u64>) -> Option<u64> {
            match (a, b) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }
        CacheDirective {
            no_cache: self.no_cache || other.no_cache,
            max_age: min(self.max_age, other.max_age),
            s_maxage: min(self.s_maxage, other.s_maxage),
        }
    }

    /// Parse an upstream `Cache-Control`; directives other than these three are ignored.
    pub fn parse_header(value: &str) -> CacheDirective {
        let mut d = CacheDirective::default();
        for part in value.split(',') {
            let part = part.trim();
            let (name, arg) = part.split_once('=').unwrap_or((part, ""));
            let arg = arg.trim().trim_matches('"').parse::<u64>().ok();
            match name.trim().to_ascii_lowercase().as_str() {
                "no-cache" => d.no_cache = true,
                "max-age" => d.max_age = arg.or(d.max_age),
                "s-maxage" => d.s_maxage = arg.or(d.s_maxage),
                _ => {}
            }
        }
        d
    }

    /// The header value, or `None` when there is nothing to say.
    pub fn header_value(&self) -> Option<String> {
        if self.no_cache {
            return Some("no-cache".into());
        }
        match (self.max_age, self.s_maxage) {
            (Some(m), Some(s)) => Some(format!("max-age={m}, s-maxage={s}")),
            (Some(m), None) => Some(format!("max-age={m}")),
            (None, Some(s)) => Some(format!("s-maxage={s}")),
            (None, None) => None,
        }
    }
}

/// Plan a checked query (see [`crate::check`]); `source` is its text, for error positions.
pub fn plan<'q>(
    query: &'q Query,
    source: &'q str,
    mappings: &'q Mappings,
    inputs: &'q Inputs,
    options: &Options,
) -> Result<Plan<'q>, Errors> {
    let err = |code, message: String, span| Error::new(code, Phase::Plan, message, span, source);
    let mut errors = Vec::new();
    if query.statements.len() > options.max_statements {
        let st = &query.statements[options.max_statements];
        return Err(err(
            ErrorCode::TooManyStatements,
            format!(
                "the query has {} statements; the limit is {}",
                query.statements.len(),
                options.max_statements
            ),
            st.span,
        )
        .into());
    }

    let index_of = |name: &str| query.statements.iter().position(|s| s.id().name == name);
    let vars = &inputs.variables;
    let use_value = |key: UseKey| {
        query
            .uses
            .iter()
            .rev()
            .find(|u| u.key == key)
            .and_then(|u| integer(&u.value, vars, false))
    };
    let use_cache = CacheDirective {
        no_cache: false,
        max_age: use_value(UseKey::MaxAge),
        s_maxage: use_value(UseKey::SMaxAge),
    };

    let mut statements = Vec::with_capacity(query.statements.len());
    for st in &query.statements {
        let Some(mapping) = mappings.get(&st.resource.name) else {
            errors.push(
                err(
                    ErrorCode::UnknownResource,
                    format!(
                        "unknown resource '{}': the mappings do not define it",
                        st.resource.name
                    ),
                    st.resource.span,
                )
                .with_found(format!("'{}'", st.resource.name)),
            );
            continue;
        };
        let mut dependencies = Vec::new();
        let mut chain_dep = |value: &'q Value, kind: &dyn Fn() -> DependencyKind| {
            for target in chain_targets(value) {
                match index_of(target) {
                    Some(t) => dependencies.push(Dependency {
                        target: t,
                        kind: kind(),
                    }),
                    None => errors.push(err(
                        ErrorCode::UnknownChainTarget,
                        format!("chain targets an unknown statement '{target}'"),
                        value.span,
                    )),
                }
            }
        };
        if let Some(with) = &st.with {
            for p in &with.params {
                chain_dep(&p.value, &|| DependencyKind::Param(p.key.name.clone()));
            }
        }
        for h in &st.headers {
            chain_dep(&h.value, &|| DependencyKind::Header(h.name.name.clone()));
        }
        if let Some(target) = &st.depends_on {
            match index_of(&target.name) {
                Some(t) => dependencies.push(Dependency {
                    target: t,
                    kind: DependencyKind::DependsOn,
                }),
                None => errors.push(err(
                    ErrorCode::UnknownDependsOnTarget,
                    format!("depends-on targets an unknown statement '{}'", target.name),
                    target.span,
                )),
            }
        }
        let only = match compile_only(&st.only, vars, source) {
            Ok(only) => only,
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let own = CacheDirective {
            no_cache: false,
            max_age: st.max_age.as_ref().and_then(|v| integer(v, vars, false)),
            s_maxage: st.s_max_age.as_ref().and_then(|v| integer(v, vars, false)),
        };
        statements.push(StatementPlan {
            id: &st.id().name,
            statement: st,
            template: &mapping.template,
            wave: 0,
            dependencies,
            timeout_ms: st
                .timeout
                .as_ref()
                .and_then(|v| integer(v, vars, true))
                .unwrap_or(options.statement_timeout_ms),
            cache: CacheDirective {
                no_cache: false,
                max_age: own.max_age.or(use_cache.max_age),
                s_maxage: own.s_maxage.or(use_cache.s_maxage),
            },
            items: None,
            batch: mapping.batch.clone().filter(|_| {
                st.method == crate::syntax::ast::Method::From
                    && !st.with.as_ref().is_some_and(|w| {
                        w.params
                            .iter()
                            .any(|p| p.fns.contains(&crate::syntax::ast::ParamFn::NoBatch))
                    })
            }),
            parse_body: only.is_some() || st.in_target.is_some(),
            only,
            item_by_item: None,
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| (e.span.start, e.span.end));
        return Err(Errors(errors));
    }

    for sp in &mut statements {
        sp.item_by_item = item_by_item_target(sp, vars);
    }

    // Bodies that other statements aggregate into are parsed too. Chains read the answer
    // text without parsing it.
    for i in 0..statements.len() {
        if let Some(target) = statements[i]
            .statement
            .in_target
            .as_ref()
            .and_then(|t| t.path.first())
            && let Some(t) = statements.iter().position(|s| s.id == target)
        {
            statements[t].parse_body = true;
        }
    }
    let waves = waves(&mut statements, source)?;
    let mut plan = Plan {
        statements,
        waves,
        deadline_ms: query
            .uses
            .iter()
            .rev()
            .find(|u| u.key == UseKey::Timeout)
            .and_then(|u| integer(&u.value, vars, true))
            .unwrap_or(options.query_deadline_ms),
        source,
        inputs,
        options: options.clone(),
    };

    // Calls that no chain decides are built now, so `explain` shows them and limits apply
    // before anything is sent.
    let mut budget = options.max_calls;
    for i in 0..plan.statements.len() {
        let has_chain = plan.statements[i]
            .dependencies
            .iter()
            .any(|d| d.kind != DependencyKind::DependsOn);
        if has_chain {
            continue;
        }
        match build_items(&plan, i, &NoChains, &mut budget) {
            Some(items) => plan.statements[i].items = Some(items),
            None => return Err(too_many_calls(&plan, i).into()),
        }
    }
    // A single call has no items to follow one by one.
    for i in 0..plan.statements.len() {
        if let Some(t) = plan.statements[i].item_by_item
            && matches!(plan.statements[t].items, Some(Tree::Leaf(_)))
        {
            plan.statements[i].item_by_item = None;
        }
    }
    Ok(plan)
}

/// The statement a chained statement can follow item by item: its item `k` is then built
/// from item `k` of that statement alone, and can start as soon as that item has ended,
/// without waiting for the others (a fan-out's second hop starts with its first answers).
///
/// That holds when every chain of the statement is a whole `with` value chained from one and
/// the same statement, with no function that reads the whole list (`flatten`, `json`,
/// `no-multiplex`...), and no other value multiplexes: multiplexing then pairs item `k` of the
/// chained lists with nothing else, so building items one by one gives the same calls as
/// building them together. Statements on a batch endpoint send their items a full chunk at
/// a time, and the rest when the target has ended, so that their keys take as few chunks as
/// when they wait. Statements with a dynamic body or a `depends-on` wait for the whole target.
fn item_by_item_target(
    sp: &StatementPlan<'_>,
    vars: &serde_json::Map<String, Json>,
) -> Option<usize> {
    if sp.items.is_some() {
        return None;
    }
    let mut target = None;
    for d in &sp.dependencies {
        if !matches!(d.kind, DependencyKind::Param(_)) || target.is_some_and(|t| t != d.target) {
            return None;
        }
        target = Some(d.target);
    }
    let with = sp.statement.with.as_ref()?;
    if with.body.is_some() {
        return None;
    }
    for p in &with.params {
        let plain = match &p.value.kind {
            ValueKind::Chain(_) => p
                .fns
                .iter()
                .all(|f| *f == crate::syntax::ast::ParamFn::NoBatch),
            ValueKind::Str(_)
            | ValueKind::Int(_)
            | ValueKind::Float(_)
            | ValueKind::Bool(_)
            | ValueKind::Null => true,
            ValueKind::Var(name) => {
                !matches!(vars.get(name), Some(Json::Array(_) | Json::Object(_)))
            }
            ValueKind::List(_) | ValueKind::Object(_) => false,
        };
        if !plain {
            return None;
        }
    }
    target
}

pub(crate) fn too_many_calls(plan: &Plan<'_>, statement: usize) -> Error {
    let st = plan.statements[statement].statement;
    Error::new(
        ErrorCode::TooManyCalls,
        Phase::Plan,
        format!(
            "statement '{}' would make the query exceed the limit of {} upstream calls",
            plan.statements[statement].id, plan.options.max_calls
        ),
        st.span,
        plan.source,
    )
}

/// An integer from a literal or a variable; `strings` also accepts digit strings (variables
/// from query strings are strings). restQL ignores literal strings in `use`.
fn integer(value: &Value, vars: &serde_json::Map<String, Json>, strings: bool) -> Option<u64> {
    match &value.kind {
        ValueKind::Int(i) => u64::try_from(*i).ok(),
        ValueKind::Var(name) => match vars.get(name)? {
            Json::Number(n) => n.as_u64(),
            Json::String(s) => s.trim().parse().ok(),
            _ => None,
        },
        ValueKind::Str(s) if strings => s.trim().parse().ok(),
        _ => None,
    }
}

/// The statements a value chains from (first chain item), nested values included.
fn chain_targets(value: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match &v.kind {
            ValueKind::Chain(items) => {
                if let Some(ChainItem::Key(k)) = items.first() {
                    out.push(k);
                }
            }
            ValueKind::List(items) => items.iter().for_each(|i| walk(i, out)),
            ValueKind::Object(entries) => entries.iter().for_each(|(_, i)| walk(i, out)),
            _ => {}
        }
    }
    walk(value, &mut out);
    out
}

/// Depth of every statement in the dependency graph (Kahn); a cycle is an error.
fn waves(statements: &mut [StatementPlan<'_>], source: &str) -> Result<Vec<Vec<usize>>, Errors> {
    let n = statements.len();
    let mut wave: Vec<Option<usize>> = vec![None; n];
    let mut done = 0;
    while done < n {
        let mut progressed = false;
        for i in 0..n {
            if wave[i].is_some() {
                continue;
            }
            let mut depth = 0;
            let mut ready = true;
            for d in &statements[i].dependencies {
                match wave[d.target] {
                    Some(w) => depth = depth.max(w + 1),
                    None => ready = false,
                }
            }
            if ready {
                wave[i] = Some(depth);
                done += 1;
                progressed = true;
            }
        }
        if !progressed {
            let stuck = (0..n).find(|&i| wave[i].is_none()).unwrap_or(0);
            let st = statements[stuck].statement;
            return Err(Error::new(
                ErrorCode::DependencyCycle,
                Phase::Plan,
                format!(
                    "statement '{}' waits on itself through its dependencies",
                    statements[stuck].id
                ),
                st.span,
                source,
            )
            .into());
        }
    }
    let mut waves: Vec<Vec<usize>> = Vec::new();
    for (i, w) in wave.iter().enumerate() {
        let w = w.unwrap_or(0);
        statements[i].wave = w;
        if waves.len() <= w {
            waves.resize(w + 1, Vec::new());
        }
        waves[w].push(i);
    }
    Ok(waves)
}

/// Client headers never forwarded upstream (restQL's list).
const NOT_FORWARDED: [&str; 6] = [
    "host",
    "content-type",
    "content-length",
    "connection",
    "origin",
    "accept-encoding",
];

/// Resolve a statement's values (chains through `chains`) and build its calls. `None` when the
/// expansion exceeds `budget`.
pub(crate) fn build_items(
    plan: &Plan<'_>,
    index: usize,
    chains: &dyn ChainSource,
    budget: &mut usize,
) -> Option<Tree<Item>> {
    let sp = &plan.statements[index];
    let st = sp.statement;
    let vars = &plan.inputs.variables;

    // Headers: forwarded ones, then the `headers` clause overriding by name. They never
    // multiplex; a list is sent as JSON text.
    let mut headers: Vec<(String, String)> = plan
        .inputs
        .headers
        .iter()
        .filter(|(n, _)| !NOT_FORWARDED.iter().any(|x| n.eq_ignore_ascii_case(x)))
        .cloned()
        .collect();
    let mut failed_headers = Vec::new();
    for h in &st.headers {
        let val = resolve(&h.value, vars, chains);
        if val.contains_failed() {
            failed_headers.push(h.name.name.as_str());
            continue;
        }
        let Some(json) = val.to_json(false) else {
            continue;
        };
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&h.name.name));
        headers.push((h.name.name.clone(), values::text_of(&json)));
    }
    if !failed_headers.is_empty() {
        *budget = budget.checked_sub(1)?;
        return Some(Tree::Leaf(Item::Skip(missing_params_message(
            &failed_headers,
        ))));
    }

    let mut params = Vec::new();
    let mut has_body = false;
    if let Some(with) = &st.with {
        for p in &with.params {
            let val = resolve(&p.value, vars, chains);
            if val == Val::Absent {
                continue;
            }
            params.push(apply_fns(&p.key.name, val, &p.fns));
        }
        if let Some(body) = &with.body
            && let Some(json) = vars.get(&body.var.name)
        {
            // Strings holding JSON are parsed, also inside a list (repeated query params).
            fn parsed(json: &Json) -> Val {
                match json {
                    Json::String(s) => serde_json::from_str::<Json>(s)
                        .map_or_else(|_| Val::Scalar(json.clone()), |j| Val::from_json(&j)),
                    Json::Array(items) => Val::List(items.iter().map(parsed).collect()),
                    other => Val::from_json(other),
                }
            }
            let val = parsed(json);
            let mut p = apply_fns(&body.var.name, val, &body.fns);
            p.as_body = false;
            params.push(p);
            has_body = true;
        }
    }
    let shape = RequestShape {
        method: st.method,
        template: sp.template,
        headers: request::with_content_type(st.method, headers),
        json_strings_in_body: plan.options.json_strings_in_body,
        max_response_bytes: plan.options.max_response_bytes,
        debug: plan.options.debug,
    };
    let mut groups = Vec::new();
    // Items whose requests are equal share one call (by request digest): the executor would
    // send them once anyway, and the repeat builds no batch item and keeps no copy.
    let mut first: Option<(u64, std::rc::Rc<Call>)> = None;
    let mut spare_url = String::new();
    let mut built: FxHashMap<u64, std::rc::Rc<Call>> = FxHashMap::default();
    // A batched item's own URL is written only when something shows it (the trace, debug
    // output): its group and key are what the executor and the dispatcher go by.
    let item_urls = plan.options.trace || plan.options.debug;
    multiplex(params, budget, &mut |leaf| {
        let (params, body) = if has_body {
            let (body, params) = leaf
                .split_last()
                .map_or((None, leaf), |(b, p)| (Some(b), p));
            (params, body)
        } else {
            (leaf, None)
        };
        if !item_urls && let Some(spec) = &sp.batch {
            if let Some(skip) = request::skip_message(&shape, params, body) {
                return Item::Skip(skip);
            }
            // A repeated key is found before anything is built for it.
            let digest = batch::key_digest(spec, params);
            if let Some(digest) = digest {
                let earlier = match &first {
                    Some((d, c)) if *d == digest => Some(c),
                    _ => built.get(&digest),
                };
                if let Some(earlier) = earlier.filter(|e| {
                    e.request.url.is_empty()
                        && e.batch.as_ref().is_some_and(|item| {
                            batch::gives_same_item(item, spec, params, &shape.headers, &groups)
                        })
                }) {
                    return Item::Call(std::rc::Rc::clone(earlier));
                }
            }
            if let Some(item) = batch::batch_item(
                &st.resource.name,
                spec,
                params,
                &shape.headers,
                shape.max_response_bytes,
                &mut groups,
                true,
            ) {
                let call = std::rc::Rc::new(Call {
                    request: Request {
                        method: shape.method.http_method(),
                        url: String::new(),
                        headers: std::rc::Rc::clone(&shape.headers),
                        body: None,
                        max_response_bytes: shape.max_response_bytes,
                    },
                    params: serde_json::Map::new(),
                    batch: Some(item),
                });
                if let Some(digest) = digest {
                    remember(&mut first, &mut built, digest, &call);
                }
                return Item::Call(call);
            }
        }
        let mut call = match build_call(&shape, params, body, std::mem::take(&mut spare_url)) {
            Ok(call) => call,
            Err(skip) => return Item::Skip(skip),
        };
        let digest = {
            let mut h = FxHasher::default();
            call.key().hash(&mut h);
            h.finish()
        };
        let earlier = match &first {
            Some((d, c)) if *d == digest => Some(c),
            _ => built.get(&digest),
        };
        // A batch item also shares only what its own key and params would give it (explain
        // shows each item's key as given).
        if let Some(earlier) = earlier.filter(|e| {
            e.key() == call.key()
                && match (&sp.batch, &e.batch) {
                    (None, _) => true,
                    (Some(spec), Some(item)) => {
                        batch::gives_same_item(item, spec, params, &call.request.headers, &groups)
                    }
                    (Some(_), None) => false,
                }
        }) {
            // The URL's buffer serves the next item.
            spare_url = call.request.url;
            return Item::Call(std::rc::Rc::clone(earlier));
        }
        if let Some(spec) = &sp.batch {
            call.batch = batch::batch_item(
                &st.resource.name,
                spec,
                params,
                &call.request.headers,
                shape.max_response_bytes,
                &mut groups,
                false,
            );
        }
        let call = std::rc::Rc::new(call);
        remember(&mut first, &mut built, digest, &call);
        Item::Call(call)
    })
}

/// Keep a statement's call by digest, so that an equal item shares it. The first call is kept
/// aside: a statement of one call needs no map.
fn remember(
    first: &mut Option<(u64, std::rc::Rc<Call>)>,
    built: &mut FxHashMap<u64, std::rc::Rc<Call>>,
    digest: u64,
    call: &std::rc::Rc<Call>,
) {
    match first {
        None => *first = Some((digest, std::rc::Rc::clone(call))),
        Some(_) => {
            if built.capacity() == 0 {
                // A fan-out: skip the first growths of the map.
                built.reserve(32);
            }
            built
                .entry(digest)
                .or_insert_with(|| std::rc::Rc::clone(call));
        }
    }
}

impl StatementPlan<'_> {
    /// `call` as `explain` shows it: a batched item planned without its own URL gets it
    /// written now, from its group's params with its key.
    pub(crate) fn explained<'c>(
        &self,
        call: &'c Call,
        options: &Options,
    ) -> std::borrow::Cow<'c, Call> {
        let Some(item) = call
            .batch
            .as_ref()
            .filter(|b| call.request.url.is_empty() && !b.group.params.is_empty())
        else {
            return std::borrow::Cow::Borrowed(call);
        };
        let mut params = item.group.params.clone();
        if let Some(p) = params
            .iter_mut()
            .rev()
            .find(|p| *p.key == *item.group.spec.on)
        {
            p.val = Val::Scalar(item.key.clone());
        }
        let shape = RequestShape {
            method: self.statement.method,
            template: self.template,
            headers: std::rc::Rc::clone(&call.request.headers),
            json_strings_in_body: options.json_strings_in_body,
            max_response_bytes: call.request.max_response_bytes,
            debug: false,
        };
        match build_call(&shape, &params, None, String::new()) {
            Ok(built) => std::borrow::Cow::Owned(Call {
                batch: call.batch.clone(),
                ..built
            }),
            Err(_) => std::borrow::Cow::Borrowed(call),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items_of(text: &str, mappings: &Json) -> Vec<std::rc::Rc<Call>> {
        items_with(text, mappings, &Options::default())
    }

    fn items_with(text: &str, mappings: &Json, options: &Options) -> Vec<std::rc::Rc<Call>> {
        let mappings = Mappings::from_json_value(mappings).unwrap_or_else(|e| panic!("{e}"));
        let query = crate::check(text).unwrap_or_else(|e| panic!("{e:?}"));
        let inputs = Inputs::default();
        let plan =
            plan(&query, text, &mappings, &inputs, options).unwrap_or_else(|e| panic!("{e:?}"));
        let mut calls = Vec::new();
        if let Some(items) = &plan.statements[0].items {
            items.for_each(&mut |item| {
                if let Item::Call(c) = item {
                    calls.push(std::rc::Rc::clone(c));
                }
            });
        }
        calls
    }

    #[test]
    fn equal_items_share_one_call_unless_their_batch_keys_differ() {
        let single = json!({"product": "http://u/product/:id"});
        let calls = items_of("from product with id = [1, 2, 1, \"1\"]", &single);
        assert_eq!(calls.len(), 4);
        assert!(std::rc::Rc::ptr_eq(&calls[0], &calls[2]));
        assert!(std::rc::Rc::ptr_eq(&calls[0], &calls[3]));
        assert!(!std::rc::Rc::ptr_eq(&calls[0], &calls[1]));

        let batched = json!({"product": {"url": "http://u/product/:id",
            "batch": {"on": "id", "request": "GET http://u/products"}}});
        let calls = items_of("from product with id = [1, 2, 1, \"1\"]", &batched);
        assert!(std::rc::Rc::ptr_eq(&calls[0], &calls[2]));
        // Same request, but the key as given differs: explain shows it.
        assert!(!std::rc::Rc::ptr_eq(&calls[0], &calls[3]));
        assert_eq!(calls[0].key(), calls[3].key());
        let keys: Vec<Option<&Json>> = calls
            .iter()
            .map(|c| c.batch.as_ref().map(|b| &b.key))
            .collect();
        assert_eq!(
            keys,
            vec![
                Some(&json!(1)),
                Some(&json!(2)),
                Some(&json!(1)),
                Some(&json!("1"))
            ]
        );

        // Without the trace: no URL of their own, shared the same way.
        let untraced = Options {
            trace: false,
            ..Options::default()
        };
        let bare = items_with(
            "from product with id = [1, 2, 1, \"1\"]",
            &batched,
            &untraced,
        );
        assert!(std::rc::Rc::ptr_eq(&bare[0], &bare[2]));
        assert!(!std::rc::Rc::ptr_eq(&bare[0], &bare[3]));
        assert!(!std::rc::Rc::ptr_eq(&bare[0], &bare[1]));
        assert!(bare.iter().all(|c| c.request.url.is_empty()));
        let bare_keys: Vec<Option<&Json>> = bare
            .iter()
            .map(|c| c.batch.as_ref().map(|b| &b.key))
            .collect();
        assert_eq!(bare_keys, keys);
        // Debug output shows each item's URL: written with the trace off too.
        let debug = Options {
            debug: true,
            ..untraced
        };
        let shown = items_with("from product with id = [1, 2]", &batched, &debug);
        assert_eq!(shown[1].request.url, "http://u/product/2");
    }
}
