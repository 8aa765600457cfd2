//! What the parser expected at the furthest point it reached, as a cheap bit set.
//!
//! Recording an expectation is a compare and an `or` on the happy path; labels and messages
//! are only built when a parse error is actually returned.

use super::lex::is_dotted_ident_char;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Expected(u32);

impl Expected {
    pub(super) const STATEMENT: Expected = Expected(1);
    pub(super) const NAME: Expected = Expected(1 << 1);
    pub(super) const VALUE: Expected = Expected(1 << 2);
    pub(super) const EQUALS: Expected = Expected(1 << 3);
    pub(super) const COLON: Expected = Expected(1 << 4);
    pub(super) const INT_OR_VAR: Expected = Expected(1 << 5);
    pub(super) const USE_VALUE: Expected = Expected(1 << 6);
    pub(super) const HEADER_VALUE: Expected = Expected(1 << 7);
    pub(super) const PARAM: Expected = Expected(1 << 8);
    pub(super) const FILTER: Expected = Expected(1 << 9);
    pub(super) const STRING_OR_VAR: Expected = Expected(1 << 10);
    pub(super) const OPEN_PAREN: Expected = Expected(1 << 11);
    pub(super) const CLOSE_PAREN: Expected = Expected(1 << 12);
    pub(super) const COMMA: Expected = Expected(1 << 13);
    pub(super) const CLOSE_BRACKET: Expected = Expected(1 << 14);
    pub(super) const CLOSE_BRACE: Expected = Expected(1 << 15);
    pub(super) const OBJECT_KEY: Expected = Expected(1 << 16);
    pub(super) const ARROW: Expected = Expected(1 << 17);
    pub(super) const SEPARATOR: Expected = Expected(1 << 18);
    pub(super) const AS: Expected = Expected(1 << 19);
    pub(super) const MODIFIER: Expected = Expected(1 << 20);
    pub(super) const WITH: Expected = Expected(1 << 21);
    pub(super) const ONLY_HIDDEN: Expected = Expected(1 << 22);
    pub(super) const IGNORE_ERRORS: Expected = Expected(1 << 23);
    pub(super) const NEWLINE: Expected = Expected(1 << 24);
    pub(super) const END: Expected = Expected(1 << 25);
    pub(super) const VAR_NAME: Expected = Expected(1 << 26);
    pub(super) const BLANK: Expected = Expected(1 << 27);
    pub(super) const CHAIN_ITEM: Expected = Expected(1 << 28);
    pub(super) const IN: Expected = Expected(1 << 29);

    pub(super) fn union(self, other: Expected) -> Expected {
        Expected(self.0 | other.0)
    }

    pub(super) fn contains(self, other: Expected) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    pub(super) fn without(self, other: Expected) -> Expected {
        Expected(self.0 & !other.0)
    }

    pub(super) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Human labels, most specific first.
    pub(super) fn labels(self) -> Vec<&'static str> {
        const LABELS: &[(Expected, &str)] = &[
            (
                Expected::STATEMENT,
                "a statement ('from', 'to', 'into', 'update' or 'delete')",
            ),
            (Expected::VALUE, "a value"),
            (Expected::NAME, "a name"),
            (Expected::VAR_NAME, "a variable name"),
            (Expected::CHAIN_ITEM, "a chain item"),
            (Expected::EQUALS, "'='"),
            (Expected::COLON, "':'"),
            (Expected::INT_OR_VAR, "an integer or a variable"),
            (Expected::USE_VALUE, "an integer or a string"),
            (Expected::HEADER_VALUE, "a string, a variable or a chain"),
            (
                Expected::PARAM,
                "a parameter ('key = value') or a '$variable' body",
            ),
            (Expected::FILTER, "a field path or '*'"),
            (Expected::STRING_OR_VAR, "a string or a variable"),
            (Expected::OBJECT_KEY, "an object key"),
            (Expected::OPEN_PAREN, "'('"),
            (Expected::COMMA, "','"),
            (Expected::CLOSE_PAREN, "')'"),
            (Expected::CLOSE_BRACKET, "']'"),
            (Expected::CLOSE_BRACE, "'}'"),
            (Expected::ARROW, "'->'"),
            (Expected::SEPARATOR, "','"),
            (Expected::AS, "'as'"),
            (Expected::IN, "'in'"),
            (
                Expected::MODIFIER,
                "a modifier ('headers', 'timeout', 'max-age', 's-max-age', 'depends-on')",
            ),
            (Expected::WITH, "'with'"),
            (Expected::ONLY_HIDDEN, "'only'"),
            (Expected::ONLY_HIDDEN, "'hidden'"),
            (Expected::IGNORE_ERRORS, "'ignore-errors'"),
            (Expected::BLANK, "a blank"),
            (Expected::NEWLINE, "a newline"),
            (Expected::END, "end of input"),
        ];
        LABELS
            .iter()
            .filter(|(bit, _)| self.contains(*bit))
            .map(|&(_, label)| label)
            .collect()
    }
}

