//! From per-call answers to restQL's response: `only` filters, `in` aggregation, `hidden`,
//! details and results, the aggregated status and Cache-Control (spec §14–§21).

use std::rc::Rc;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value as Json, json};

use crate::error::{Error, ErrorCode, Phase};
use crate::exec::{Answer, Body};
use crate::plan::{CacheDirective, Plan, Tree};
use crate::regex::Regex;
use crate::syntax::ast::{Filter, FilterFn, Value, ValueKind};

/// A compiled `only` clause: a tree of paths; later entries override earlier ones on the same
/// prefix (restQL).
#[derive(Debug, Clone, Default)]
pub(crate) struct OnlyTree {
    star: bool,
    /// Keep the whole value here (a listed path ends at this node).
    leaf: bool,
    fns: Vec<OnlyFn>,
    children: Vec<(String, OnlyTree)>,
}

#[derive(Debug, Clone)]
enum OnlyFn {
    Matches(Regex),
    FilterByRegex { path: Vec<String>, regex: Regex },
}

/// Compile the `only` clause; variables in arguments are substituted now. `None` when there is
/// no clause.
pub(crate) fn compile_only(
    filters: &[Filter],
    vars: &Map<String, Json>,
    source: &str,
) -> Result<Option<OnlyTree>, Error> {
    if filters.is_empty() {
        return Ok(None);
    }
    let mut root = OnlyTree::default();
    for filter in filters {
        let mut fns = Vec::new();
        for f in &filter.fns {
            match f {
                FilterFn::Matches(arg) => {
                    let Some(pattern) = argument(arg, vars) else {
                        return Err(Error::new(
                            ErrorCode::MissingVariable,
                            Phase::Plan,
                            "the matches argument is a variable that was not given",
                            arg.span,
                            source,
                        ));
                    };
                    fns.push(OnlyFn::Matches(regex(&pattern, arg, source)?));
                }
                FilterFn::FilterByRegex { path, regex: re } => {
                    // An unresolved argument makes the filter the identity (restQL).
                    if let (Some(p), Some(r)) = (argument(path, vars), argument(re, vars)) {
                        fns.push(OnlyFn::FilterByRegex {
                            path: p.split('.').map(str::to_string).collect(),
                            regex: regex(&r, re, source)?,
                        });
                    }
                }
            }
        }
        root.insert(&filter.path, fns);
    }
    Ok(Some(root))
}

fn argument(v: &Value, vars: &Map<String, Json>) -> Option<String> {
    match &v.kind {
        ValueKind::Str(s) => Some(s.clone()),
        ValueKind::Var(name) => match vars.get(name)? {
            Json::String(s) => Some(s.clone()),
            Json::Null => None,
            other => Some(other.to_string()),
        },
        _ => None,
    }
}

fn regex(pattern: &str, at: &Value, source: &str) -> Result<Regex, Error> {
    crate::regex::compile(pattern).map_err(|e| {
        Error::new(
            ErrorCode::InvalidRegex,
            Phase::Plan,
            format!("invalid regex '{pattern}': {e}"),
            at.span,
            source,
        )
    })
}

