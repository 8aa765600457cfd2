//! Execution of a [`Plan`] over a [`Transport`]: each statement starts as soon as the
//! statements it waits for have ended (one that follows a multiplexed statement item by item
//! starts its item `k` as soon as item `k` there has ended), identical requests go out once,
//! every call races its statement timeout and the whole run races the query deadline. Every
//! statement ends with a status.

pub(crate) mod cache;
mod chain;
pub(crate) mod dispatch;
pub(crate) mod shape;
mod shared;
pub mod trace;

use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::rc::Rc;

use futures::FutureExt;
use futures::future::{Either, LocalBoxFuture, select};
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::Value as Json;
use serde_json::value::RawValue;

use crate::error::{Error, ErrorCode, Phase};
use crate::http::{Clock, Response, Transport, TransportError, header_value};
use crate::plan::values::{ChainSource, Val};
use crate::plan::{
    CacheDirective, Call, DependencyKind, Item, Plan, Tree, build_items, too_many_calls,
};
pub use cache::{CacheConfig, storable_for};
use dispatch::{Dispatcher, Fetch, Fetched, ItemBody, ItemReply, Reply, Served};
pub use shape::{Outcome, ResponseBody, StatementPart, StatementSink, Stats};
use shared::Shared;
pub use trace::CallTrace;

/// What one multiplexed item got: an upstream answer, a timeout, a transport error or a skip.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Body,
    pub(crate) headers: dispatch::Headers,
    /// From the upstream `Cache-Control`.
    pub(crate) cache: CacheDirective,
    /// The call made; `None` for skips.
    pub(crate) call: Option<Rc<Call>>,
    pub(crate) response_time_ms: u64,
}

#[derive(Debug)]
pub(crate) enum Body {
    Empty,
    Json(Json),
    /// Valid JSON text nobody needed parsed (no filter or `in` reads it): written into the
    /// response as it came; chains read it as text.
    Raw(Box<RawValue>),
    /// Not JSON: reported as a JSON string, filtered by nothing, chained from by nothing.
    Text(String),
}

impl Answer {
    pub(crate) fn success(&self) -> bool {
        (200..400).contains(&self.status)
    }

    pub(crate) fn is_call(&self) -> bool {
        self.call.is_some()
    }

    fn synthetic(status: u16, message: String, call: Option<Rc<Call>>, time: u64) -> Answer {
        Answer {
            status,
            body: Body::Text(message),
            headers: dispatch::no_headers(),
            cache: CacheDirective::default(),
            call,
            response_time_ms: time,
        }
    }

    fn skip(message: String) -> Answer {
        Answer::synthetic(400, message, None, 0)
    }

    fn from_response(
        response: Response,
        call: Rc<Call>,
        time: u64,
        limit: usize,
        parse: bool,
    ) -> Answer {
        if response.body.len() > limit {
            return Answer::synthetic(502, too_large(limit), Some(call), time);
        }
        // Read as text: one JSON reader (`from_str`) serves every body, which keeps a second
        // copy of serde_json's reader out of the wasm module.
        let body = if response.body.is_empty() {
            Body::Empty
        } else {
            match String::from_utf8(response.body) {
                Ok(text) if parse => match serde_json::from_str::<Json>(&text) {
                    Ok(j) => Body::Json(j),
                    Err(_) => Body::Text(text),
                },
                // Checked once, not built: written out and chained from as text.
                Ok(text) => match serde_json::from_str::<Box<RawValue>>(&text) {
                    Ok(raw) => Body::Raw(raw),
                    Err(_) => Body::Text(text),
                },
                Err(e) => Body::Text(String::from_utf8_lossy(e.as_bytes()).into_owned()),
            }
        };
        Answer {
            status: response.status,
            cache: header_value(&response.headers, "cache-control")
                .map(CacheDirective::parse_header)
                .unwrap_or_default(),
            body,
            headers: dispatch::Headers::Own(response.headers),
            call: Some(call),
            response_time_ms: time,
        }
    }

    /// A batch item's answer, shaped like a single call's: raw unless `parse`.
    fn from_item(reply: ItemReply, call: Rc<Call>, time: u64, parse: bool) -> Answer {
        Answer {
            status: reply.status,
            cache: header_value(&reply.headers, "cache-control")
                .map(CacheDirective::parse_header)
                .unwrap_or_default(),
            body: match reply.body {
                ItemBody::Raw(raw) if parse => match serde_json::from_str(raw.get()) {
                    Ok(j) => Body::Json(j),
                    Err(_) => Body::Raw(raw),
                },
                ItemBody::Raw(raw) => Body::Raw(raw),
                ItemBody::Text(t) => Body::Text(t),
                ItemBody::Empty => Body::Empty,
            },
            headers: reply.headers,
            call: Some(call),
            response_time_ms: time,
        }
    }

