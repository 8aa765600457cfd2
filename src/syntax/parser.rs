//! The restQL parser (grammar.md sections 2-4), built on nom 8 primitives.
//!
//! The reference grammar is a PEG: alternatives are ordered and a matched alternative is never
//! revisited. Each function below mirrors one rule and keeps that order. Failures come in two
//! kinds: `nom::Err::Error` (backtrack, try the next alternative) and `nom::Err::Failure`
//! (committed after a keyword, `=` or `->`: no alternative can match any more). Every failure
//! records what was expected at its position; the error reported is the one that got
//! furthest, which is where the text stops making sense.

use std::cell::Cell;

use nom::Parser as _;
use nom::bytes::complete::tag;
use nom::error::{ErrorKind, ParseError};

use super::ParseOptions;
use super::ast::{
    ChainItem, DynamicBody, Filter, FilterFn, Header, Ident, InTarget, Method, Param, ParamFn,
    Query, Statement, UseClause, UseKey, Value, ValueKind, With,
};
use super::expect::{Expected, describe_token, join_or, previous_token};
use super::lex::{
    at_byte, blanks, blanks_and_newlines, decode_string, eat, eat_str, gap, is_dotted_ident_char,
    is_ident_char, is_object_key_char, item_separator, keyword, mandatory_blank, number_token,
    run_of, string_token_len,
};
use crate::error::{Error, ErrorCode, Phase};
use crate::span::Span;

pub(crate) fn parse_query(text: &str, options: &ParseOptions) -> Result<Query, Error> {
    if text.len() > options.max_bytes {
        return Err(Error::new(
            ErrorCode::TooLarge,
            Phase::Parse,
            format!(
                "query is {} bytes long; the limit is {} bytes",
                text.len(),
                options.max_bytes
            ),
            Span::point(0),
            text,
        )
        .with_expected(vec![format!("at most {} bytes", options.max_bytes)])
        .with_found(format!("{} bytes", text.len())));
    }
    let parser = Parser {
        src: text,
        max_depth: options.max_depth,
        furthest: Cell::new((0, Expected::default())),
    };
    match parser.query(text) {
        Ok((_, query)) => Ok(query),
        Err(nom::Err::Error(Fail::Fatal(e)) | nom::Err::Failure(Fail::Fatal(e))) => Err(*e),
        Err(_) => Err(parser.furthest_error()),
    }
}

/// The parser's error type: plain backtracking (what was expected lives in the parser's
/// furthest-failure record), or a finished diagnostic that nothing can recover from.
#[derive(Debug)]
enum Fail {
    Backtrack,
    Fatal(Box<Error>),
}

impl<'a> ParseError<&'a str> for Fail {
    fn from_error_kind(_: &'a str, _: ErrorKind) -> Self {
        Fail::Backtrack
    }

    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'a, T> = nom::IResult<&'a str, T, Fail>;

/// Turn a backtracking failure into a committed one (nom's `cut`, for our hand-written rules).
fn cut<T>(result: PResult<'_, T>) -> PResult<'_, T> {
    result.map_err(|e| match e {
        nom::Err::Error(f) => nom::Err::Failure(f),
        other => other,
    })
}

fn backtrack<T>() -> PResult<'static, T> {
    Err(nom::Err::Error(Fail::Backtrack))
}

const PARAM_FN_NAMES: &str =
    "no-multiplex, no-explode, base64, json, as-body, as-query, flatten, no-batch";
const MODIFIER_KEYWORDS: [&str; 5] = ["headers", "timeout", "max-age", "s-max-age", "depends-on"];

struct Parser<'a> {
    src: &'a str,
    max_depth: usize,
    /// Furthest byte offset where something failed, and what was expected there.
    furthest: Cell<(usize, Expected)>,
}

impl<'a> Parser<'a> {
    // ---- positions and failures ---------------------------------------------------------

    /// Byte offset of a suffix of the source.
    fn at(&self, rest: &str) -> usize {
        self.src.len().saturating_sub(rest.len())
    }

    fn span(&self, from: &str, to: &str) -> Span {
        Span::new(self.at(from), self.at(to))
    }

    /// Note that `what` would have been accepted at `rest`.
    fn expect(&self, rest: &str, what: Expected) {
        let pos = self.at(rest);
        let (far, set) = self.furthest.get();
        if pos > far {
            self.furthest.set((pos, what));
        } else if pos == far {
            self.furthest.set((pos, set.union(what)));
        }
    }