impl OnlyTree {
    fn insert(&mut self, path: &[String], fns: Vec<OnlyFn>) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if first == "*" {
            self.star = true;
            return;
        }
        let child = match self.children.iter().position(|(k, _)| k == first) {
            Some(i) => &mut self.children[i].1,
            None => {
                self.children.push((first.clone(), OnlyTree::default()));
                let last = self.children.len() - 1;
                &mut self.children[last].1
            }
        };
        if rest.is_empty() {
            *child = OnlyTree {
                leaf: true,
                fns,
                ..OnlyTree::default()
            };
        } else {
            if child.leaf {
                *child = OnlyTree::default();
            }
            child.insert(rest, fns);
        }
    }

    /// Filter a parsed body; `None` when the whole value is removed.
    pub(crate) fn apply(&self, value: &Json) -> Json {
        match value {
            Json::Array(_) | Json::Object(_) => self
                .filter(value, false)
                .unwrap_or(Json::Object(Map::new())),
            other => other.clone(),
        }
    }

    fn filter(&self, value: &Json, inherited_star: bool) -> Option<Json> {
        let star = self.star || inherited_star;
        match value {
            Json::Array(items) => Some(Json::Array(
                items.iter().filter_map(|i| self.filter(i, star)).collect(),
            )),
            Json::Object(map) => {
                let mut out = Map::new();
                if star {
                    for (k, v) in map {
                        if !self.children.iter().any(|(name, _)| name == k) {
                            out.insert(k.clone(), v.clone());
                        }
                    }
                }
                for (name, child) in &self.children {
                    if let Some(v) = map.get(name)
                        && let Some(kept) = child.select(v, star)
                    {
                        out.insert(name.clone(), kept);
                    }
                }
                Some(Json::Object(out))
            }
            _ if star => Some(value.clone()),
            _ => None,
        }
    }

    fn select(&self, value: &Json, star: bool) -> Option<Json> {
        let mut v = if self.leaf {
            value.clone()
        } else {
            self.filter(value, star)?
        };
        for f in &self.fns {
            v = f.apply(v)?;
        }
        Some(v)
    }
}

impl OnlyFn {
    fn apply(&self, value: Json) -> Option<Json> {
        match self {
            OnlyFn::Matches(re) => match value {
                Json::Array(items) => {
                    let kept: Vec<Json> = items
                        .into_iter()
                        .filter(|i| re.is_match(&match_text(i)))
                        .collect();
                    (!kept.is_empty()).then_some(Json::Array(kept))
                }
                other => re.is_match(&match_text(&other)).then_some(other),
            },
            OnlyFn::FilterByRegex { path, regex } => match value {
                Json::Array(items) => Some(Json::Array(
                    items
                        .into_iter()
                        .filter(|i| {
                            let mut at = Some(i);
                            for key in path {
                                at = at.and_then(|v| v.get(key));
                            }
                            at.is_some_and(|v| regex.is_match(&match_text(v)))
                        })
                        .collect(),
                )),
                other => Some(other),
            },
        }
    }
}

/// restQL's text form for matching: numbers with two decimals, objects as sorted compact JSON.
fn match_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Number(n) => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
        other => other.to_string(),
    }
}

/// The response of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The aggregated HTTP status (restQL's rule), or the status of a query error.
    pub status: u16,
    /// `max-age=A, s-maxage=S` / `no-cache`; `None` when nothing applies or status >= 400.
    pub cache_control: Option<String>,
    /// `<id>-<Header>` copies of upstream headers of successful single statements (restQL).
    pub headers: Vec<(String, String)>,
    /// `{id: {details, result}}`, or `{"error": message}` for a query error.
    pub body: ResponseBody,
    pub stats: Stats,
    /// Every call the statements made, in the order the answers came.
    pub trace: Vec<crate::exec::CallTrace>,
    /// A whole-query failure (timeout, limit), with its code.
    pub error: Option<Error>,
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Upstream calls sent.
    pub calls: usize,
    /// Calls not sent because an identical one was in flight or done.
    pub deduped: usize,
    /// Calls merged into batch requests (later issue; always 0).
    pub batched: usize,
    /// Calls answered from a cache (later issue; always 0).
    pub cache_hits: usize,
    pub duration_ms: u64,
}

