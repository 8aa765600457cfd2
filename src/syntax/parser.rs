//! The nom parser (placeholder until the parser lands).

use super::ParseOptions;
use super::ast::Query;
use crate::error::{Error, ErrorCode, Phase};
use crate::span::Span;

pub(crate) fn parse_query(text: &str, _options: &ParseOptions) -> Result<Query, Error> {
    Err(Error::new(
        ErrorCode::Syntax,
        Phase::Parse,
        "parser not implemented",
        Span::point(0),
        text,
    ))
}
