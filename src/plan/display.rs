//! The plan as text (`restql explain --format text`) and as JSON (the default, and what the
//! wasm `explain` returns). Both list waves, statements, dependencies, multiplexing and the
//! statically known calls with their request keys; a key shared by several items is a dedupe
//! group (one upstream call).

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::{Value as Json, json};

use super::{BatchGroup, Call, DependencyKind, Item, Plan, StatementPlan, Tree};

/// The calls known at plan time that go to one batch group: unique keys in first-seen order,
/// and who asks for each.
#[derive(Debug)]
pub(crate) struct BatchView<'p> {
    pub(crate) group: &'p BatchGroup,
    pub(crate) keys: Vec<(&'p Json, Vec<String>)>,
}

impl Plan<'_> {
    /// The indented text form; stable, so it is snapshot-tested.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let groups = self.dedupe_groups();
        let _ = writeln!(
            out,
            "plan: {} statement{}, {} wave{}, deadline {} ms",
            self.statements.len(),
            plural(self.statements.len()),
            self.waves.len(),
            plural(self.waves.len()),
            self.deadline_ms
        );
        for (w, wave) in self.waves.iter().enumerate() {
            let _ = writeln!(out, "wave {w}");
            for &i in wave {
                self.write_statement(&mut out, &self.statements[i], &groups);
            }
        }
        let shared: Vec<_> = groups.iter().filter(|(_, users)| users.len() > 1).collect();
        if !shared.is_empty() {
            let _ = writeln!(out, "dedupe");
            for (fingerprint, users) in shared {
                let _ = writeln!(out, "  #{fingerprint} one call for {}", users.join(", "));
            }
        }
        let batches = self.batch_views();
        if !batches.is_empty() {
            let _ = writeln!(out, "batch");
        }
        for view in &batches {
            let g = view.group;
            let keys: Vec<&Json> = view.keys.iter().map(|(k, _)| *k).collect();
            let chunks = g.chunks(&keys);
            let _ = writeln!(
                out,
                "  {} via {}: {} item{}, {} unique key{}, {} call{} (max {}, max-url {})",
                g.resource,
                g.spec.request_line(),
                view.keys.iter().map(|(_, u)| u.len()).sum::<usize>(),
                plural(view.keys.iter().map(|(_, u)| u.len()).sum::<usize>()),
                keys.len(),
                plural(keys.len()),
                chunks.len(),
                plural(chunks.len()),
                g.spec.max,
                g.spec.max_url
            );
            for (i, chunk) in chunks.iter().enumerate() {
                let (url, body) = g.render(chunk);
                let _ = write!(out, "    chunk {i}: {} {url}", g.spec.method);
                if let Some(body) = body {
                    let _ = write!(out, " {body}");
                }
                let _ = writeln!(out, " ({} key{})", chunk.len(), plural(chunk.len()));
            }
        }
        out
    }

    /// Batch groups of the calls known at plan time, in query order.
    pub(crate) fn batch_views(&self) -> Vec<BatchView<'_>> {
        let mut views: Vec<BatchView<'_>> = Vec::new();
        for sp in &self.statements {
            let Some(items) = &sp.items else { continue };
            let multiplexed = items.is_multiplexed();
            for (i, item) in items.leaves().into_iter().enumerate() {
                let Item::Call(c) = item else { continue };
                let Some(b) = &c.batch else { continue };
                let user = if multiplexed {
                    format!("{}[{i}]", sp.id)
                } else {
                    sp.id.to_string()
                };
                let at = match views.iter().position(|v| v.group.id == b.group.id) {
                    Some(at) => at,
                    None => {
                        views.push(BatchView {
                            group: &b.group,
                            keys: Vec::new(),
                        });
                        views.len() - 1
                    }
                };
                let view = &mut views[at];
                match view
                    .keys
                    .iter_mut()
                    .find(|(k, _)| super::canonical_key(k).as_deref() == Some(&*b.canonical))
                {
                    Some((_, users)) => users.push(user),
                    None => view.keys.push((&b.key, vec![user])),
                }
            }
        }
        views
    }

    fn write_statement(
        &self,
        out: &mut String,
        sp: &StatementPlan<'_>,
        groups: &BTreeMap<String, Vec<String>>,
    ) {
        let st = sp.statement;
        let _ = write!(
            out,
            "  {} = {} {} {}",
            sp.id,
            st.method.http_method(),
            st.resource.name,
            sp.template.raw
        );
        let mut flags = Vec::new();
        if st.hidden {
            flags.push("hidden".to_string());
        }
        if st.ignore_errors {
            flags.push("ignore-errors".to_string());
        }
        if let Some(target) = &st.in_target {
            flags.push(format!("in {}", target.path.join(".")));
        }
        if !st.only.is_empty() {
            flags.push("only".to_string());
        }
        if !flags.is_empty() {
            let _ = write!(out, " [{}]", flags.join(", "));
        }
        out.push('\n');
        let _ = write!(out, "    timeout {} ms", sp.timeout_ms);
        if let Some(cc) = sp.cache.header_value() {
            let _ = write!(out, ", cache {cc}");
        }
        out.push('\n');
        for d in &sp.dependencies {
            let target = self.statements[d.target].id;
            let _ = match &d.kind {
                DependencyKind::Param(p) => writeln!(out, "    after {target} (chained into {p})"),
                DependencyKind::Header(h) => {
                    writeln!(out, "    after {target} (chained into header {h})")
                }
                DependencyKind::DependsOn => writeln!(out, "    after {target} (depends-on)"),
            };
        }
        if let Some(t) = sp.item_by_item {
            let target = self.statements[t].id;
            let _ = writeln!(
                out,
                "    item by item: each of its items starts when its item of {target} ends"
            );
        }
        match &sp.items {
            None => {
                let _ = writeln!(out, "    calls decided at run time by chained values:");
                if let Some(with) = &st.with {
                    for p in &with.params {
                        let _ = write!(out, "      {} = {}", p.key.name, p.value);
                        for f in &p.fns {
                            let _ = write!(out, " -> {}", f.as_str());
                        }
                        out.push('\n');
                    }
                }
            }
            Some(items) => {
                let leaves = items.leaves();
                let _ = writeln!(
                    out,
                    "    {} ({} call{})",
                    shape(items),
                    leaves.len(),
                    plural(leaves.len())
                );
                for item in leaves {
                    let _ = match item {
                        Item::Call(c) => {
                            let c = sp.explained(c, &self.options);
                            let mut line = format!(
                                "      #{} {} {}",
                                c.key().fingerprint(),
                                c.request.method,
                                c.request.url
                            );
                            if let Some(body) = &c.request.body {
                                let _ = write!(line, " {body}");
                            }
                            let shared = groups
                                .get(&c.key().fingerprint())
                                .is_some_and(|users| users.len() > 1);
                            if shared {
                                line.push_str(" (shared)");
                            }
                            writeln!(out, "{line}")
                        }
                        Item::Skip(message) => writeln!(out, "      skipped: {message}"),
                    };
                }
            }
        }
    }

    /// Request key fingerprint -> the statement items that use it (`id` or `id[i]`).
    fn dedupe_groups(&self) -> BTreeMap<String, Vec<String>> {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for sp in &self.statements {
            let Some(items) = &sp.items else { continue };
            let leaves = items.leaves();
            let multiplexed = items.is_multiplexed();
            for (i, item) in leaves.into_iter().enumerate() {
                if let Item::Call(c) = item {
                    let c = sp.explained(c, &self.options);
                    let user = if multiplexed {
                        format!("{}[{i}]", sp.id)
                    } else {
                        sp.id.to_string()
                    };
                    groups.entry(c.key().fingerprint()).or_default().push(user);
                }
            }
        }
        groups
    }

    /// The JSON form.
    pub fn to_json(&self) -> Json {
        let statements: Vec<Json> = self
            .statements
            .iter()
            .map(|sp| {
                let st = sp.statement;
                let deps: Vec<Json> = sp
                    .dependencies
                    .iter()
                    .map(|d| {
                        let target = self.statements[d.target].id;
                        match &d.kind {
                            DependencyKind::Param(p) => json!({"target": target, "param": p}),
                            DependencyKind::Header(h) => json!({"target": target, "header": h}),
                            DependencyKind::DependsOn => {
                                json!({"target": target, "dependsOn": true})
                            }
                        }
                    })
                    .collect();
                let calls = sp.items.as_ref().map(|items| {
                    items.map(&mut |item| match item {
                        Item::Call(c) => {
                            let c = sp.explained(c, &self.options);
                            call_json(&c)
                        }
                        Item::Skip(message) => json!({"skipped": message}),
                    })
                });
                json!({
                    "id": sp.id,
                    "method": st.method.http_method(),
                    "resource": st.resource.name,
                    "url": sp.template.raw,
                    "wave": sp.wave,
                    "timeoutMs": sp.timeout_ms,
                    "cacheControl": sp.cache.header_value(),
                    "dependsOn": deps,
                    "itemByItem": sp.item_by_item.map(|t| self.statements[t].id),
                    "multiplexed": sp.items.as_ref().map(Tree::is_multiplexed),
                    "calls": calls.map(|t| tree_json(&t)),
                    "hidden": st.hidden,
                    "ignoreErrors": st.ignore_errors,
                })
            })
            .collect();
        let waves: Vec<Vec<&str>> = self
            .waves
            .iter()
            .map(|w| w.iter().map(|&i| self.statements[i].id).collect())
            .collect();
        let dedupe: Vec<Json> = self
            .dedupe_groups()
            .into_iter()
            .filter(|(_, users)| users.len() > 1)
            .map(|(key, users)| json!({"key": key, "items": users}))
            .collect();
        let mut out = json!({
            "deadlineMs": self.deadline_ms,
            "waves": waves,
            "statements": statements,
            "dedupe": dedupe,
            "text": self.to_text(),
        });
        let batches: Vec<Json> = self
            .batch_views()
            .iter()
            .map(|view| {
                let g = view.group;
                let keys: Vec<&Json> = view.keys.iter().map(|(k, _)| *k).collect();
                let chunks: Vec<Json> = g
                    .chunks(&keys)
                    .iter()
                    .map(|chunk| {
                        let (url, body) = g.render(chunk);
                        json!({"method": g.spec.method, "url": url, "body": body, "keys": chunk})
                    })
                    .collect();
                json!({
                    "resource": g.resource,
                    "request": g.spec.request_line(),
                    "keys": view.keys.iter().map(|(k, users)| json!({"key": k, "items": users})).collect::<Vec<_>>(),
                    "chunks": chunks,
                })
            })
            .collect();
        if !batches.is_empty() {
            out["batches"] = Json::Array(batches);
        }
        out
    }
}

