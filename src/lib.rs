//! restql: a restQL query orchestrator.
//!
//! The pipeline is `parse -> validate -> plan -> execute -> shape`: [`check`] parses and
//! validates, [`plan()`] resolves resources against [`Mappings`] and computes the calls
//! (pure data, no I/O), [`execute`] runs them over a [`Transport`] and a [`Clock`], and the
//! [`Outcome`] is restQL's response: status, Cache-Control and `{id: {details, result}}`.
//!
//! ```
//! use restql::testing::{FakeTransport, Reply, VirtualClock};
//! use serde_json::json;
//!
//! let mappings = restql::Mappings::new()
//!     .with("search", "http://shop/search?:q").expect("valid template")
//!     .with("product", "http://shop/product/:id").expect("valid template");
//! let clock = VirtualClock::new();
//! let transport = FakeTransport::new(&clock, |request| match request.url.as_str() {
//!     "http://shop/search?q=tv" => Reply::json(200, json!({"ids": [1, 2, 1]})),
//!     _ => Reply::json(200, json!({"name": "tv"})).after(20),
//! });
//! let mut inputs = restql::Inputs::default();
//! inputs.variables.insert("q".into(), json!("tv"));
//! let query = "from search with q = $q\nfrom product with id = search.ids";
//! let outcome = clock
//!     .run(restql::run(query, &mappings, &inputs, &Default::default(), &transport, &clock))
//!     .expect("every query ends");
//! assert_eq!(outcome.status, 200);
//! assert_eq!(outcome.stats.calls, 3); // product 1 is asked twice and called once
//! assert_eq!(outcome.body.to_json()["product"]["result"][2], json!({"name": "tv"}));
//! ```

/// A timestamp for `pkg/bench/steps.mjs`, in builds with the `step-marks` feature only.
#[cfg(all(target_arch = "wasm32", feature = "step-marks"))]
macro_rules! step {
    ($label:expr) => {
        crate::wasm::step($label)
    };
}
#[cfg(not(all(target_arch = "wasm32", feature = "step-marks")))]
macro_rules! step {
    ($label:expr) => {};
}

pub mod client;
mod error;
pub mod exec;
pub mod http;
pub mod mapping;
pub mod plan;
pub mod regex;
#[cfg(any(test, target_arch = "wasm32"))]
// The one module with unsafe code: an allocator cannot be written without it.
#[allow(unsafe_code)]
mod size_classes;
mod span;
pub mod syntax;
pub mod testing;
pub mod validate;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, ErrorCode, Errors, Phase, SyntaxError};
pub use span::{Location, Span};
pub use syntax::ast::{
    ChainItem, DynamicBody, Filter, FilterFn, Header, Ident, InTarget, Method, Param, ParamFn,
    Query, Statement, UseClause, UseKey, Value, ValueKind, With,
};
pub use syntax::{ParseOptions, parse_with};
pub use validate::validate;

pub use client::{Client, ClientConfig, ClientTotals};
pub use exec::{
    CacheConfig, CallTrace, Outcome, ResponseBody, StatementPart, StatementSink, Stats,
    error_outcome, execute,
};
pub use http::{Clock, Request, Response, Transport, TransportError};
pub use mapping::{MappingError, Mappings};
pub use plan::{Inputs, Options, Plan, plan};

/// Parse restQL query text with the default limits. Only the grammar is checked; see
/// [`validate()`] and [`check`].
pub fn parse(text: &str) -> Result<Query, SyntaxError> {
    parse_with(text, &ParseOptions::default())
}

/// Parse, then validate: every problem the validator finds is reported, in source order.
pub fn check(text: &str) -> Result<Query, Errors> {
    let query = parse(text)?;
    validate(&query, text)?;
    Ok(query)
}

/// Parse, validate, plan and execute `text` in one go. Errors of any phase become an
/// [`Outcome`] with `error` set (restQL's `{"error": ...}` body and status).
pub async fn run(
    text: &str,
    mappings: &Mappings,
    inputs: &Inputs,
    options: &Options,
    transport: &dyn Transport,
    clock: &dyn Clock,
) -> Outcome {
    match check(text) {
        Ok(query) => run_checked(&query, text, mappings, inputs, options, transport, clock).await,
        Err(errors) => first_error(errors),
    }
}

/// [`run`] for a query already parsed and validated from `text` (a caller that caches parsed
/// queries by text, as restQL does, skips the parser).
pub async fn run_checked(
    query: &Query,
    text: &str,
    mappings: &Mappings,
    inputs: &Inputs,
    options: &Options,
    transport: &dyn Transport,
    clock: &dyn Clock,
) -> Outcome {
    match plan(query, text, mappings, inputs, options) {
        Ok(plan) => execute(&plan, transport, clock).await,
        Err(errors) => first_error(errors),
    }
}

/// The outcome of a query rejected before any call: its first error.
pub fn first_error(errors: Errors) -> Outcome {
    match errors.0.into_iter().next() {
        Some(e) => error_outcome(e),
        None => Outcome {
            status: 500,
            cache_control: None,
            headers: Vec::new(),
            body: exec::ResponseBody::error("unknown error"),
            stats: Stats::default(),
            trace: Vec::new(),
            error: None,
        },
    }
}

/// The plan of `text` as JSON (with its `text` form), without running anything.
pub fn explain(
    text: &str,
    mappings: &Mappings,
    inputs: &Inputs,
    options: &Options,
) -> Result<serde_json::Value, Errors> {
    let query = check(text)?;
    let plan = plan(&query, text, mappings, inputs, options)?;
    Ok(plan.to_json())
}