    /// The body as JSON when it is JSON (parsed now if it was passed through raw).
    pub(crate) fn json(&self) -> Option<std::borrow::Cow<'_, Json>> {
        match &self.body {
            Body::Json(j) => Some(std::borrow::Cow::Borrowed(j)),
            Body::Raw(raw) => serde_json::from_str(raw.get())
                .ok()
                .map(std::borrow::Cow::Owned),
            Body::Empty | Body::Text(_) => None,
        }
    }
}

fn too_large(limit: usize) -> String {
    format!("response-too-large: the upstream answer exceeds the limit of {limit} bytes")
}

/// Run a plan. Never fails: query-level errors (deadline, limits) are an [`Outcome`] with
/// `error` set and restQL's `{"error": ...}` body.
pub async fn execute(plan: &Plan<'_>, transport: &dyn Transport, clock: &dyn Clock) -> Outcome {
    execute_with(plan, &Dispatcher::for_run(transport, clock), None).await
}

/// [`execute`] through a dispatcher (a single run's, or a client's shared one), handing each
/// statement's part of the body to `sink` in the run's idle time once it is final.
pub(crate) async fn execute_with(
    plan: &Plan<'_>,
    dispatch: &Dispatcher<'_>,
    sink: Option<StatementSink<'_>>,
) -> Outcome {
    let clock = &*dispatch.clock;
    let started = clock.now_ms();
    let run = std::pin::pin!(run_statements(plan, dispatch, started, sink));
    let deadline = clock.sleep(plan.deadline_ms);
    let outcome = match select(run, deadline).await {
        // The duration is set below, for every outcome.
        Either::Left((Ok((results, answers, stats, trace)), _)) => {
            step!("m:ran");
            let outcome = Outcome {
                trace,
                ..shape::shape(plan, results, answers, stats)
            };
            step!("m:shaped");
            outcome
        }
        Either::Left((Err(error), _)) => error_outcome(error),
        Either::Right(_) => {
            let span = plan
                .statements
                .first()
                .map(|s| s.statement.span)
                .unwrap_or_default();
            error_outcome(Error::new(
                ErrorCode::QueryTimeout,
                Phase::Execute,
                "timeout: query timed out",
                span,
                plan.source,
            ))
        }
    };
    Outcome {
        stats: Stats {
            duration_ms: clock.now_ms().saturating_sub(started),
            ..outcome.stats
        },
        ..outcome
    }
}

/// The status restQL gives a query that fails as a whole.
pub fn error_status(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::QueryTimeout => 408,
        ErrorCode::UnknownResource | ErrorCode::InvalidMapping | ErrorCode::MissingVariable => 500,
        ErrorCode::InvalidRegex => 500,
        _ => 400,
    }
}

/// An outcome for a query that failed as a whole.
pub fn error_outcome(error: Error) -> Outcome {
    Outcome {
        status: error_status(error.code),
        cache_control: None,
        headers: Vec::new(),
        body: ResponseBody::error(&error.message),
        stats: Stats::default(),
        trace: Vec::new(),
        error: Some(error),
    }
}

/// A call's identity and timeout, compared through the shared call (no copy of the key): its
/// request key, or for a batched item its group and canonical key (its own URL is not
/// always written).
#[derive(Debug)]
struct DedupeKey(Rc<Call>, u64);

impl PartialEq for DedupeKey {
    fn eq(&self, other: &Self) -> bool {
        // Equal items of a statement share their call.
        self.1 == other.1
            && (Rc::ptr_eq(&self.0, &other.0)
                || match (&self.0.batch, &other.0.batch) {
                    (Some(a), Some(b)) => a.canonical == b.canonical && a.group.id == b.group.id,
                    (None, None) => self.0.key() == other.0.key(),
                    _ => false,
                })
    }
}

impl Eq for DedupeKey {}

impl std::hash::Hash for DedupeKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match &self.0.batch {
            Some(item) => {
                item.group.id.hash(state);
                item.canonical.hash(state);
            }
            None => self.0.key().hash(state),
        }
        self.1.hash(state);
    }
}

/// One upstream call and who waits for it (dedupe fans its answer out).
#[derive(Debug, Default)]
struct CallEntry {
    /// (statement, answer slot) of the first requester, kept inline: most calls have one.
    first: Option<(usize, usize)>,
    /// Requesters after the first (dedupe): the first and last of a list in the run's
    /// `Waiter`s, so that a repeated call costs no vector of its own.
    more: Option<(usize, usize)>,
    /// Its answer's index in the run's answers.
    answer: Option<usize>,
}

/// A requester after a call's first, in a list through the run's waiters.
#[derive(Debug)]
struct Waiter {
    statement: usize,
    slot: usize,
    next: Option<usize>,
}

/// A started statement waiting for its calls.
#[derive(Debug)]
struct Waiting {
    /// Multiplex shape; leaves index `answers`.
    shape: Tree<usize>,
    /// Per slot, the index of its answer in the run's answers once there.
    answers: Vec<Option<usize>>,
    pending: usize,
    /// Started item by item: its top-level items are built as those of the statement it
    /// follows end; `unbuilt` of them are still to come.
    by_item: bool,
    unbuilt: usize,
    /// For a statement others follow item by item: which of its items ended.
    tops: Option<Tops>,
}