fn tree_json(tree: &Tree<Json>) -> Json {
    match tree {
        Tree::Leaf(j) => j.clone(),
        Tree::Group(items) => Json::Array(items.iter().map(tree_json).collect()),
    }
}

/// `single call`, `multiplexed 3`, `multiplexed [2, 1]`.
fn shape(tree: &Tree<Item>) -> String {
    fn counts(tree: &Tree<Item>) -> String {
        match tree {
            Tree::Leaf(_) => "1".into(),
            Tree::Group(items) if items.iter().all(|i| matches!(i, Tree::Leaf(_))) => {
                items.len().to_string()
            }
            Tree::Group(items) => format!(
                "[{}]",
                items.iter().map(counts).collect::<Vec<_>>().join(", ")
            ),
        }
    }
    match tree {
        Tree::Leaf(_) => "single call".into(),
        group => format!("multiplexed {}", counts(group)),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One call of the JSON form: its key fingerprint, method, URL, body and batch key.
fn call_json(c: &Call) -> Json {
    match &c.batch {
        Some(b) => json!({
            "key": c.key().fingerprint(),
            "method": c.request.method,
            "url": c.request.url,
            "body": c.request.body,
            "batchKey": &b.key,
        }),
        None => json!({
            "key": c.key().fingerprint(),
            "method": c.request.method,
            "url": c.request.url,
            "body": c.request.body,
        }),
    }
}