/// Build the response from every statement's answers (all statements have one).
pub(crate) fn shape(
    plan: &Plan<'_>,
    results: Vec<Tree<usize>>,
    answers: Vec<Answer>,
    stats: Stats,
) -> Outcome {
    let all = &answers[..];
    // Status, Cache-Control, header copies and details, from visible statements only.
    let mut headers = Vec::new();
    let mut status = 200;
    let mut cache = CacheDirective::default();
    let mut details = Vec::with_capacity(results.len());
    let multiplexed: Vec<bool> = results.iter().map(Tree::is_multiplexed).collect();
    for (sp, tree) in plan.statements.iter().zip(&results) {
        if sp.statement.hidden {
            details.push(None);
            continue;
        }
        let ignore = sp.statement.ignore_errors;
        tree.for_each(&mut |&a| {
            let a = &all[a];
            status = status.max(if ignore { 200 } else { normalise(a.status) });
            let directive = if a.is_call() {
                sp.cache.merge(a.cache)
            } else {
                CacheDirective::default()
            };
            if !directive.is_empty() {
                cache = cache.merge(directive);
            }
        });
        if let Tree::Leaf(a) = tree
            && all[*a].success()
        {
            for (name, value) in all[*a].headers.iter() {
                headers.push((format!("{}-{}", sp.id, name), value.clone()));
            }
        }
        details.push(Some(details_of(tree, all, ignore, plan.options.debug)));
    }

    // `only`, per item; unfiltered bodies stay shared with the answers until written.
    let mut views: Vec<Option<Tree<ResultItem>>> = results
        .into_iter()
        .zip(&plan.statements)
        .map(|(tree, sp)| result_of(&tree, all, sp.only.as_ref()))
        .collect();

    // `in`, in query order; the inserted statement loses its result.
    for (i, sp) in plan.statements.iter().enumerate() {
        let Some(target) = &sp.statement.in_target else {
            continue;
        };
        let Some((name, path)) = target.path.split_first() else {
            continue;
        };
        let Some(t) = plan.statements.iter().position(|s| s.id == name) else {
            continue;
        };
        if t == i || views[t].is_none() {
            continue;
        }
        let Some(inserted) = views[i].take() else {
            continue;
        };
        if let Some(dest) = views[t].take() {
            let mut dest = tree_to_json(&dest, all);
            insert_in(
                &mut dest,
                path,
                &tree_to_json(&inserted, all),
                multiplexed[i],
            );
            views[t] = Some(Tree::Leaf(ResultItem::Owned(dest)));
        }
    }

    let mut statements = Vec::with_capacity(plan.statements.len());
    for ((sp, details), result) in plan.statements.iter().zip(details).zip(views) {
        if let Some(details) = details {
            statements.push(StatementView {
                id: sp.id.to_string(),
                details,
                result,
            });
        }
    }
    // restQL writes the statements sorted by identifier.
    statements.sort_by(|a, b| a.id.cmp(&b.id));
    Outcome {
        status,
        cache_control: if status >= 400 {
            None
        } else {
            cache.header_value()
        },
        headers,
        body: ResponseBody(BodyKind::Statements(Rc::new(answers), statements)),
        stats,
        trace: Vec::new(),
        error: None,
    }
}

/// The response body: built from the answers without copying their bodies, written once by
/// [`ResponseBody::to_text`] (or materialised by [`ResponseBody::to_json`]).
#[derive(Debug, Clone)]
pub struct ResponseBody(BodyKind);

#[derive(Debug, Clone)]
enum BodyKind {
    /// `{"error": message}`.
    Error(Json),
    /// Visible statements, sorted by identifier, and the run's answers their results index.
    Statements(Rc<Vec<Answer>>, Vec<StatementView>),
}

#[derive(Debug, Clone)]
struct StatementView {
    id: String,
    details: Tree<Detail>,
    result: Option<Tree<ResultItem>>,
}

/// One item's `details`.
#[derive(Debug, Clone)]
struct Detail {
    status: u16,
    ignore: bool,
    debug: Option<Json>,
}

/// One item's `result`.
#[derive(Debug, Clone)]
enum ResultItem {
    /// Filtered or aggregated.
    Owned(Json),
    /// The answer's body as it came (JSON, or text written as a JSON string): an index into
    /// the run's answers.
    Shared(usize),
    /// An item without a body inside a multiplexed result.
    Null,
}

impl ResponseBody {
    /// restQL's error body `{"error": message}`.
    pub(crate) fn error(message: &str) -> Self {
        ResponseBody(BodyKind::Error(json!({ "error": message })))
    }

    /// The body as a JSON value.
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or(Json::Null)
    }

    /// The body as JSON text, written straight from the answers.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl PartialEq for ResponseBody {
    fn eq(&self, other: &Self) -> bool {
        self.to_json() == other.to_json()
    }
}