/// `a`, `a or b`, `a, b or c`.
pub(super) fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token at the start of `rest`, described for a message, and its byte length.
pub(super) fn describe_token(rest: &str) -> (String, usize) {
    let Some(first) = rest.chars().next() else {
        return ("end of input".into(), 0);
    };
    if first == '\n' {
        return ("a newline".into(), 1);
    }
    if first == ' ' || first == '\t' {
        return ("a blank".into(), 1);
    }
    if rest.starts_with("\r\n") {
        return ("a newline".into(), 2);
    }
    if first == '"' {
        let len = super::lex::string_token_len(rest)
            .unwrap_or_else(|| rest.find('\n').unwrap_or(rest.len()));
        return ("a string".into(), len);
    }
    let word_len = rest
        .char_indices()
        .find(|&(_, c)| !is_dotted_ident_char(c))
        .map_or(rest.len(), |(at, _)| at);
    if word_len > 0 {
        let word = rest.get(..word_len).unwrap_or_default();
        return (format!("'{}'", shorten(word)), word_len);
    }
    if rest.starts_with("->") {
        return ("'->'".into(), 2);
    }
    (format!("'{}'", first.escape_debug()), first.len_utf8())
}

fn shorten(word: &str) -> String {
    const MAX: usize = 40;
    match word.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}...", word.get(..at).unwrap_or(word)),
        None => word.to_owned(),
    }
}

/// `line` without its `//` comment (a `//` inside a string does not start one).
fn without_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (at, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '/' if !in_string && line.get(at..).is_some_and(|r| r.starts_with("//")) => {
                return line.get(..at).unwrap_or(line);
            }
            _ => {}
        }
    }
    line
}

/// The last token before `before` (skipping blanks and comments), for `after '='` in
/// messages.
pub(super) fn previous_token(before: &str) -> Option<String> {
    let mut end = before.len();
    let trimmed = loop {
        let text = before.get(..end)?;
        let line_start = text.rfind('\n').map_or(0, |nl| nl + 1);
        let line = without_comment(text.get(line_start..)?);
        let line = line.trim_end_matches([' ', '\t', '\r']);
        if !line.is_empty() {
            break before.get(..line_start + line.len())?;
        }
        if line_start == 0 {
            return None;
        }
        end = line_start - 1;
    };
    let last = trimmed.chars().next_back()?;
    // In `{x: }` the ':' is the separator, not part of a name.
    if last == ':' {
        return Some("':'".into());
    }
    if is_dotted_ident_char(last) {
        let start = trimmed
            .char_indices()
            .rev()
            .find(|&(_, c)| !is_dotted_ident_char(c))
            .map_or(0, |(at, c)| at + c.len_utf8());
        let word = trimmed.get(start..)?;
        // A word glued to a `$` is a variable; say so.
        let dollar = trimmed.get(..start).is_some_and(|s| s.ends_with('$'));
        return Some(format!(
            "'{}{}'",
            if dollar { "$" } else { "" },
            shorten(word)
        ));
    }
    if last == '"' {
        return Some("a string".into());
    }
    if trimmed.ends_with("->") {
        return Some("'->'".into());
    }
    Some(format!("'{}'", last.escape_debug()))
}
