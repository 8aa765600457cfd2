//! The restQL language: AST, nom parser, canonical printer. Knows nothing of HTTP or wasm.

pub mod ast;
mod expect;
mod lex;
mod parser;
mod print;

use crate::error::Error;
use ast::Query;

/// Limits that keep hostile input from costing more than it should.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    /// Longest accepted query text, in bytes (error `too-large`).
    pub max_bytes: usize,
    /// Deepest accepted nesting of lists and objects (error `too-deep`).
    pub max_depth: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_bytes: 256 * 1024,
            max_depth: 64,
        }
    }
}

/// Parse query text with the given limits.
pub fn parse_with(text: &str, options: &ParseOptions) -> Result<Query, Error> {
    parser::parse_query(text, options)
}
