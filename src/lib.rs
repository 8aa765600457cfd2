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
pub mod regex;
mod span;
pub mod syntax;
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
