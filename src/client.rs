//! A client: mappings, options and the state its runs share. Several runs may be in progress
//! at once (their futures are not `Send`; a wasm edge spawns each one on the JS event loop).
//! Between its runs a client joins calls already on the wire, collects batch keys during each
//! batch mapping's window, and, when given a cache, keeps answers for as long as their
//! `Cache-Control` allows.
//!
//! A client also keeps the plans of the queries it ran, by text, inputs and options: a plan is
//! pure, so running the same query again skips the parser, the validator and the planner.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Value as Json, json};

use crate::exec::dispatch::Dispatcher;
use crate::exec::{CacheConfig, Outcome, StatementSink, execute_with};
use crate::http::{Clock, Transport};
use crate::mapping::Mappings;
use crate::plan::{Inputs, Item, Options, Plan, plan};
use crate::syntax::ast::Query;
use crate::{Errors, check, first_error};

/// What a plan borrows, owned: the query and its text, the run's inputs and options, and the
/// client's mappings.
#[derive(Debug)]
pub struct PlanSource {
    query: Rc<Query>,
    text: Box<str>,
    inputs: Inputs,
    options: Options,
    mappings: Rc<Mappings>,
}

self_cell::self_cell!(
    /// A plan together with what it borrows, so that a client can keep it and run it again.
    pub struct PreparedPlan {
        owner: PlanSource,
        #[covariant]
        dependent: Plan,
    }
    impl {Debug}
);

impl PreparedPlan {
    /// The plan.
    pub fn plan(&self) -> &Plan<'_> {
        self.borrow_dependent()
    }

    fn is_for(&self, inputs: &Inputs, options: &Options) -> bool {
        let source = self.borrow_owner();
        source.inputs == *inputs && source.options == *options
    }
}

/// Distinct query texts a client keeps; past it the cache starts over.
const CACHED_TEXTS: usize = 100;
/// Plans kept per text (other inputs or options), the latest ones.
const PLANS_PER_TEXT: usize = 8;
/// Calls built at plan time that the kept plans may hold in all; past it the cache starts
/// over. A plan with more is not kept: its calls cost far more than its planning.
const KEPT_CALLS: usize = 4096;

/// A client's parsed queries and plans, by text.
#[derive(Debug, Default)]
struct PlanCache {
    by_text: HashMap<Box<str>, CachedText>,
    /// Calls built at plan time in the kept plans.
    calls: usize,
}

/// Calls a plan built ahead of its run (statements whose values no chain decides).
fn planned_calls(plan: &Plan<'_>) -> usize {
    plan.statements
        .iter()
        .filter_map(|s| s.items.as_ref())
        .map(|items| items.count())
        .sum()
}

#[derive(Debug)]
struct CachedText {
    query: Rc<Query>,
    /// Oldest first.
    plans: Vec<Rc<PreparedPlan>>,
}

/// What a client adds to [`Options`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientConfig {
    /// The answer cache; `None` (the default) keeps nothing.
    pub cache: Option<CacheConfig>,
}

/// What a client's runs did, in total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientTotals {
    /// Requests sent upstream (a batch call counts once).
    pub calls: usize,
    /// Requesters that joined a call another run had on the wire.
    pub joined: usize,
    /// Items served by batch calls.
    pub batched: usize,
    pub cache_hits: usize,
}

/// A restQL client over a transport and a clock.
pub struct Client {
    mappings: Rc<Mappings>,
    options: Options,
    dispatch: Dispatcher<'static>,
    plans: RefCell<PlanCache>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("mappings", &self.mappings.len())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(
        transport: Rc<dyn Transport>,
        clock: Rc<dyn Clock>,
        mappings: Mappings,
        options: Options,
        config: ClientConfig,
    ) -> Self {
        Client {
            mappings: Rc::new(mappings),
            options,
            dispatch: Dispatcher::shared(transport, clock, config.cache),
            plans: RefCell::new(PlanCache::default()),
        }
    }

