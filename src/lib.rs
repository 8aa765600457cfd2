//! restql: a restQL query orchestrator.
//!
//! The pipeline is `parse -> validate -> plan -> execute -> shape`; this crate holds the
//! language (parser, canonical JSON and text, validation) and grows the later stages.
//!
//! ```
//! let query = restql::check("from search with q = $q\nfrom product with id = search.ids")
//!     .expect("a valid query");
//! assert_eq!(query.statements.len(), 2);
//! assert_eq!(query.to_canonical_json()["statements"][1]["resource"], "product");
//! ```

mod error;
pub mod exec;
pub mod http;
pub mod mapping;
pub mod plan;
pub mod regex;
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

pub use exec::{Outcome, Stats, error_outcome, execute};
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
    let query = match check(text) {
        Ok(q) => q,
        Err(errors) => return first_error(errors),
    };
    match plan(&query, text, mappings, inputs, options) {
        Ok(plan) => execute(&plan, transport, clock).await,
        Err(errors) => first_error(errors),
    }
}

fn first_error(errors: Errors) -> Outcome {
    match errors.0.into_iter().next() {
        Some(e) => error_outcome(e),
        None => Outcome {
            status: 500,
            cache_control: None,
            headers: Vec::new(),
            body: serde_json::json!({"error": "unknown error"}),
            stats: Stats::default(),
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
