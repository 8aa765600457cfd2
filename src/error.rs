//! Errors users can act on: a stable code, the phase, where, what was expected and found,
//! and a caret snippet.

use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::span::{Location, Span};

/// Stable error codes. The strings ([`ErrorCode::as_str`]) are the contract; the enum grows
/// as later phases add codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// Text that the grammar does not derive.
    Syntax,
    /// A token that matched but whose value is invalid: a bad escape, a raw newline in a
    /// string, an integer outside i64.
    InvalidLiteral,
    /// A `matches` / `filterByRegex` regex literal that does not compile.
    InvalidRegex,
    /// Lists or objects nested deeper than the configured limit.
    TooDeep,
    /// Query text longer than the configured limit.
    TooLarge,
    /// A chain (in `with` or `headers`) names a statement that is not in the query.
    UnknownChainTarget,
    /// `depends-on` names a statement that is not in the query.
    UnknownDependsOnTarget,
    /// Two statements share an identifier (alias, else resource name).
    DuplicateIdentifier,
    /// Statements that wait on each other through chains or `depends-on`.
    DependencyCycle,
    /// A statement names a resource that the mappings do not define.
    UnknownResource,
    /// A mapping whose URL template is malformed.
    InvalidMapping,
    /// More statements than the configured limit.
    TooManyStatements,
    /// Multiplexing would issue more upstream calls than the configured limit.
    TooManyCalls,
    /// An upstream answer larger than the configured limit (reported per call).
    ResponseTooLarge,
    /// The query did not finish before its deadline (`use timeout` or the default).
    QueryTimeout,
    /// A variable used where the query needs it (e.g. a `matches` argument) was not given.
    MissingVariable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Syntax => "syntax",
            ErrorCode::InvalidLiteral => "invalid-literal",
            ErrorCode::InvalidRegex => "invalid-regex",
            ErrorCode::TooDeep => "too-deep",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::UnknownChainTarget => "unknown-chain-target",
            ErrorCode::UnknownDependsOnTarget => "unknown-depends-on-target",
            ErrorCode::DuplicateIdentifier => "duplicate-identifier",
            ErrorCode::DependencyCycle => "dependency-cycle",
            ErrorCode::UnknownResource => "unknown-resource",
            ErrorCode::InvalidMapping => "invalid-mapping",
            ErrorCode::TooManyStatements => "too-many-statements",
            ErrorCode::TooManyCalls => "too-many-calls",
            ErrorCode::ResponseTooLarge => "response-too-large",
            ErrorCode::QueryTimeout => "query-timeout",
            ErrorCode::MissingVariable => "missing-variable",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stage of the pipeline that reported an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    Parse,
    Validate,
    Plan,
    Execute,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Parse => "parse",
            Phase::Validate => "validate",
            Phase::Plan => "plan",
            Phase::Execute => "execute",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One diagnostic about a query text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub phase: Phase,
    /// One line, lower-case, specific: `expected a value after '=', found ','`.
    pub message: String,
    pub span: Span,
    /// 1-based.
    pub line: usize,
    /// 1-based, in Unicode scalar values.
    pub column: usize,
    /// 1-based, in UTF-16 code units (JavaScript editors).
    pub column_utf16: usize,
    /// What would have been accepted at `span`, e.g. `["a value"]`; may be empty.
    pub expected: Vec<String>,
    /// What was there instead, e.g. `','` or `end of input`.
    pub found: Option<String>,
    /// The source line with a caret under the span, ready to print.
    pub snippet: String,
}

/// The contract's name for what `parse` returns.
pub type SyntaxError = Error;

impl Error {
    /// Build an error, computing line, columns and the snippet from `source`.
    pub fn new(
        code: ErrorCode,
        phase: Phase,
        message: impl Into<String>,
        span: Span,
        source: &str,
    ) -> Self {
        let loc = Location::of(source, span.start);
        Error {
            code,
            phase,
            message: message.into(),
            span,
            line: loc.line,
            column: loc.column,
            column_utf16: loc.column_utf16,
            expected: Vec::new(),
            found: None,
            snippet: render_snippet(source, span, loc),
        }
    }

    pub fn with_expected(mut self, expected: Vec<String>) -> Self {
        self.expected = expected;
        self
    }

    pub fn with_found(mut self, found: impl Into<String>) -> Self {
        self.found = Some(found.into());
        self
    }

    /// The full human-readable report: `error[code]: message`, the position and the snippet.
    pub fn render(&self) -> String {
        format!(
            "error[{}]: {}\n --> {}:{}\n{}",
            self.code, self.message, self.line, self.column, self.snippet
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} error at {}:{}: {}",
            self.phase, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for Error {}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("code", self.code.as_str())?;
        m.serialize_entry("phase", self.phase.as_str())?;
        m.serialize_entry("message", &self.message)?;
        m.serialize_entry("line", &self.line)?;
        m.serialize_entry("column", &self.column)?;
        m.serialize_entry("columnUtf16", &self.column_utf16)?;
        m.serialize_entry("start", &self.span.start)?;
        m.serialize_entry("end", &self.span.end)?;
        m.serialize_entry("expected", &self.expected)?;
        if let Some(found) = &self.found {
            m.serialize_entry("found", found)?;
        }
        m.serialize_entry("snippet", &self.snippet)?;
        m.end()
    }
}