impl PartialEq<Json> for ResponseBody {
    fn eq(&self, other: &Json) -> bool {
        self.to_json() == *other
    }
}

impl Serialize for ResponseBody {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.without(&|_| false).serialize(s)
    }
}

/// How a part's `details` are written: as restQL's objects, or, for the package's JS (which
/// makes the objects), each detail without debug output as one number (see
/// [`ResponseBody::compact_without`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum DetailsForm {
    Full,
    Compact,
}

impl ResponseBody {
    /// The body with a `0` in place of each statement `handed_out` names: a statement whose
    /// part was written and handed out while the run went on (see [`StatementSink`]).
    pub fn without<'a>(&'a self, handed_out: &'a dyn Fn(&str) -> bool) -> impl Serialize + 'a {
        self.written(handed_out, DetailsForm::Full)
    }

    /// [`ResponseBody::without`], each detail that has no debug output written as a number:
    /// its status, plus 1000 under `ignore-errors`; `success` and `metadata` follow from
    /// those. For a host that makes the detail objects itself: a multiplexed statement has
    /// one per item, and parsing them costs more than making them.
    pub fn compact_without<'a>(
        &'a self,
        handed_out: &'a dyn Fn(&str) -> bool,
    ) -> impl Serialize + 'a {
        self.written(handed_out, DetailsForm::Compact)
    }

    fn written<'a>(
        &'a self,
        handed_out: &'a dyn Fn(&str) -> bool,
        form: DetailsForm,
    ) -> impl Serialize + 'a {
        struct Without<'a>(&'a ResponseBody, &'a dyn Fn(&str) -> bool, DetailsForm);
        impl Serialize for Without<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match &(self.0).0 {
                    BodyKind::Error(j) => j.serialize(s),
                    BodyKind::Statements(all, statements) => {
                        let mut m = s.serialize_map(Some(statements.len()))?;
                        for st in statements {
                            if (self.1)(&st.id) {
                                m.serialize_entry(&st.id, &0)?;
                            } else {
                                m.serialize_entry(&st.id, &ViewOut(st, all, self.2))?;
                            }
                        }
                        m.end()
                    }
                }
            }
        }
        Without(self, handed_out, form)
    }
}

/// Called with a statement's identifier and its part of the body (`{details, result}`), once
/// it has ended and nothing left in the run can change that part, while the run waits for
/// other statements' calls: the part is written in the run's idle time rather than after its
/// last answer.
pub type StatementSink<'a> = &'a dyn Fn(&str, &StatementPart<'_>);

/// A statement's part of the body, to be written by the sink it is handed to.
#[derive(Debug)]
pub struct StatementPart<'r> {
    view: StatementView,
    answers: &'r [Answer],
}

impl StatementPart<'_> {
    /// The part's JSON text, as the body holds it.
    pub fn text(&self) -> String {
        self.written(DetailsForm::Full)
    }

    /// The part's JSON text with its details as [`ResponseBody::compact_without`] writes them.
    pub fn compact_text(&self) -> String {
        self.written(DetailsForm::Compact)
    }

    fn written(&self, form: DetailsForm) -> String {
        serde_json::to_string(&ViewOut(&self.view, self.answers, form)).unwrap_or_default()
    }
}

/// Whether statement `i`'s part of the body is final when it ends: visible, and in no `in`
/// (which moves a result into another statement's).
pub(crate) fn final_at_end(plan: &Plan<'_>, i: usize) -> bool {
    let sp = &plan.statements[i];
    !sp.statement.hidden
        && sp.statement.in_target.is_none()
        && !plan.statements.iter().any(|other| {
            other
                .statement
                .in_target
                .as_ref()
                .and_then(|t| t.path.first())
                .is_some_and(|name| *name == sp.id)
        })
}

/// Statement `i`'s part of the body, as [`shape`] makes it.
pub(crate) fn statement_part<'r>(
    plan: &Plan<'_>,
    i: usize,
    tree: &Tree<usize>,
    all: &'r [Answer],
) -> StatementPart<'r> {
    let sp = &plan.statements[i];
    StatementPart {
        view: StatementView {
            id: String::new(),
            details: details_of(tree, all, sp.statement.ignore_errors, plan.options.debug),
            result: result_of(tree, all, sp.only.as_ref()),
        },
        answers: all,
    }
}