    fn fail<T>(&self, rest: &str, what: Expected) -> PResult<'a, T> {
        self.expect(rest, what);
        backtrack()
    }

    /// A committed failure with its own message, for errors the expected-set cannot say well.
    fn fatal<T>(
        &self,
        code: ErrorCode,
        span: Span,
        message: impl Into<String>,
        expected: Vec<String>,
    ) -> PResult<'a, T> {
        Err(self.fatal_err(code, span, message, expected))
    }

    fn fatal_err(
        &self,
        code: ErrorCode,
        span: Span,
        message: impl Into<String>,
        expected: Vec<String>,
    ) -> nom::Err<Fail> {
        let found_text = self.src.get(span.start..span.end).unwrap_or_default();
        let found = if span.is_empty() || found_text.contains('\n') {
            describe_token(self.src.get(span.start..).unwrap_or_default()).0
        } else {
            format!("'{found_text}'")
        };
        let error = Error::new(code, Phase::Parse, message, span, self.src)
            .with_expected(expected)
            .with_found(found);
        nom::Err::Failure(Fail::Fatal(Box::new(error)))
    }

    /// The error for the furthest failure: `expected X after Y, found Z`.
    fn furthest_error(&self) -> Error {
        let (pos, mut expected) = self.furthest.get();
        let rest = self.src.get(pos..).unwrap_or_default();
        let before = self.src.get(..pos).unwrap_or_default();
        let (mut found, len) = describe_token(rest);
        let mut span = Span::new(pos, pos + len);
        let all_labels: Vec<String> = expected.labels().into_iter().map(String::from).collect();
        let at_line_start =
            before.trim_end_matches([' ', '\t', '\r']).ends_with('\n') || before.trim().is_empty();
        let word = rest
            .get(..len)
            .filter(|w| w.chars().all(is_dotted_ident_char))
            .unwrap_or_default();
        let message =
            if let Some(hint) = self.hint(before, rest, word, expected, &mut span, &mut found) {
                hint
            } else {
                // A word at the start of a line after a statement is most likely a statement.
                if expected.contains(Expected::STATEMENT) && at_line_start {
                    expected = Expected::STATEMENT;
                }
                // "a chain item" adds nothing next to "a value"; "a blank" only matters alone.
                if expected.contains(Expected::VALUE) || expected.contains(Expected::HEADER_VALUE) {
                    expected = expected.without(Expected::CHAIN_ITEM);
                }
                if expected != Expected::BLANK {
                    expected = expected.without(Expected::BLANK);
                }
                if expected.is_empty() {
                    expected = Expected::END;
                }
                let labels = expected.labels();
                let mut message = format!("expected {}", join_or(&labels));
                if let Some(prev) = previous_token(before) {
                    message.push_str(&format!(" after {prev}"));
                }
                message.push_str(&format!(", found {found}"));
                message
            };
        Error::new(ErrorCode::Syntax, Phase::Parse, message, span, self.src)
            .with_expected(all_labels)
            .with_found(found)
    }

    /// Specific messages for the mistakes people actually make.
    /// May move the blame (`span`, `found`) to an earlier token.
    fn hint(
        &self,
        before: &str,
        rest: &str,
        word: &str,
        expected: Expected,
        span: &mut Span,
        found: &mut String,
    ) -> Option<String> {
        // A clause keyword where the statement could end: it is out of order (had it been
        // allowed here, it would have parsed).
        let clause_keywords = ["as", "in", "with", "only", "hidden", "ignore-errors"];
        let statement_could_end = expected.contains(Expected::NEWLINE)
            || (expected.contains(Expected::STATEMENT) && expected != Expected::STATEMENT);
        if statement_could_end
            && (MODIFIER_KEYWORDS.contains(&word) || clause_keywords.contains(&word))
        {
            return Some(clause_order_message(&format!("'{word}'")));
        }
        if expected.contains(Expected::NEWLINE)
            && ["from", "to", "into", "update", "delete"].contains(&word)
        {
            return Some(format!(
                "expected a newline before the next statement, found '{word}'"
            ));
        }
        // A clause keyword read as a `with` key or an `only` field: it came too late.
        if (expected == Expected::EQUALS || expected.contains(Expected::SEPARATOR))
            && let Some(prev) = previous_token(before)
            && (MODIFIER_KEYWORDS.iter().chain(&["with"])).any(|kw| prev.trim_matches('\'') == *kw)
        {
            let keyword = prev.trim_matches('\'');
            if let Some(at) = before.rfind(keyword) {
                *span = Span::new(at, at + keyword.len());
                found.clone_from(&prev);
            }
            return Some(clause_order_message(&prev));
        }
        if at_byte(rest, b',') && at_line_start(before) {
            return Some(
                "a line cannot start with ','; put the ',' at the end of the previous line".into(),
            );
        }
        if at_byte(rest, b'\'') {
            return Some("single quotes do not make a string; use double quotes (\"...\")".into());
        }
        if expected.contains(Expected::STATEMENT) && word == "use" {
            return Some("'use' clauses must come before the first statement".into());
        }
        if at_byte(rest, b'>') && before.ends_with('-') {
            // Blame the whole `->`, not just its `>`.
            *span = Span::new(span.start.saturating_sub(1), span.start + 1);
            *found = "'->'".into();
            return Some(
                "'-' belongs to the name before it; write a blank before '->' (e.g. 'name -> json')"
                    .into(),
            );
        }
        if (at_byte(rest, b']') || at_byte(rest, b'}'))
            && before.trim_end().ends_with(',')
            && (expected.contains(Expected::VALUE) || expected.contains(Expected::OBJECT_KEY))
        {
            return Some(format!(
                "trailing ',' before '{}' is not allowed",
                rest.get(..1).unwrap_or_default()
            ));
        }
        if !word.is_empty() {
            for literal in ["true", "false", "null"] {
                if before.ends_with(literal)
                    && !before
                        .get(..before.len() - literal.len())
                        .and_then(|b| b.chars().next_back())
                        .is_some_and(is_dotted_ident_char)
                {
                    return Some(format!(
                        "unexpected '{word}' right after '{literal}': '{literal}' is a literal, so a chain cannot start with it"
                    ));
                }
            }
            let after_digit = before
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_digit());
            if after_digit && at_byte(word, b'.') {
                return Some(format!(
                    "unexpected '{word}' right after an integer; floats are only allowed as 'with' values"
                ));
            }
            if after_digit {
                return Some(format!(
                    "unexpected '{word}' right after a number; names cannot start with a number here"
                ));
            }
        }
        if let Some(c) = rest.chars().next()
            && !c.is_ascii()
            && (expected.contains(Expected::NAME)
                || expected.contains(Expected::SEPARATOR)
                || expected.contains(Expected::NEWLINE))
        {
            return Some(format!(
                "unexpected '{c}': names may only use ASCII letters, digits, ':', '_' and '-'"
            ));
        }
        None
    }

    // ---- query ----------------------------------------------------------------------------

    fn query(&self, i: &'a str) -> PResult<'a, Query> {
        let mut i = blanks_and_newlines(i);
        let mut uses = Vec::new();
        while let Some(after) = keyword(i, "use").and_then(mandatory_blank) {
            let (rest, clause) = cut(self.use_clause(i, after))?;
            uses.push(clause);
            // Commas and blank lines may follow a `use` clause.
            i = rest;
            loop {
                let next = blanks_and_newlines(i);
                match eat(next, b',') {
                    Some(after_comma) => i = after_comma,
                    None => {
                        i = next;
                        break;
                    }
                }
            }
        }
        let mut statements = Vec::new();
        let (mut i, first) = self.statement(i)?;
        statements.push(first);
        loop {
            let j = blanks(i);
            if j.is_empty() {
                return Ok((j, Query { uses, statements }));
            }
            if !at_byte(j, b'\n') {
                return self.fail(j, Expected::NEWLINE.union(Expected::END));
            }
            let k = blanks_and_newlines(j);
            if k.is_empty() {
                return Ok((k, Query { uses, statements }));
            }
            let (rest, st) = self.statement(k)?;
            statements.push(st);
            i = rest;
        }
    }

    /// `use KEY VALUE`; `i` is at `use`, `after` past its blank.
    fn use_clause(&self, i: &'a str, after: &'a str) -> PResult<'a, UseClause> {
        let keys = [
            ("timeout", UseKey::Timeout),
            ("max-age", UseKey::MaxAge),
            ("s-max-age", UseKey::SMaxAge),
        ];
        let Some((rest, key)) = keys
            .iter()
            .find_map(|&(name, key)| eat_str(after, name).map(|r| (r, key)))
        else {
            let (found, len) = describe_token(after);
            let at = self.at(after);
            return self.fatal(
                ErrorCode::Syntax,
                Span::new(at, at + len),
                format!(
                    "unknown 'use' setting {found}; expected 'timeout', 'max-age' or 's-max-age'"
                ),
                vec!["'timeout'".into(), "'max-age'".into(), "'s-max-age'".into()],
            );
        };
        let v = gap(rest);
        let value = if at_byte(v, b'"') {
            self.string(v)?
        } else if let Some(parsed) = self.integer(v)? {
            parsed
        } else {
            if at_byte(v, b'=') {
                let at = self.at(v);
                return self.fatal(
                    ErrorCode::Syntax,
                    Span::new(at, at + 1),
                    format!(
                        "unexpected '=' after 'use {}': write 'use {} VALUE' without '='",
                        key.as_str(),
                        key.as_str()
                    ),
                    vec![Expected::USE_VALUE.labels().join("")],
                );
            }
            return self.fail(v, Expected::USE_VALUE);
        };
        let (rest, value) = value;
        Ok((
            rest,
            UseClause {
                key,
                span: self.span(i, rest),
                value,
            },
        ))
    }

    // ---- statement ------------------------------------------------------------------------

    fn method(&self, i: &'a str) -> PResult<'a, Method> {
        let methods = [
            ("from", Method::From),
            ("to", Method::To),
            ("into", Method::Into),
            ("update", Method::Update),
            ("delete", Method::Delete),
        ];
        for (name, method) in methods {
            if let Some(rest) = keyword(i, name) {
                return Ok((rest, method));
            }
        }
        self.fail(i, Expected::STATEMENT)
    }

    /// `IDENT` (no dots), as an `Ident`.
    fn ident(&self, i: &'a str) -> PResult<'a, Ident> {
        match run_of(i, is_ident_char) {
            Some((rest, name)) => Ok((rest, Ident::new(name, self.span(i, rest)))),
            None => self.fail(i, Expected::NAME),
        }
    }

    fn dotted_ident(&self, i: &'a str, what: Expected) -> PResult<'a, Ident> {
        match run_of(i, is_dotted_ident_char) {
            Some((rest, name)) => Ok((rest, Ident::new(name, self.span(i, rest)))),
            None => self.fail(i, what),
        }
    }

    /// A keyword's mandatory blank; `what` is what should come after it.
    fn blank_then(&self, i: &'a str, what: Expected) -> PResult<'a, ()> {
        match mandatory_blank(i) {
            Some(rest) => Ok((rest, ())),
            None => self.fail(i, what.union(Expected::BLANK)),
        }
    }

    fn statement(&self, i: &'a str) -> PResult<'a, Statement> {
        let start = i;
        let (rest, method) = self.method(i)?;
        let (rest, ()) = cut(self.blank_then(rest, Expected::NAME))?;
        let (mut i, resource) = cut(self.ident(rest))?;
        let mut st = Statement::new(method, resource, Span::default());

        // `as alias`, then `in target.path`: optional, in this order.
        let mut clause_expected = Expected::AS.union(Expected::IN);
        if let Some(j) = mandatory_blank(i)
            && let Some(k) = keyword(j, "as")
        {
            let (k, ()) = cut(self.blank_then(k, Expected::NAME))?;
            let (k, alias) = cut(self.ident(k))?;
            st.alias = Some(alias);
            i = k;
            clause_expected = Expected::IN;
        }
        if let Some(j) = mandatory_blank(i)
            && let Some(k) = keyword(j, "in")
        {
            let (k, ()) = cut(self.blank_then(k, Expected::NAME))?;
            let (k, target) = cut(self.dotted_ident(k, Expected::NAME))?;
            st.in_target = Some(InTarget {
                path: target.name.split('.').map(String::from).collect(),
                span: target.span,
            });
            i = k;
            clause_expected = Expected::default();
        }

        // Modifiers, any order; a repeated one replaces the earlier one.
        clause_expected = clause_expected.union(Expected::MODIFIER);
        while let Some(j) = mandatory_blank(i) {
            let rest = if let Some(k) = keyword(j, "headers") {
                let (k, ()) = cut(self.blank_then(k, Expected::NAME))?;
                let (k, headers) = cut(self.headers(k))?;
                st.headers = headers;
                k
            } else if let Some((k, field)) = [("timeout", 0), ("max-age", 1), ("s-max-age", 2)]
                .iter()
                .find_map(|&(kw, field)| keyword(j, kw).map(|k| (k, field)))
            {
                let (k, ()) = cut(self.blank_then(k, Expected::INT_OR_VAR))?;
                let (k, value) = cut(self.int_or_var(k))?;
                match field {
                    0 => st.timeout = Some(value),
                    1 => st.max_age = Some(value),
                    _ => st.s_max_age = Some(value),
                }
                k
            } else if let Some(k) = keyword(j, "depends-on") {
                let (k, ()) = cut(self.blank_then(k, Expected::NAME))?;
                let (k, target) = cut(self.ident(k))?;
                st.depends_on = Some(target);
                k
            } else {
                break;
            };
            i = rest;
        }

        clause_expected = clause_expected.union(Expected::WITH);
        if let Some(j) = mandatory_blank(i)
            && let Some(k) = keyword(j, "with")
        {
            let (k, with) = cut(self.with_clause(k))?;
            st.with = Some(with);
            i = k;
            clause_expected = Expected::default();
        }

        clause_expected = clause_expected.union(Expected::ONLY_HIDDEN);
        if let Some(j) = mandatory_blank(i) {
            if let Some(k) = keyword(j, "hidden") {
                st.hidden = true;
                i = k;
                clause_expected = Expected::default();
            } else if let Some(k) = keyword(j, "only") {
                let (k, ()) = cut(self.blank_then(k, Expected::FILTER))?;
                let (k, filters) = cut(self.only_list(k))?;
                st.only = filters;
                i = k;
                clause_expected = Expected::default();
            }
        }

        clause_expected = clause_expected.union(Expected::IGNORE_ERRORS);
        if let Some(j) = mandatory_blank(i)
            && let Some(k) = keyword(j, "ignore-errors")
        {
            st.ignore_errors = true;
            i = k;
            // `ignore-errors, ignore-errors` is allowed (and means the same).
            while let Some(k) =
                item_separator_same_kind(i).and_then(|s| keyword(s, "ignore-errors"))
            {
                i = k;
            }
            clause_expected = Expected::default();
        }

        // Whatever comes next must end the statement; say which clauses could have been here.
        if let Some(j) = mandatory_blank(i) {
            self.expect(j, clause_expected);
        } else {
            self.expect(i, clause_expected.union(Expected::BLANK));
        }
        st.span = self.span(start, i);
        Ok((i, st))
    }

    fn headers(&self, i: &'a str) -> PResult<'a, Vec<Header>> {
        let (i, first) = self.header(i)?;
        let mut headers = vec![first];
        // Blank lines between entries are accepted (grammar.md section 5 #13).
        let (i, ()) = self.more_items(i, &mut headers, |j| self.header(j))?;
        Ok((i, headers))
    }

    /// After a first item: more items, each after an item separator, for as long as one
    /// parses. A committed failure inside an item is the query's error.
    fn more_items<T>(
        &self,
        mut i: &'a str,
        items: &mut Vec<T>,
        item: impl Fn(&'a str) -> PResult<'a, T>,
    ) -> PResult<'a, ()> {
        while let Some(j) = item_separator(i) {
            match item(j) {
                Ok((rest, x)) => {
                    items.push(x);
                    i = rest;
                }
                Err(nom::Err::Error(_)) => break,
                Err(e) => return Err(e),
            }
        }
        self.expect(blanks(i), Expected::SEPARATOR);
        Ok((i, ()))
    }

    fn header(&self, i: &'a str) -> PResult<'a, Header> {
        let (rest, name) = self.ident(i)?;
        let rest = gap(rest);
        let Some(rest) = eat(rest, b'=') else {
            return self.fail(rest, Expected::EQUALS);
        };
        let v = gap(rest);
        let (rest, value) = cut(if at_byte(v, b'$') {
            self.variable(v)
        } else if at_byte(v, b'"') {
            self.string(v)
        } else {
            match self.chain(v) {
                Err(nom::Err::Error(_)) => self.fail(v, Expected::HEADER_VALUE),
                other => other,
            }
        })?;
        Ok((rest, Header { name, value }))
    }

    fn int_or_var(&self, i: &'a str) -> PResult<'a, Value> {
        if at_byte(i, b'$') {
            return self.variable(i);
        }
        match self.integer(i)? {
            Some(parsed) => Ok(parsed),
            None => self.fail(i, Expected::INT_OR_VAR),
        }
    }

    // ---- with ------------------------------------------------------------------------------

    /// After the `with` keyword: `$body -> fns` and/or parameters.
    fn with_clause(&self, i: &'a str) -> PResult<'a, With> {
        let Some(mut i) = mandatory_blank(i) else {
            return self.fail(i, Expected::PARAM);
        };
        let mut with = With::default();
        if at_byte(i, b'$') {
            let var_start = i;
            let after_dollar = i.get(1..).unwrap_or_default();
            let Some((rest, name)) = run_of(after_dollar, is_ident_char) else {
                return self.fail(after_dollar, Expected::VAR_NAME);
            };
            let (rest, fns) = self.param_fns(rest)?;
            with.body = Some(DynamicBody {
                var: Ident::new(name, self.span(var_start, rest)),
                fns,
            });
            i = rest;
            // The separator after the body is optional; it is consumed only if a parameter
            // follows, so that `with $body` NL `only x` still works.
            let sep = blanks(i);
            let sep = eat(sep, b',').or_else(|| eat(sep, b'\n')).unwrap_or(sep);
            let start = blanks(sep);
            match self.param(start) {
                Ok((rest, p)) => {
                    with.params.push(p);
                    i = rest;
                }
                Err(nom::Err::Error(_)) => return Ok((i, with)),
                Err(e) => return Err(e),
            }
        } else {
            let (rest, p) = self.param(i)?;
            with.params.push(p);
            i = rest;
        }
        let (i, ()) = self.more_items(i, &mut with.params, |j| self.param(j))?;
        Ok((i, with))
    }

    fn param(&self, i: &'a str) -> PResult<'a, Param> {
        let (rest, key) = self.dotted_ident(i, Expected::PARAM)?;
        let rest = gap(rest);
        let Some(rest) = eat(rest, b'=') else {
            return self.fail(rest, Expected::EQUALS);
        };
        let (rest, value) = cut(self.value(gap(rest), 0))?;
        let (rest, fns) = self.param_fns(rest)?;
        Ok((rest, Param { key, value, fns }))
    }

    /// `-> fn -> fn`, applied left to right.
    fn param_fns(&self, mut i: &'a str) -> PResult<'a, Vec<ParamFn>> {
        let mut fns = Vec::new();
        loop {
            let j = blanks(i);
            let Some(k) = eat_str(j, "->") else {
                self.expect(j, Expected::ARROW);
                return Ok((i, fns));
            };
            let k = gap(k);
            // Longest names first is not needed: no name is a prefix of another.
            let found = ParamFn::ALL.into_iter().find_map(|f| {
                let rest = eat_str(k, f.as_str())?;
                let ends = match rest.chars().next() {
                    Some(c) => !is_ident_char(c) || rest.starts_with("->"),
                    None => true,
                };
                ends.then_some((rest, f))
            });
            match found {
                Some((rest, f)) => {
                    fns.push(f);
                    i = rest;
                }
                None => {
                    let word_len = k
                        .char_indices()
                        .find(|&(at, c)| {
                            !is_ident_char(c) || k.get(at..).is_some_and(|r| r.starts_with("->"))
                        })
                        .map_or(k.len(), |(at, _)| at);
                    let at = self.at(k);
                    let span = Span::new(at, at + word_len);
                    let message = if word_len == 0 {
                        format!(
                            "expected a function after '->' (one of {PARAM_FN_NAMES}), found {}",
                            describe_token(k).0
                        )
                    } else {
                        format!(
                            "unknown function '{}' after '->'; expected one of {PARAM_FN_NAMES}",
                            k.get(..word_len).unwrap_or_default()
                        )
                    };
                    let expected = ParamFn::ALL
                        .iter()
                        .map(|f| format!("'{}'", f.as_str()))
                        .collect();
                    return self.fatal(ErrorCode::Syntax, span, message, expected);
                }
            }
        }
    }

    // ---- only ------------------------------------------------------------------------------

    fn only_list(&self, i: &'a str) -> PResult<'a, Vec<Filter>> {
        let (mut i, first) = self.filter(i)?;
        let mut filters = vec![first];
        loop {
            let j = blanks(i);
            // An `ignore-errors` line is the flag, and `NL from x` the next statement.
            if flags_ahead(j) || statement_ahead(j) {
                break;
            }
            let Some(k) = item_separator(i) else {
                self.expect(j, Expected::SEPARATOR);
                break;
            };
            match self.filter(k) {
                Ok((rest, f)) => {
                    filters.push(f);
                    i = rest;
                }
                Err(nom::Err::Error(_)) => break,
                Err(e) => return Err(e),
            }
        }
        Ok((i, filters))
    }

    fn filter(&self, i: &'a str) -> PResult<'a, Filter> {
        let start = i;
        let (rest, path) = if let Some(rest) = eat(i, b'*') {
            (rest, vec!["*".to_owned()])
        } else {
            let (rest, path) = self.dotted_ident(i, Expected::FILTER)?;
            (rest, path.name.split('.').map(String::from).collect())
        };
        let mut i = rest;
        let mut fns = Vec::new();
        loop {
            let j = blanks(i);
            let Some(k) = eat_str(j, "->") else {
                self.expect(j, Expected::ARROW);
                break;
            };
            let k = gap(k);
            let (rest, f) = cut(self.filter_fn(k))?;
            fns.push(f);
            i = rest;
        }
        let span = self.span(start, i);
        Ok((i, Filter { path, fns, span }))
    }

    fn filter_fn(&self, i: &'a str) -> PResult<'a, FilterFn> {
        if let Some(rest) = i.strip_prefix("matches") {
            let (rest, ()) = self.open_paren(rest)?;
            let (rest, re) = self.regex_arg(rest, true)?;
            let (rest, ()) = self.close_paren(rest)?;
            return Ok((rest, FilterFn::Matches(re)));
        }
        if let Some(rest) = i.strip_prefix("filterByRegex") {
            let (rest, ()) = self.open_paren(rest)?;
            let (rest, path) = self.regex_arg(rest, false)?;
            let rest = gap(rest);
            let Some(rest) = eat(rest, b',') else {
                return self.fail(rest, Expected::COMMA);
            };
            let (rest, regex) = self.regex_arg(rest, true)?;
            let (rest, ()) = self.close_paren(rest)?;
            return Ok((rest, FilterFn::FilterByRegex { path, regex }));
        }
        let (found, len) = describe_token(i);
        let at = self.at(i);
        let message = if len == 0 || found.starts_with("a ") || found == "end of input" {
            format!("expected 'matches' or 'filterByRegex' after '->', found {found}")
        } else {
            format!(
                "unknown filter function {found} after '->'; expected 'matches' or 'filterByRegex'"
            )
        };
        self.fatal(
            ErrorCode::Syntax,
            Span::new(at, at + len),
            message,
            vec!["'matches'".into(), "'filterByRegex'".into()],
        )
    }

    fn open_paren(&self, i: &'a str) -> PResult<'a, ()> {
        let parsed: PResult<'a, &str> = tag("(").parse(i);
        match parsed {
            Ok((rest, _)) => Ok((rest, ())),
            Err(_) => self.fail(i, Expected::OPEN_PAREN),
        }
    }

    fn close_paren(&self, i: &'a str) -> PResult<'a, ()> {
        let i = gap(i);
        let parsed: PResult<'a, &str> = tag(")").parse(i);
        match parsed {
            Ok((rest, _)) => Ok((rest, ())),
            Err(_) => self.fail(i, Expected::CLOSE_PAREN),
        }
    }

    /// A string or a variable inside `matches(...)` / `filterByRegex(...)`; blanks around it
    /// are allowed (grammar.md section 5 #12). String regexes are compiled now.
    fn regex_arg(&self, i: &'a str, is_regex: bool) -> PResult<'a, Value> {
        let i = gap(i);
        if at_byte(i, b'$') {
            return self.variable(i);
        }
        if !at_byte(i, b'"') {
            return self.fail(i, Expected::STRING_OR_VAR);
        }
        let (rest, value) = self.string(i)?;
        if is_regex
            && let ValueKind::Str(pattern) = &value.kind
            && !is_plainly_valid_regex(pattern)
            && let Err(reason) = crate::regex::compile(pattern)
        {
            return self.fatal(
                ErrorCode::InvalidRegex,
                value.span,
                format!(
                    "invalid regex {}: {reason}",
                    self.src
                        .get(value.span.start..value.span.end)
                        .unwrap_or_default()
                ),
                vec!["a valid regular expression".into()],
            );
        }
        Ok((rest, value))
    }

    // ---- values ----------------------------------------------------------------------------

    /// `Value = List / Object / Variable / Primitive`, in this order.
    fn value(&self, i: &'a str, depth: usize) -> PResult<'a, Value> {
        match i.as_bytes().first() {
            Some(b'[') => match self.list(i, depth) {
                // `[$x` (unbalanced) is still a chain with one path variable.
                Err(nom::Err::Error(_)) => self.chain(i),
                other => other,
            },
            Some(b'{') => self.object(i, depth),
            Some(b'$') => self.variable(i),
            _ => self.primitive(i),
        }
    }

    fn enter(&self, i: &'a str, depth: usize) -> PResult<'a, usize> {
        let depth = depth + 1;
        if depth > self.max_depth {
            let at = self.at(i);
            return self.fatal(
                ErrorCode::TooDeep,
                Span::new(at, at + 1),
                format!(
                    "lists and objects are nested more than {} levels deep",
                    self.max_depth
                ),
                vec![format!("at most {} levels of nesting", self.max_depth)],
            );
        }
        Ok((i, depth))
    }

    fn list(&self, start: &'a str, depth: usize) -> PResult<'a, Value> {
        let (_, depth) = self.enter(start, depth)?;
        // Newlines after '[' and before ']' are an extension: the reference allows them only
        // between items, and multi-line lists are what people write.
        let mut i = blanks_and_newlines(start.get(1..).unwrap_or_default());
        let mut items = Vec::new();
        if let Some(rest) = eat(i, b']') {
            return Ok((
                rest,
                Value::new(ValueKind::List(items), self.span(start, rest)),
            ));
        }
        match self.value(i, depth) {
            Ok((rest, v)) => {
                items.push(v);
                i = rest;
            }
            Err(nom::Err::Error(_)) => {
                return self.fail(i, Expected::VALUE.union(Expected::CLOSE_BRACKET));
            }
            Err(e) => return Err(e),
        }
        loop {
            // Separators are optional and repeatable: `[1 2]`, `[1,,2]` (reference behaviour).
            let mut j = blanks(i);
            while let Some(r) = eat(j, b',').or_else(|| eat(j, b'\n')) {
                j = blanks(r);
            }
            match self.value(j, depth) {
                Ok((rest, v)) => {
                    items.push(v);
                    i = rest;
                }
                Err(nom::Err::Error(_)) => break,
                Err(e) => return Err(e),
            }
        }
        let j = blanks_and_newlines(i);
        match eat(j, b']') {
            Some(rest) => Ok((
                rest,
                Value::new(ValueKind::List(items), self.span(start, rest)),
            )),
            None => self.fail(j, Expected::CLOSE_BRACKET.union(Expected::SEPARATOR)),
        }
    }

    fn object(&self, start: &'a str, depth: usize) -> PResult<'a, Value> {
        let (_, depth) = self.enter(start, depth)?;
        let mut i = blanks_and_newlines(start.get(1..).unwrap_or_default());
        let mut entries = Vec::new();
        if let Some(rest) = eat(i, b'}') {
            return Ok((
                rest,
                Value::new(ValueKind::Object(entries), self.span(start, rest)),
            ));
        }
        loop {
            let (rest, key) = if at_byte(i, b'"') {
                let (rest, (key, _)) = self.string_literal(i)?;
                (rest, key)
            } else {
                match run_of(i, is_object_key_char) {
                    Some((rest, key)) => (rest, key.to_owned()),
                    None => {
                        let what = if entries.is_empty() {
                            Expected::OBJECT_KEY.union(Expected::CLOSE_BRACE)
                        } else {
                            Expected::OBJECT_KEY
                        };
                        return self.fail(i, what);
                    }
                }
            };
            let rest = gap(rest);
            let Some(rest) = eat(rest, b':') else {
                return self.fail(rest, Expected::COLON);
            };
            let (rest, value) = self.value(gap(rest), depth)?;
            entries.push((key, value));
            // Entries are separated by ',' or (an extension, grammar.md section 5 #4) a newline.
            let j = blanks(rest);
            if let Some(after) = eat(j, b',') {
                i = blanks_and_newlines(after);
                continue;
            }
            let k = blanks_and_newlines(j);
            if let Some(end) = eat(k, b'}') {
                return Ok((
                    end,
                    Value::new(ValueKind::Object(entries), self.span(start, end)),
                ));
            }
            if at_byte(j, b'\n') {
                i = k;
                continue;
            }
            return self.fail(j, Expected::COMMA.union(Expected::CLOSE_BRACE));
        }
    }

    /// `$name`, dots and colons included.
    fn variable(&self, i: &'a str) -> PResult<'a, Value> {
        let after = i.get(1..).unwrap_or_default();
        match run_of(after, is_dotted_ident_char) {
            Some((rest, name)) => Ok((
                rest,
                Value::new(ValueKind::Var(name.to_owned()), self.span(i, rest)),
            )),
            None => self.fail(after, Expected::VAR_NAME),
        }
    }

    /// `NULL / BOOLEAN / STRING / FLOAT / INTEGER / Chain`: a literal prefix wins even when a
    /// name continues it (`nullable` is `null` then an error), as in the reference.
    fn primitive(&self, i: &'a str) -> PResult<'a, Value> {
        let literal = match i.as_bytes().first() {
            Some(b'n') => i.strip_prefix("null").map(|r| (r, ValueKind::Null)),
            Some(b't') => i.strip_prefix("true").map(|r| (r, ValueKind::Bool(true))),
            Some(b'f') => i.strip_prefix("false").map(|r| (r, ValueKind::Bool(false))),
            _ => None,
        };
        if let Some((rest, kind)) = literal {
            return Ok((rest, Value::new(kind, self.span(i, rest))));
        }
        if at_byte(i, b'"') {
            return self.string(i);
        }
        if let Some(parsed) = self.number(i)? {
            return Ok(parsed);
        }
        match self.chain(i) {
            Err(nom::Err::Error(_)) => self.fail(i, Expected::VALUE),
            other => other,
        }
    }

    fn number(&self, i: &'a str) -> Result<Option<(&'a str, Value)>, nom::Err<Fail>> {
        let Some((len, is_float)) = number_token(i) else {
            return Ok(None);
        };
        if !is_float {
            return self.integer(i);
        }
        let (text, rest) = i.split_at(len);
        let span = self.span(i, rest);
        match text.parse::<f64>() {
            Ok(x) => Ok(Some((rest, Value::new(ValueKind::Float(x), span)))),
            Err(_) => Err(self.fatal_err(
                ErrorCode::InvalidLiteral,
                span,
                format!("invalid number {text}"),
                vec![],
            )),
        }
    }

    /// An integer literal, or `None` when `i` does not start with one.
    fn integer(&self, i: &'a str) -> Result<Option<(&'a str, Value)>, nom::Err<Fail>> {
        let Some((len, _)) = number_token(i) else {
            return Ok(None);
        };
        // Only the integer part: `1.5` where an integer is expected is `1` then `.5`.
        let bytes = i.as_bytes();
        let len = bytes
            .iter()
            .take(len)
            .skip(1)
            .position(|&b| b == b'.')
            .map_or(len, |dot| dot + 1);
        let (text, rest) = i.split_at(len);
        let span = self.span(i, rest);
        match text.parse::<i64>() {
            Ok(n) => Ok(Some((rest, Value::new(ValueKind::Int(n), span)))),
            Err(_) => Err(self.fatal_err(
                ErrorCode::InvalidLiteral,
                span,
                format!("integer {text} does not fit in 64 bits"),
                vec!["an integer between -9223372036854775808 and 9223372036854775807".into()],
            )),
        }
    }

    fn string(&self, i: &'a str) -> PResult<'a, Value> {
        let (rest, (s, span)) = self.string_literal(i)?;
        Ok((rest, Value::new(ValueKind::Str(s), span)))
    }

    /// A double-quoted string (at `"`), decoded, with its span.
    fn string_literal(&self, i: &'a str) -> PResult<'a, (String, Span)> {
        let at = self.at(i);
        let Some(len) = string_token_len(i) else {
            let line_len = i.find('\n').unwrap_or(i.len());
            return self.fatal(
                ErrorCode::Syntax,
                Span::new(at, at + line_len),
                "unterminated string",
                vec!["'\"'".into()],
            );
        };
        let (token, rest) = i.split_at(len);
        match decode_string(token) {
            Ok(s) => Ok((rest, (s, Span::new(at, at + len)))),
            Err(e) => self.fatal(
                ErrorCode::InvalidLiteral,
                Span::new(at + e.start, at + e.end),
                e.message,
                vec!["a valid string literal".into()],
            ),
        }
    }

    /// `ChainItem ("."? ChainItem)*` with `ChainItem = "["? "$" IDENT "]"? / IDENT`.
    ///
    /// The first item must name a statement: the reference also reads `[$x` (a path variable
    /// with an optional bracket) as a chain whose target comes from a variable, which no
    /// validation could check before the calls, and which prints back as a list.
    fn chain(&self, i: &'a str) -> PResult<'a, Value> {
        let (mut rest, first) = self.chain_item(i)?;
        if matches!(first, ChainItem::Var(_)) {
            return self.fail(i, Expected::CHAIN_ITEM);
        }
        let mut items = vec![first];
        loop {
            let next = eat(rest, b'.').unwrap_or(rest);
            match self.chain_item(next) {
                Ok((r, item)) => {
                    items.push(item);
                    rest = r;
                }
                Err(_) => break,
            }
        }
        Ok((
            rest,
            Value::new(ValueKind::Chain(items), self.span(i, rest)),
        ))
    }

    fn chain_item(&self, i: &'a str) -> PResult<'a, ChainItem> {
        let var = eat(i, b'[').unwrap_or(i);
        if let Some(after) = eat(var, b'$') {
            let Some((rest, name)) = run_of(after, is_ident_char) else {
                return self.fail(after, Expected::VAR_NAME);
            };
            let rest = eat(rest, b']').unwrap_or(rest);
            return Ok((rest, ChainItem::Var(name.to_owned())));
        }
        match run_of(i, is_ident_char) {
            Some((rest, name)) => Ok((rest, ChainItem::Key(name.to_owned()))),
            None => self.fail(i, Expected::CHAIN_ITEM),
        }
    }
}

fn clause_order_message(keyword: &str) -> String {
    format!(
        "{keyword} comes too late; clauses go in this order: as, in, modifiers (headers, timeout, max-age, s-max-age, depends-on), with, only or hidden, ignore-errors"
    )
}

/// Patterns without groups, classes, repetitions, alternations or escapes always compile;
/// skipping the compiler for them keeps parsing cheap (`matches("^Super")` is the usual case).
fn is_plainly_valid_regex(pattern: &str) -> bool {
    !pattern.contains(['\\', '(', ')', '[', ']', '{', '}', '*', '+', '?', '|'])
}

/// Whether only blanks separate `before`'s end from the start of its line.
fn at_line_start(before: &str) -> bool {
    let trimmed = before.trim_end_matches([' ', '\t', '\r']);
    trimmed.is_empty() || trimmed.ends_with('\n')
}

/// A further `ignore-errors` after the flag: blanks, `,` or a newline, blanks.
fn item_separator_same_kind(i: &str) -> Option<&str> {
    let rest = blanks(i);
    let rest = eat(rest, b',').or_else(|| eat(rest, b'\n'))?;
    Some(blanks(rest))
}

/// Would `FlagsClause` match here (a blank, possibly a newline, then `ignore-errors`)?
fn flags_ahead(i: &str) -> bool {
    mandatory_blank(i).is_some_and(|j| j.starts_with("ignore-errors"))
}

/// Would `BS Statement` match here? A statement parses as soon as its method, a blank and a
/// name do (everything after is optional), so that is all this looks at.
fn statement_ahead(i: &str) -> bool {
    if !at_byte(i, b'\n') {
        return false;
    }
    let j = blanks_and_newlines(i);
    ["from", "to", "into", "update", "delete"].iter().any(|m| {
        j.strip_prefix(m)
            .and_then(mandatory_blank)
            .and_then(|k| k.chars().next())
            .is_some_and(is_ident_char)
    })
}