    pub fn mappings(&self) -> &Mappings {
        &self.mappings
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Run a query already parsed and validated from `source` (see [`crate::check`]).
    pub async fn run(&self, query: &Query, source: &str, inputs: &Inputs) -> Outcome {
        self.run_with(query, source, inputs, &self.options).await
    }

    /// [`Client::run`] with other options for this run (e.g. `debug`), sharing the client's
    /// calls in flight, batch windows and cache all the same.
    pub async fn run_with(
        &self,
        query: &Query,
        source: &str,
        inputs: &Inputs,
        options: &Options,
    ) -> Outcome {
        self.run_handing_out(query, source, inputs, options, None)
            .await
    }

    /// [`Client::run_with`], handing each statement's part of the body to `sink` as soon as
    /// it is final and the run is waiting for other calls (see [`StatementSink`]). The
    /// outcome's body still holds every statement; a caller that has parsed the parts it was
    /// handed can write the body without them ([`crate::ResponseBody::without`]).
    pub async fn run_handing_out(
        &self,
        query: &Query,
        source: &str,
        inputs: &Inputs,
        options: &Options,
        sink: Option<StatementSink<'_>>,
    ) -> Outcome {
        match plan(query, source, &self.mappings, inputs, options) {
            Ok(plan) => execute_with(&plan, &self.dispatch, sink).await,
            Err(errors) => first_error(errors),
        }
    }

    /// Parse, validate and run `text` (its plan kept for the next run, see
    /// [`Client::prepare`]).
    pub async fn run_text(&self, text: &str, inputs: &Inputs) -> Outcome {
        match self.prepare(text, inputs, &self.options) {
            Ok(prepared) => self.run_prepared(&prepared, None).await,
            Err(errors) => first_error(errors),
        }
    }

    /// The plan of `text` with `inputs` and `options`: the one kept from an earlier run of the
    /// same text, inputs and options, else parsed, validated and planned now, and kept. Errors
    /// are not kept.
    pub fn prepare(
        &self,
        text: &str,
        inputs: &Inputs,
        options: &Options,
    ) -> Result<Rc<PreparedPlan>, Errors> {
        let query = match self.plans.borrow().by_text.get(text) {
            Some(cached) => {
                if let Some(prepared) = cached.plans.iter().find(|p| p.is_for(inputs, options)) {
                    return Ok(Rc::clone(prepared));
                }
                Rc::clone(&cached.query)
            }
            None => Rc::new(check(text)?),
        };
        let source = PlanSource {
            query: Rc::clone(&query),
            text: text.into(),
            inputs: inputs.clone(),
            options: options.clone(),
            mappings: Rc::clone(&self.mappings),
        };
        let prepared = Rc::new(PreparedPlan::try_new(source, |s| {
            plan(&s.query, &s.text, &s.mappings, &s.inputs, &s.options)
        })?);
        let calls = planned_calls(prepared.plan());
        if calls > KEPT_CALLS {
            return Ok(prepared);
        }
        let mut cache = self.plans.borrow_mut();
        let full = !cache.by_text.contains_key(text) && cache.by_text.len() >= CACHED_TEXTS;
        if full || cache.calls + calls > KEPT_CALLS {
            cache.by_text.clear();
            cache.calls = 0;
        }
        let cache = &mut *cache;
        let cached = cache
            .by_text
            .entry(text.into())
            .or_insert_with(|| CachedText {
                query,
                plans: Vec::new(),
            });
        if cached.plans.len() >= PLANS_PER_TEXT {
            let oldest = cached.plans.remove(0);
            cache.calls -= planned_calls(oldest.plan());
        }
        cache.calls += calls;
        cached.plans.push(Rc::clone(&prepared));
        Ok(prepared)
    }

    /// Run a plan from [`Client::prepare`], handing out statements' parts to `sink` as
    /// [`Client::run_handing_out`] does.
    pub async fn run_prepared(
        &self,
        prepared: &PreparedPlan,
        sink: Option<StatementSink<'_>>,
    ) -> Outcome {
        execute_with(prepared.plan(), &self.dispatch, sink).await
    }

    /// The plan as JSON (see [`crate::explain`]), with `live`: the calls known at plan time
    /// that this client would serve from its cache or join on the wire right now.
    pub fn explain(&self, text: &str, inputs: &Inputs) -> Result<Json, Errors> {
        let query = check(text)?;
        let plan = plan(&query, text, &self.mappings, inputs, &self.options)?;
        let mut out = plan.to_json();
        let mut live = Vec::new();
        for sp in &plan.statements {
            let Some(items) = &sp.items else { continue };
            for (i, item) in items.leaves().into_iter().enumerate() {
                if let Item::Call(call) = item
                    && let Some(state) = self.dispatch.status_of(call)
                {
                    let call = sp.explained(call, &self.options);
                    live.push(json!({
                        "statement": sp.id,
                        "item": i,
                        "url": call.request.url,
                        "key": call.batch.as_ref().map(|b| &b.key),
                        "state": state,
                    }));
                }
            }
        }
        out["live"] = Json::Array(live);
        Ok(out)
    }

    /// Totals over every run so far.
    pub fn totals(&self) -> ClientTotals {
        let c = self.dispatch.counters();
        ClientTotals {
            calls: c.calls,
            joined: c.joined,
            batched: c.batched,
            cache_hits: c.cache_hits,
        }
    }
}