/// Per slot its top-level item, and per top-level item its slots still waiting for an
/// answer (`usize::MAX` for an item not built yet).
#[derive(Debug)]
struct Tops {
    of_slot: Vec<usize>,
    waiting: Vec<usize>,
}

impl Tops {
    /// For a multiplexed statement's slots; `None` for a single call, which nothing can
    /// follow item by item.
    fn of(shape: &Tree<usize>, answers: &[Option<usize>]) -> Option<Tops> {
        let Tree::Group(items) = shape else {
            return None;
        };
        let mut tops = Tops {
            of_slot: vec![0; answers.len()],
            waiting: vec![0; items.len()],
        };
        for (k, item) in items.iter().enumerate() {
            tops.count(k, item, answers);
        }
        Some(tops)
    }

    /// Item `k`'s slots, newly built: which item they belong to, and how many still wait.
    fn count(&mut self, k: usize, item: &Tree<usize>, answers: &[Option<usize>]) {
        self.of_slot
            .resize(self.of_slot.len().max(answers.len()), 0);
        self.waiting[k] = 0;
        item.for_each(&mut |&slot| {
            self.of_slot[slot] = k;
            self.waiting[k] += usize::from(answers[slot].is_none());
        });
    }
}

/// The followers started item by item of the items that `ended` names: their turn to build.
fn followers_due(
    ended: &mut Vec<(usize, usize)>,
    followers: &[Vec<usize>],
    waiting: &[Option<Waiting>],
    to_build: &mut Vec<(usize, usize)>,
) {
    for (s, k) in ended.drain(..) {
        for &f in followers.get(s).map_or(&[][..], Vec::as_slice) {
            if waiting[f].as_ref().is_some_and(|w| w.by_item) {
                to_build.push((f, k));
            }
        }
    }
}

impl Waiting {
    fn new(slots: usize) -> Waiting {
        Waiting {
            shape: Tree::Group(Vec::new()),
            answers: Vec::with_capacity(slots),
            pending: 0,
            by_item: false,
            unbuilt: 0,
            tops: None,
        }
    }

    /// A statement that follows another's `count` items one by one.
    fn item_by_item(count: usize, followed: bool) -> Waiting {
        Waiting {
            shape: Tree::Group((0..count).map(|_| Tree::Group(Vec::new())).collect()),
            answers: Vec::new(),
            pending: 0,
            by_item: true,
            unbuilt: count,
            tops: followed.then(|| Tops {
                of_slot: Vec::new(),
                waiting: vec![usize::MAX; count],
            }),
        }
    }

    /// Top-level item `k`, its slots replaced by their answers (it has ended).
    fn item(&self, k: usize) -> Option<Tree<usize>> {
        let Tree::Group(items) = &self.shape else {
            return None;
        };
        let mut complete = true;
        let item = items.get(k)?.map(&mut |&slot| {
            self.answers[slot].unwrap_or_else(|| {
                complete = false;
                0
            })
        });
        complete.then_some(item)
    }
}

/// Items of a statement on a batch endpoint that follows another item by item, built and not
/// sent yet: they go a full chunk at a time.
#[derive(Default)]
struct HeldItems {
    items: Vec<(usize, Tree<Item>)>,
    /// The batch group of the keys let go, and those keys (canonical): a repeat of one needs
    /// no room in a chunk.
    group: Option<Rc<str>>,
    released: rustc_hash::FxHashSet<Rc<str>>,
}

impl HeldItems {
    /// The first items whose new keys fill exactly `max` (a chunk), as many times as they
    /// do, with those after them that bring no new key; every item when `all`. Items with
    /// keys of another group, or whose keys would overfill a chunk, wait for `all`: an early
    /// chunk must be a full one, so that the statement takes no more calls than when it
    /// waits for the whole target.
    fn release(&mut self, max: usize, all: bool) -> (Vec<usize>, Vec<Tree<Item>>) {
        let mut upto = 0;
        if all {
            upto = self.items.len();
        } else {
            let mut fresh = rustc_hash::FxHashSet::default();
            for (n, (_, item)) in self.items.iter().enumerate() {
                let mut mixed = false;
                item.for_each(&mut |leaf| {
                    if let Item::Call(call) = leaf
                        && let Some(b) = &call.batch
                    {
                        let group = self.group.get_or_insert_with(|| Rc::clone(&b.group.id));
                        mixed |= !Rc::ptr_eq(group, &b.group.id) && **group != *b.group.id;
                        if !self.released.contains(&b.canonical) {
                            fresh.insert(Rc::clone(&b.canonical));
                        }
                    }
                });
                if mixed || fresh.len() > max {
                    break;
                }
                if fresh.len() == max {
                    upto = n + 1;
                    self.released.extend(fresh.drain());
                } else if fresh.is_empty() {
                    // Nothing new since the last full chunk: its keys are on their way.
                    upto = n + 1;
                }
            }
        }
        self.items.drain(..upto).unzip()
    }
}