fn details_of(tree: &Tree<usize>, all: &[Answer], ignore: bool, debug: bool) -> Tree<Detail> {
    tree.map(&mut |&a| Detail {
        status: all[a].status,
        ignore,
        debug: debug.then(|| debug_of(&all[a])).flatten(),
    })
}

/// A statement's part of the body, over the answers its results index.
struct ViewOut<'a>(&'a StatementView, &'a [Answer], DetailsForm);

impl Serialize for ViewOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self.2 {
            DetailsForm::Full => m.serialize_entry("details", &self.0.details)?,
            DetailsForm::Compact => {
                m.serialize_entry("details", &CompactDetails(&self.0.details))?
            }
        }
        if let Some(result) = &self.0.result {
            m.serialize_entry("result", &ResultOut(result, self.1))?;
        }
        m.end()
    }
}

/// Details with each one that has no debug output as a number: its status, plus 1000 under
/// `ignore-errors` (HTTP statuses have three digits; any other is written in full).
struct CompactDetails<'a>(&'a Tree<Detail>);

impl Serialize for CompactDetails<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Tree::Leaf(d) if d.debug.is_none() && d.status < 1000 => {
                s.serialize_u16(d.status + if d.ignore { 1000 } else { 0 })
            }
            Tree::Leaf(d) => d.serialize(s),
            Tree::Group(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&CompactDetails(item))?;
                }
                seq.end()
            }
        }
    }
}

/// A tree of results, over the answers they index.
struct ResultOut<'a>(&'a Tree<ResultItem>, &'a [Answer]);

impl Serialize for ResultOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Tree::Leaf(item) => item.write(self.1, s),
            Tree::Group(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&ResultOut(item, self.1))?;
                }
                seq.end()
            }
        }
    }
}

impl Serialize for Detail {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Metadata(bool);
        impl Serialize for Metadata {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(usize::from(self.0)))?;
                if self.0 {
                    m.serialize_entry("ignore-errors", "ignore")?;
                }
                m.end()
            }
        }
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("status", &self.status)?;
        m.serialize_entry("success", &(200..400).contains(&self.status))?;
        m.serialize_entry("metadata", &Metadata(self.ignore))?;
        if let Some(debug) = &self.debug {
            m.serialize_entry("debug", debug)?;
        }
        m.end()
    }
}

impl ResultItem {
    fn write<S: Serializer>(&self, all: &[Answer], s: S) -> Result<S::Ok, S::Error> {
        match self {
            ResultItem::Owned(j) => j.serialize(s),
            ResultItem::Shared(a) => match &all[*a].body {
                Body::Json(j) => j.serialize(s),
                Body::Raw(raw) => raw.serialize(s),
                Body::Text(t) => s.serialize_str(t),
                Body::Empty => s.serialize_unit(),
            },
            ResultItem::Null => s.serialize_unit(),
        }
    }
}