/// Several diagnostics at once (validation reports every problem it finds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Errors(pub Vec<Error>);

impl Errors {
    /// The first error in source order.
    pub fn first(&self) -> Option<&Error> {
        self.0.first()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Error> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Error> for Errors {
    fn from(e: Error) -> Self {
        Errors(vec![e])
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}

/// `{"error": first, "errors": [all]}`: the report the CLI prints and the wasm edge throws.
impl Serialize for Errors {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("error", &self.0.first())?;
        m.serialize_entry("errors", &self.0)?;
        m.end()
    }
}

/// ```text
/// 1 | from hero with id = ,
///   |                     ^
/// ```
/// The caret covers the span on its first line (at least one column). A long line is cut to a
/// window around the caret, marked with `…`, so a one-line 200 KB query gives a short snippet.
fn render_snippet(source: &str, span: Span, loc: Location) -> String {
    const WIDTH: usize = 100;
    const BEFORE: usize = 40;
    let rest = &source[loc.line_start..];
    let line_text = rest.split('\n').next().unwrap_or("");
    let line_text = line_text.strip_suffix('\r').unwrap_or(line_text);
    let chars: Vec<char> = line_text.chars().collect();
    let caret_at = loc.column - 1;
    let from = if chars.len() > WIDTH {
        caret_at.saturating_sub(BEFORE)
    } else {
        0
    };
    let to = (from + WIDTH).min(chars.len()).max(from);
    let mut shown: String = chars[from..to].iter().collect();
    let mut lead = String::new();
    if from > 0 {
        shown.insert(0, '…');
        lead.push(' ');
    }
    if to < chars.len() {
        shown.push('…');
    }
    // Keep tabs so the caret lines up under tab-indented text.
    lead.extend(
        chars[from..caret_at.min(chars.len())]
            .iter()
            .map(|&c| if c == '\t' { '\t' } else { ' ' }),
    );
    let span_chars = source
        .get(span.start.min(source.len())..span.end.min(source.len()))
        .map_or(0, |s| s.chars().take_while(|&c| c != '\n').count());
    let width = span_chars.min(to.saturating_sub(caret_at)).max(1);
    let gutter = loc.line.to_string();
    let pad = " ".repeat(gutter.len());
    format!(
        "{pad} |\n{gutter} | {shown}\n{pad} | {lead}{}",
        "^".repeat(width)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_points_at_the_span() {
        let src = "from hero\nfrom villain with id = ,";
        let at = src.find(',').unwrap_or(0);
        let e = Error::new(
            ErrorCode::Syntax,
            Phase::Parse,
            "expected a value after '=', found ','",
            Span::new(at, at + 1),
            src,
        );
        assert_eq!((e.line, e.column, e.column_utf16), (2, 24, 24));
        assert_eq!(
            e.snippet,
            "  |\n2 | from villain with id = ,\n  |                        ^"
        );
    }

    #[test]
    fn long_lines_are_cut_around_the_caret() {
        let src = format!("from hero with q = \"{}\" ,", "x".repeat(10_000));
        let at = src.len() - 1;
        let e = Error::new(
            ErrorCode::Syntax,
            Phase::Parse,
            "m",
            Span::new(at, at + 1),
            &src,
        );
        let lines: Vec<&str> = e.snippet.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].starts_with("1 | …xxx") && lines[1].ends_with("\" ,"));
        assert_eq!(lines[1].chars().count(), "1 | …".chars().count() + 41);
        assert_eq!(lines[2].find('^'), Some("1 | …".chars().count() + 40));
    }

    #[test]
    fn utf16_columns_count_surrogate_pairs() {
        let src = "from hero with s = \"😀\" x";
        let at = src.find('x').unwrap_or(0);
        let e = Error::new(ErrorCode::Syntax, Phase::Parse, "m", Span::point(at), src);
        assert_eq!(e.column, 24);
        assert_eq!(e.column_utf16, 25);
    }

    #[test]
    fn caret_stays_on_the_first_line_and_keeps_tabs() {
        let src = "\tfrom a with x = [1,\n2";
        let at = src.find('[').unwrap_or(0);
        let e = Error::new(
            ErrorCode::Syntax,
            Phase::Parse,
            "m",
            Span::new(at, src.len()),
            src,
        );
        assert_eq!(
            e.snippet,
            "  |\n1 | \tfrom a with x = [1,\n  | \t                ^^^"
        );
    }
}