/// A statement's items: planned (no chain decides them) or built when it starts.
enum Items<'p> {
    Planned(&'p Tree<Item>),
    Built(Tree<Item>),
}

impl Items<'_> {
    fn get(&self) -> &Tree<Item> {
        match self {
            Items::Planned(items) => items,
            Items::Built(items) => items,
        }
    }
}

/// Per statement, once ended, its answers' indexes in the run's answers (one vector for the
/// whole run, shared by the response: no allocation per answer).
type Results = Vec<Option<Tree<usize>>>;

/// The statements' answer trees, the answers they index, stats and the call trace.
type RunResult = (Vec<Tree<usize>>, Vec<Answer>, Stats, Vec<CallTrace>);

/// Why the run's wait ended.
enum Woke {
    Answers,
    /// The idle timer: statements' parts can be handed out.
    Idle,
    /// Nothing is in flight.
    Nothing,
}

/// What one sent call came back with.
struct Sent {
    id: usize,
    answer: Answer,
    served: Served,
    /// The batch call that served it.
    via: Option<Rc<str>>,
    start: u64,
    failure: Option<&'static str>,
}

async fn run_statements(
    plan: &Plan<'_>,
    dispatch: &Dispatcher<'_>,
    run_start: u64,
    sink: Option<StatementSink<'_>>,
) -> Result<RunResult, Error> {
    let clock = &*dispatch.clock;
    // The trace and debug output's response times are what the clock is read for, besides
    // timeouts.
    let tracing = plan.options.trace;
    let timed = tracing || plan.options.debug;
    let mut trace = Vec::new();
    let n = plan.statements.len();
    // Statement names for the trace, made once per statement that calls.
    let mut names: Vec<Option<Rc<str>>> = vec![None; n];
    let mut results: Results = (0..n).map(|_| None).collect();
    let mut waiting: Vec<Option<Waiting>> = (0..n).map(|_| None).collect();
    let mut started = vec![false; n];
    let mut calls: Vec<CallEntry> = Vec::new();
    let mut all: Vec<Answer> = Vec::new();
    let mut ended: Vec<(usize, Waiting)> = Vec::new();
    let mut waiters: Vec<Waiter> = Vec::new();
    // Dedupe within the query: same request and same timeout -> one call.

    let timers: Vec<StatementTimer> = (0..n).map(|_| RefCell::new(None)).collect();
    let mut in_flight = FuturesUnordered::new();
    let mut stats = Stats::default();
    let static_calls: usize = plan
        .statements
        .iter()
        .filter_map(|s| s.items.as_ref())
        .map(Tree::count)
        .sum();
    let mut budget = plan.options.max_calls.saturating_sub(static_calls);
    // Sized for a typical fan-out so that growing (and rehashing keys) is rare.
    let expected_calls = static_calls.max(64).min(plan.options.max_calls);
    let mut by_key: FxHashMap<DedupeKey, usize> =
        FxHashMap::with_capacity_and_hasher(expected_calls, Default::default());
    calls.reserve(expected_calls);
    all.reserve(expected_calls);
    if tracing {
        trace.reserve(expected_calls);
    }

    // Statements that start item by item, by the statement they follow (plan: `item_by_item`).
    let mut followers: Vec<Vec<usize>> = Vec::new();
    for (i, sp) in plan.statements.iter().enumerate() {
        if let Some(t) = sp.item_by_item {
            followers.resize_with(n, Vec::new);
            followers[t].push(i);
        }
    }
    let followers_of = |s: usize| followers.get(s).map_or(&[][..], Vec::as_slice);
    // What starts next: a statement's items, or one item of a statement started item by
    // item; and the (follower, item) pairs whose item in the followed statement has ended.
    let mut starting: Vec<(usize, Option<Vec<usize>>, Items<'_>)> = Vec::new();
    let mut to_build: Vec<(usize, usize)> = Vec::new();
    let mut ended_items: Vec<(usize, usize)> = Vec::new();
    let mut arrived: Vec<Sent> = Vec::new();
    let mut held: FxHashMap<usize, HeldItems> = FxHashMap::default();
    // Statements whose part of the body is final when they end, not yet handed to the sink;
    // handed over when the idle timer fires while the run waits.
    let mut to_hand_out: Vec<bool> = match sink {
        Some(_) => (0..n).map(|i| shape::final_at_end(plan, i)).collect(),
        None => Vec::new(),
    };
    let mut idle: Option<LocalBoxFuture<'static, ()>> = None;

    step!("m:executor");
    loop {
        // Whether this pass started calls: sends, batch keys waiting for their window.
        let mut started_calls = false;
        let mut progressed = true;
        while progressed {
            progressed = false;
            for i in 0..n {
                let sp = &plan.statements[i];
                if started[i] {
                    continue;
                }
                if !sp.dependencies.iter().all(|d| results[d.target].is_some()) {
                    // Item by item: once the followed statement has started and multiplexes.
                    let Some(t) = sp.item_by_item else {
                        continue;
                    };
                    let Some(tops) = waiting[t].as_ref().and_then(|w| w.tops.as_ref()) else {
                        continue;
                    };
                    started[i] = true;
                    progressed = true;
                    let count = tops.waiting.len();
                    to_build.extend((0..count).filter(|&k| tops.waiting[k] == 0).map(|k| (i, k)));
                    let w = Waiting::item_by_item(count, !followers_of(i).is_empty());
                    if count == 0 {
                        results[i] = Some(finish(w, &mut all));
                    } else {
                        waiting[i] = Some(w);
                    }
                    continue;
                }
                started[i] = true;
                progressed = true;
                let items = match unresolved_dependency(plan, i, &results, &all) {
                    Some(target) => Items::Built(Tree::Leaf(Item::Skip(format!(
                        "The request was skipped due to unresolved dependency {{ {target} }}"
                    )))),
                    None => match &sp.items {
                        Some(items) => Items::Planned(items),
                        None => {
                            let chains = Chained {
                                plan,
                                results: &results,
                                answers: &all,
                            };
                            Items::Built(build_items(plan, i, &chains, &mut budget).ok_or_else(
                                || {
                                    let mut e = too_many_calls(plan, i);
                                    e.phase = Phase::Execute;
                                    e
                                },
                            )?)
                        }
                    },
                };
                starting.push((i, None, items));
            }
            // A follower's ended items are built together: one list chained, as when its
            // whole target has ended.
            to_build.sort_unstable();
            let mut built = 0;
            while built < to_build.len() {
                let d = to_build[built].0;
                let ks: Vec<usize> = to_build[built..]
                    .iter()
                    .take_while(|(f, _)| *f == d)
                    .map(|&(_, k)| k)
                    .collect();
                built += ks.len();
                let t = plan.statements[d].item_by_item.unwrap_or(d);
                let item = |k: usize| match (&waiting[t], &results[t]) {
                    (Some(w), _) => w.item(k),
                    (None, Some(Tree::Group(items))) => items.get(k).cloned(),
                    _ => None,
                };
                let Some(items) = ks.iter().map(|&k| item(k)).collect::<Option<Vec<_>>>() else {
                    continue;
                };
                let chains = ItemChains {
                    target: plan.statements[t].id,
                    items: Tree::Group(items),
                    answers: &all,
                };
                let items = build_items(plan, d, &chains, &mut budget).ok_or_else(|| {
                    let mut e = too_many_calls(plan, d);
                    e.phase = Phase::Execute;
                    e
                })?;
                let (ks, items) = match &plan.statements[d].batch {
                    // On a batch endpoint, items go out a full chunk at a time, and the rest
                    // when the followed statement has ended: as few chunks as waiting for it.
                    Some(spec) => {
                        let Tree::Group(parts) = items else {
                            continue;
                        };
                        let h = held.entry(d).or_default();
                        h.items.extend(ks.into_iter().zip(parts));
                        let (ks, parts) = h.release(spec.max, results[t].is_some());
                        if ks.is_empty() {
                            continue;
                        }
                        (ks, Tree::Group(parts))
                    }
                    None => (ks, items),
                };
                // Calls started now wait from now: earlier ones keep the sleep they took.
                timers[d].take();
                starting.push((d, Some(ks), Items::Built(items)));
            }
            to_build.clear();
            for (i, part, items) in starting.drain(..) {
                progressed = true;
                let sp = &plan.statements[i];
                let mut w = match part {
                    None => Waiting::new(items.get().count()),
                    Some(_) => match waiting[i].take() {
                        Some(w) => w,
                        None => continue,
                    },
                };
                let shape = items.get().map(&mut |item| {
                    let slot = w.answers.len();
                    match item {
                        Item::Skip(message) => {
                            all.push(Answer::skip(message.clone()));
                            w.answers.push(Some(all.len() - 1));
                        }
                        Item::Call(call) => {
                            let key = DedupeKey(Rc::clone(call), sp.timeout_ms);
                            let id = *by_key.entry(key).or_insert_with(|| {
                                calls.push(CallEntry::default());
                                started_calls = true;
                                in_flight.push(send(
                                    calls.len() - 1,
                                    Rc::clone(call),
                                    (sp.timeout_ms, &timers[i]),
                                    sp.parse_body,
                                    timed,
                                    dispatch,
                                ));
                                calls.len() - 1
                            });
                            match calls[id].answer {
                                Some(answer) => {
                                    stats.deduped += 1;
                                    w.answers.push(Some(answer));
                                }
                                None => {
                                    let entry = &mut calls[id];
                                    if entry.first.is_none() {
                                        entry.first = Some((i, slot));
                                    } else {
                                        stats.deduped += 1;
                                        waiters.push(Waiter {
                                            statement: i,
                                            slot,
                                            next: None,
                                        });
                                        let added = waiters.len() - 1;
                                        entry.more = match entry.more {
                                            None => Some((added, added)),
                                            Some((head, tail)) => {
                                                waiters[tail].next = Some(added);
                                                Some((head, added))
                                            }
                                        };
                                    }
                                    w.answers.push(None);
                                    w.pending += 1;
                                }
                            }
                        }
                    }
                    slot
                });
                match part {
                    None => {
                        w.shape = shape;
                        if !followers_of(i).is_empty() {
                            w.tops = Tops::of(&w.shape, &w.answers);
                        }
                    }
                    Some(ks) => {
                        let Tree::Group(built) = shape else {
                            continue;
                        };
                        for (&k, item) in ks.iter().zip(built) {
                            if let Some(tops) = &mut w.tops {
                                tops.count(k, &item, &w.answers);
                                if tops.waiting[k] == 0 {
                                    ended_items.push((i, k));
                                }
                            }
                            if let Tree::Group(parts) = &mut w.shape
                                && let Some(place) = parts.get_mut(k)
                            {
                                *place = item;
                                w.unbuilt -= 1;
                            }
                        }
                    }
                }
                if w.pending == 0 && w.unbuilt == 0 {
                    results[i] = Some(finish(w, &mut all));
                    timers[i].take();
                } else {
                    waiting[i] = Some(w);
                }
            }
            followers_due(&mut ended_items, &followers, &waiting, &mut to_build);
            progressed |= !to_build.is_empty();
        }
        if results.iter().all(Option::is_some) {
            break;
        }
        if to_hand_out
            .iter()
            .zip(&results)
            .any(|(&hand_out, result)| hand_out && result.is_some())
        {
            if !started_calls {
                // Nothing of this pass is on its way out (no send, no window): the parts
                // are handed out now, while the run waits, rather than all at its end
                // should its other answers come within the idle timer's wait.
                idle = Some(Box::pin(std::future::ready(())));
            } else if idle.is_none() {
                idle = Some(clock.idle());
            }
        }
        // Every answer that is there, so that items ending together start their followers
        // together.
        step!("m:started");
        let woke = std::future::poll_fn(|cx| {
            while let std::task::Poll::Ready(Some(sent)) = in_flight.poll_next_unpin(cx) {
                arrived.push(sent);
            }
            if !arrived.is_empty() {
                return std::task::Poll::Ready(Woke::Answers);
            }
            if let Some(timer) = &mut idle
                && timer.poll_unpin(cx).is_ready()
            {
                return std::task::Poll::Ready(Woke::Idle);
            }
            if in_flight.is_empty() {
                std::task::Poll::Ready(Woke::Nothing)
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
        step!("m:woke");
        match woke {
            Woke::Nothing => break,
            Woke::Answers => {}
            Woke::Idle => {
                idle = None;
                if let Some(sink) = sink {
                    for (i, result) in results.iter().enumerate() {
                        if let Some(tree) = result
                            && std::mem::take(&mut to_hand_out[i])
                        {
                            sink(
                                plan.statements[i].id,
                                &shape::statement_part(plan, i, tree, &all),
                            );
                        }
                    }
                }
                continue;
            }
        }
        step!("m:arrived");
        for sent in arrived.drain(..) {
            match sent.served {
                Served::Sent | Served::Batched { first: true, .. } => stats.calls += 1,
                Served::Joined { .. } => stats.deduped += 1,
                Served::Cached => stats.cache_hits += 1,
                Served::Deduped | Served::Batched { .. } => {}
            }
            if matches!(sent.served, Served::Batched { .. }) {
                stats.batched += 1;
            }
            let id = sent.id;
            all.push(sent.answer);
            let index = all.len() - 1;
            let answer = &all[index];
            let entry = &mut calls[id];
            entry.answer = Some(index);
            let mut waiter = entry.first.take();
            let mut next = entry.more.take().map(|(head, _)| head);
            let end = if tracing {
                clock.now_ms().saturating_sub(run_start)
            } else {
                0
            };
            let mut nth = 0;
            while let Some((statement, slot)) = waiter {
                waiter = next.map(|w| {
                    next = waiters[w].next;
                    (waiters[w].statement, waiters[w].slot)
                });
                nth += 1;
                if tracing && let Some(call) = &answer.call {
                    let name = names[statement]
                        .get_or_insert_with(|| plan.statements[statement].id.into());
                    trace.push(CallTrace {
                        statement: Rc::clone(name),
                        item: slot,
                        call: Rc::clone(call),
                        batch: sent.via.clone(),
                        start_ms: sent.start.saturating_sub(run_start),
                        end_ms: end,
                        status: answer.status,
                        served: if nth == 1 {
                            sent.served
                        } else {
                            Served::Deduped
                        },
                        failure: sent.failure,
                    });
                }
                if let Some(w) = waiting[statement].as_mut() {
                    w.answers[slot] = Some(index);
                    w.pending -= 1;
                    if let Some(tops) = &mut w.tops
                        && let Some(&k) = tops.of_slot.get(slot)
                    {
                        tops.waiting[k] -= 1;
                        if tops.waiting[k] == 0 {
                            ended_items.push((statement, k));
                        }
                    }
                    if w.pending == 0
                        && w.unbuilt == 0
                        && let Some(w) = waiting[statement].take()
                    {
                        ended.push((statement, w));
                    }
                }
            }
        }
        // Finished after the answer is no longer borrowed: a missing slot adds a skip.
        for (statement, w) in ended.drain(..) {
            results[statement] = Some(finish(w, &mut all));
            timers[statement].take();
        }
        followers_due(&mut ended_items, &followers, &waiting, &mut to_build);
    }
    // Every statement has an answer here: the graph is acyclic and every call ends (timeout).
    let results = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Tree::Group(Vec::new())))
        .collect();
    Ok((results, all, stats, trace))
}

/// The statement's tree of answer indexes, its shape's slots replaced in place.
fn finish(mut w: Waiting, all: &mut Vec<Answer>) -> Tree<usize> {
    w.shape.for_each_mut(&mut |slot| {
        *slot = w.answers[*slot].unwrap_or_else(|| {
            all.push(Answer::skip(String::new()));
            all.len() - 1
        });
    });
    w.shape
}

/// The `depends-on` target when it did not resolve: restQL counts it resolved when it has
/// `ignore-errors` or any of its items succeeded.
fn unresolved_dependency<'p>(
    plan: &'p Plan<'_>,
    i: usize,
    results: &Results,
    all: &[Answer],
) -> Option<&'p str> {
    for d in &plan.statements[i].dependencies {
        if d.kind != DependencyKind::DependsOn {
            continue;
        }
        let target = &plan.statements[d.target];
        if target.statement.ignore_errors {
            continue;
        }
        let Some(tree) = &results[d.target] else {
            continue;
        };
        let (mut leaves, mut succeeded) = (0, false);
        tree.for_each(&mut |&a| {
            leaves += 1;
            succeeded |= all[a].success();
        });
        if leaves == 0 || succeeded {
            continue;
        }
        return Some(target.id);
    }
    None
}