impl<T: Serialize> Serialize for Tree<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Tree::Leaf(t) => t.serialize(s),
            Tree::Group(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

fn tree_to_json(tree: &Tree<ResultItem>, all: &[Answer]) -> Json {
    serde_json::to_value(ResultOut(tree, all)).unwrap_or(Json::Null)
}

/// restQL's status normalisation: 201 and 204 count as 200; no status counts as 500.
fn normalise(status: u16) -> u16 {
    match status {
        201 | 204 => 200,
        0 => 500,
        s => s,
    }
}

/// The `result` of a statement: an item's body (filtered), or an array parallel to the
/// multiplexing, omitted when every item has an empty body.
fn result_of(
    tree: &Tree<usize>,
    all: &[Answer],
    only: Option<&OnlyTree>,
) -> Option<Tree<ResultItem>> {
    let mut any = false;
    tree.for_each(&mut |&a| any |= !matches!(all[a].body, Body::Empty));
    any.then(|| {
        tree.map(&mut |&a| {
            let answer = &all[a];
            match (&answer.body, only) {
                (Body::Empty, _) => ResultItem::Null,
                (Body::Json(_) | Body::Raw(_), Some(o)) => match answer.json() {
                    Some(j) => ResultItem::Owned(o.apply(&j)),
                    None => ResultItem::Shared(a),
                },
                _ => ResultItem::Shared(a),
            }
        })
    })
}

/// `details.debug` of a call: what was sent and what came back.
fn debug_of(a: &Answer) -> Option<Json> {
    let call = a.call.as_ref()?;
    let mut dbg = Map::new();
    let r = &call.request;
    dbg.insert("method".into(), json!(r.method));
    dbg.insert("url".into(), json!(r.url));
    let headers = |hs: &[(String, String)]| -> Json {
        Json::Object(hs.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
    };
    if !r.headers.is_empty() {
        dbg.insert("request-headers".into(), headers(&r.headers));
    }
    if !a.headers.is_empty() {
        dbg.insert("response-headers".into(), headers(&a.headers));
    }
    if !call.params.is_empty() {
        dbg.insert("params".into(), Json::Object(call.params.clone()));
    }
    if let Some(body) = &r.body {
        let b = serde_json::from_str::<Json>(body).unwrap_or_else(|_| json!(body));
        dbg.insert("request-body".into(), b);
    }
    dbg.insert("response-time".into(), json!(a.response_time_ms));
    Some(Json::Object(dbg))
}

/// Put `value` at `path` inside `dest`. A list destination takes a multiplexed value element by
/// element, a single value in every element.
fn insert_in(dest: &mut Json, path: &[String], value: &Json, multiplexed: bool) {
    match dest {
        Json::Array(items) if multiplexed => {
            if let Json::Array(values) = value {
                for (item, v) in items.iter_mut().zip(values) {
                    insert_in(item, path, v, false);
                }
            }
        }
        Json::Array(items) => items
            .iter_mut()
            .for_each(|item| insert_in(item, path, value, false)),
        _ => set_path(dest, path, value),
    }
}

fn set_path(dest: &mut Json, path: &[String], value: &Json) {
    let Some((first, rest)) = path.split_first() else {
        // `in a` (no path): merge into the whole result (restQL crashes with 500).
        merge_at(dest, value);
        return;
    };
    let Json::Object(map) = dest else {
        return;
    };
    let slot = map.entry(first.clone()).or_insert(Json::Null);
    if rest.is_empty() {
        merge_at(slot, value);
    } else {
        if slot.is_null() {
            *slot = Json::Object(Map::new());
        }
        set_path(slot, rest, value);
    }
}

/// An empty slot takes the value; objects and lists deep-merge; other conflicts keep the slot.
fn merge_at(slot: &mut Json, value: &Json) {
    match (&mut *slot, value) {
        (Json::Null, v) => *slot = v.clone(),
        (Json::Object(_), Json::Object(_)) | (Json::Array(_), Json::Array(_)) => {
            deep_merge(slot, value)
        }
        _ => {}
    }
}

fn deep_merge(a: &mut Json, b: &Json) {
    match (a, b) {
        (Json::Object(am), Json::Object(bm)) => {
            for (k, bv) in bm {
                match am.get_mut(k) {
                    Some(av) => deep_merge(av, bv),
                    None => {
                        am.insert(k.clone(), bv.clone());
                    }
                }
            }
        }
        (Json::Array(aa), Json::Array(ba)) => {
            for (i, bv) in ba.iter().enumerate() {
                match aa.get_mut(i) {
                    Some(av) => deep_merge(av, bv),
                    None => aa.push(bv.clone()),
                }
            }
        }
        (a, b) => *a = b.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;

    fn filter(path: &str, fns: Vec<FilterFn>) -> Filter {
        Filter {
            path: path.split('.').map(str::to_string).collect(),
            fns,
            span: Span::default(),
        }
    }

    fn s(text: &str) -> Value {
        Value::new(ValueKind::Str(text.into()), Span::default())
    }

    fn only(filters: Vec<Filter>) -> OnlyTree {
        match compile_only(&filters, &Map::new(), "") {
            Ok(Some(t)) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_keeps_nested_paths_and_matches() {
        let t = only(vec![
            filter("id", vec![]),
            filter("terrain.north", vec![]),
            filter("residents", vec![FilterFn::Matches(s("^j"))]),
        ]);
        let body = json!({"id": 1, "x": 2, "terrain": {"north": "jungle", "south": "r"},
            "residents": ["john", "janne", "kyle"]});
        assert_eq!(
            t.apply(&body),
            json!({"id": 1, "terrain": {"north": "jungle"}, "residents": ["john", "janne"]})
        );
    }

    #[test]
    fn arrays_are_transparent_and_later_entries_override() {
        let t = only(vec![
            filter("skills.name", vec![]),
            filter("skills", vec![]),
        ]);
        let body = json!({"skills": [{"id": 1, "name": "fly"}]});
        assert_eq!(t.apply(&body), body);
        let t = only(vec![
            filter("skills", vec![]),
            filter("skills.name", vec![]),
        ]);
        assert_eq!(t.apply(&body), json!({"skills": [{"name": "fly"}]}));
        let t = only(vec![filter("items.x", vec![])]);
        assert_eq!(
            t.apply(&json!({"items": [[{"x": 1, "y": 2}]]})),
            json!({"items": [[{"x": 1}]]})
        );
    }

    #[test]
    fn numbers_match_with_two_decimals_and_empty_matches_remove_the_field() {
        let t = only(vec![
            filter("num", vec![FilterFn::Matches(s("2"))]),
            filter("nick", vec![FilterFn::Matches(s("^zz"))]),
            filter("score", vec![FilterFn::Matches(s("10.50"))]),
        ]);
        assert_eq!(
            t.apply(&json!({"num": [1, 22, 3], "nick": ["a"], "score": 10.5})),
            json!({"num": [22], "score": 10.5})
        );
    }

    #[test]
    fn star_keeps_everything_and_filters_listed_paths() {
        let t = only(vec![
            filter("*", vec![]),
            filter("name", vec![FilterFn::Matches(s("^zz"))]),
        ]);
        assert_eq!(t.apply(&json!({"name": "bat", "a": 1})), json!({"a": 1}));
        let t = only(vec![
            filter("profile.tags", vec![FilterFn::Matches(s("a"))]),
            filter("*", vec![]),
        ]);
        assert_eq!(
            t.apply(&json!({"x": 1, "profile": {"tags": ["a", "b"], "age": 3}})),
            json!({"x": 1, "profile": {"tags": ["a"], "age": 3}})
        );
    }

    #[test]
    fn filter_by_regex_keeps_matching_elements() {
        let t = only(vec![filter(
            "skills",
            vec![FilterFn::FilterByRegex {
                path: s("name"),
                regex: s("^f"),
            }],
        )]);
        assert_eq!(
            t.apply(&json!({"skills": [{"name": "fly"}, {"name": "punch"}]})),
            json!({"skills": [{"name": "fly"}]})
        );
        assert_eq!(
            t.apply(&json!({"skills": [{"name": "punch"}]})),
            json!({"skills": []})
        );
    }

    #[test]
    fn in_deep_merges_and_creates_missing_objects() {
        let mut dest = json!({"sidekick": {"old": true, "name": "x"}});
        insert_in(
            &mut dest,
            &["sidekick".into()],
            &json!({"id": 10, "name": "Robin"}),
            false,
        );
        assert_eq!(
            dest,
            json!({"sidekick": {"old": true, "name": "Robin", "id": 10}})
        );
        let mut dest = json!({"a": 1});
        insert_in(
            &mut dest,
            &["extra".into(), "deep".into()],
            &json!(5),
            false,
        );
        assert_eq!(dest, json!({"a": 1, "extra": {"deep": 5}}));
        let mut dest = json!([{"id": 1}, {"id": 2}]);
        insert_in(&mut dest, &["sk".into()], &json!([5, 6]), true);
        assert_eq!(dest, json!([{"id": 1, "sk": 5}, {"id": 2, "sk": 6}]));
    }
}