/// The timeout of a statement's calls: one sleep for all of them (they start together),
/// made when the first of them has to wait, let go when the statement ends.
type StatementTimer = RefCell<Option<Shared<LocalBoxFuture<'static, ()>>>>;

fn statement_timer(
    timer: &StatementTimer,
    clock: &dyn Clock,
    timeout_ms: u64,
) -> Shared<LocalBoxFuture<'static, ()>> {
    timer
        .borrow_mut()
        .get_or_insert_with(|| Shared::new(clock.sleep(timeout_ms)))
        .clone()
}

/// How a call's answer will come, as the future it waits in holds it: one field the size of
/// the largest way (a batch item's wait), since the executor holds one such future per call
/// in flight and a fan-out's items each touch that memory.
enum Serving<'s> {
    /// A cache hit: taken at the first poll.
    Ready(Option<Box<Fetched>>),
    /// This requester's own call to the transport.
    Direct,
    Pending(LocalBoxFuture<'s, Fetched>),
    Batch(dispatch::BatchWait<'s>),
}

/// One call raced against its timeout. Not boxed: the set of calls in flight holds this one
/// future type.
fn send<'s>(
    id: usize,
    call: Rc<Call>,
    (timeout_ms, timer): (u64, &'s StatementTimer),
    parse: bool,
    timed: bool,
    dispatch: &'s Dispatcher<'_>,
) -> impl std::future::Future<Output = Sent> + 's {
    let clock = &*dispatch.clock;
    // Read for the trace and debug output only (in wasm, each read crosses into JS).
    let start = if timed { clock.now_ms() } else { 0 };
    // Registered now, not at the first poll: a batch window must see every key the run
    // starts before it is polled.
    let (mut serving, hint) = match dispatch.fetch(&call) {
        Fetch::Ready(f) => (Serving::Ready(Some(f)), Served::Cached),
        Fetch::Direct => (Serving::Direct, Served::Sent),
        Fetch::Pending(fut, hint) => (Serving::Pending(fut), hint),
        Fetch::Batch(wait) => (
            Serving::Batch(wait),
            Served::Batched {
                chunk: dispatch::NOT_SENT,
                first: false,
            },
        ),
    };
    async move {
        let limit = call.request.max_response_bytes;
        let outcome = {
            // This requester's own call, made at the first poll.
            let mut wire: Option<LocalBoxFuture<'_, Result<Response, TransportError>>> = None;
            // The statement's timer, taken only when the answer is not there at the first
            // poll (caches and in-memory transports need none).
            let mut timeout: Option<Shared<LocalBoxFuture<'static, ()>>> = None;
            std::future::poll_fn(|cx| {
                let fetched = match &mut serving {
                    Serving::Ready(f) => std::task::Poll::Ready(f.take().map(|f| *f)),
                    Serving::Direct => wire
                        .get_or_insert_with(|| dispatch.transport.send(&call.request))
                        .poll_unpin(cx)
                        .map(|r| {
                            Some(Fetched {
                                reply: Reply::Http(r),
                                served: Served::Sent,
                                via: None,
                            })
                        }),
                    Serving::Pending(fut) => fut.poll_unpin(cx).map(Some),
                    Serving::Batch(wait) => wait.poll_unpin(cx).map(Some),
                };
                if let std::task::Poll::Ready(fetched) = fetched {
                    return std::task::Poll::Ready(fetched);
                }
                let timeout =
                    timeout.get_or_insert_with(|| statement_timer(timer, clock, timeout_ms));
                match timeout.poll_unpin(cx) {
                    std::task::Poll::Ready(()) => std::task::Poll::Ready(None),
                    std::task::Poll::Pending => std::task::Poll::Pending,
                }
            })
            .await
        };
        let time = if timed {
            clock.now_ms().saturating_sub(start)
        } else {
            0
        };
        let (answer, served, via, failure) = match outcome {
            None => (
                Answer::synthetic(408, "request timed out".into(), Some(call), time),
                hint,
                None,
                Some("timeout"),
            ),
            Some(Fetched { reply, served, via }) => {
                let (answer, failure) = match reply {
                    Reply::Http(Ok(response)) => (
                        Answer::from_response(response, call, time, limit, parse),
                        None,
                    ),
                    Reply::Http(Err(TransportError::TooLarge { limit })) => (
                        Answer::synthetic(502, too_large(limit), Some(call), time),
                        Some("failed"),
                    ),
                    Reply::Http(Err(e)) => (
                        Answer::synthetic(502, e.to_string(), Some(call), time),
                        Some("failed"),
                    ),
                    Reply::Item(item) => (Answer::from_item(item, call, time, parse), None),
                };
                (answer, served, via, failure)
            }
        };
        Sent {
            id,
            answer,
            served,
            via,
            start,
            failure,
        }
    }
}

/// Chained values from the results of finished statements.
struct Chained<'a, 'q> {
    plan: &'a Plan<'q>,
    results: &'a Results,
    answers: &'a [Answer],
}

impl ChainSource for Chained<'_, '_> {
    fn chain_value(&self, target: &str, path: &[String]) -> Val {
        let Some(index) = self.plan.statements.iter().position(|s| s.id == target) else {
            return Val::Missing;
        };
        let Some(tree) = &self.results[index] else {
            return Val::Missing;
        };
        chain_in_tree(tree, self.answers, path)
    }
}

/// Chained values from some items of the statement followed item by item, as a list.
struct ItemChains<'a> {
    target: &'a str,
    items: Tree<usize>,
    answers: &'a [Answer],
}

impl ChainSource for ItemChains<'_> {
    fn chain_value(&self, target: &str, path: &[String]) -> Val {
        if target != self.target {
            return Val::Missing;
        }
        chain_in_tree(&self.items, self.answers, path)
    }
}

/// A chained value from a tree of answers: a list for a multiplexed one.
fn chain_in_tree(tree: &Tree<usize>, all: &[Answer], path: &[String]) -> Val {
    match tree {
        Tree::Leaf(a) => chain_in_answer(&all[*a], path),
        Tree::Group(items) => {
            Val::List(items.iter().map(|i| chain_in_tree(i, all, path)).collect())
        }
    }
}

/// A chained value from one answer: the path in the JSON body (arrays map the rest of the path
/// over their elements), else the first path item as a response header.
fn chain_in_answer(answer: &Answer, path: &[String]) -> Val {
    if !answer.success() {
        return Val::Failed;
    }
    let from_body = match &answer.body {
        Body::Json(j) => walk(j, path),
        Body::Raw(raw) => chain::value_at(raw.get(), path),
        Body::Empty | Body::Text(_) => Val::Missing,
    };
    if from_body != Val::Missing {
        return from_body;
    }
    path.first()
        .and_then(|name| header_value(&answer.headers, name))
        .map_or(Val::Missing, |v| Val::Scalar(Json::String(v.to_string())))
}

fn walk(json: &Json, path: &[String]) -> Val {
    let Some((key, rest)) = path.split_first() else {
        return match json {
            Json::Null => Val::Missing,
            other => Val::from_json(other),
        };
    };
    match json {
        Json::Object(map) => map.get(key).map_or(Val::Missing, |v| walk(v, rest)),
        Json::Array(items) => Val::List(items.iter().map(|i| walk(i, path)).collect()),
        _ => Val::Missing,
    }
}
