//! Lexical layer (grammar.md section 2): character classes, blanks and comments, keywords,
//! and the decoding of string and number literals.
//!
//! Everything here works on `&str` suffixes of the query text and never allocates on the
//! happy path except for the decoded value itself.

use nom::IResult;
use nom::Parser as _;
use nom::bytes::complete::take_while1;

/// `[A-Za-z0-9:_-]`: resource names, aliases, header names, chain items.
pub(super) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-')
}

/// `[A-Za-z0-9:_.-]`: `with` keys, variable names, `in` targets, `only` paths.
pub(super) fn is_dotted_ident_char(c: char) -> bool {
    is_ident_char(c) || c == '.'
}

/// `[A-Za-z0-9_-]`: bare object keys (no `:` and no `.`).
pub(super) fn is_object_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-')
}

/// A run of identifier characters (rest, run), via nom's `take_while1` over bytes: the
/// classes are ASCII-only, so the run always ends on a char boundary.
pub(super) fn run_of(i: &str, class: fn(char) -> bool) -> Option<(&str, &str)> {
    let parsed: IResult<&[u8], &[u8], nom::error::Error<&[u8]>> =
        take_while1(|b: u8| b.is_ascii() && class(char::from(b))).parse(i.as_bytes());
    let (_, run) = parsed.ok()?;
    Some((i.get(run.len()..)?, i.get(..run.len())?))
}

/// `i` after its first byte when that byte is `byte` (a plain byte compare: a `char`
/// pattern costs a `memcmp` call on this hot path).
pub(super) fn eat(i: &str, byte: u8) -> Option<&str> {
    if i.as_bytes().first() == Some(&byte) {
        i.get(1..)
    } else {
        None
    }
}

/// Whether `i` starts with `byte`.
pub(super) fn at_byte(i: &str, byte: u8) -> bool {
    i.as_bytes().first() == Some(&byte)
}

/// `i` after `prefix`, checking the first byte before the rest.
pub(super) fn eat_str<'a>(i: &'a str, prefix: &str) -> Option<&'a str> {
    if i.as_bytes().first() == prefix.as_bytes().first() {
        i.strip_prefix(prefix)
    } else {
        None
    }
}

/// Same-line blanks: spaces, tabs, `\r` (so CRLF works) and `//` comments up to, not
/// including, the newline (the newline still separates what follows).
pub(super) fn blanks(i: &str) -> &str {
    skip_blanks(i, false)
}

/// A byte loop: this runs between every two tokens.
fn skip_blanks(i: &str, newlines: bool) -> &str {
    let bytes = i.as_bytes();
    let mut at = 0;
    loop {
        match bytes.get(at) {
            Some(b' ' | b'\t' | b'\r') => at += 1,
            Some(b'\n') if newlines => at += 1,
            Some(b'/') if bytes.get(at + 1) == Some(&b'/') => {
                at = bytes
                    .get(at..)
                    .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
                    .map_or(bytes.len(), |nl| at + nl);
            }
            // Only ASCII bytes were skipped, so `at` is on a char boundary.
            _ => return i.get(at..).unwrap_or_default(),
        }
    }
}

/// Blanks inside a clause, where the next token is required: like [`blanks`], but a
/// comment also takes its newline (restQL comments end with their newline, so this is
/// where the reference allowed `a = // note` NL `1`).
pub(super) fn gap(mut i: &str) -> &str {
    loop {
        let rest = blanks(i);
        if rest.len() < i.len()
            && i.get(..i.len() - rest.len())
                .is_some_and(|s| s.contains("//"))
            && let Some(after) = eat(rest, b'\n')
        {
            i = after;
        } else {
            return rest;
        }
    }
}

/// Blanks, comments and newlines, any number.
pub(super) fn blanks_and_newlines(i: &str) -> &str {
    skip_blanks(i, true)
}

/// Mandatory blank (`WS_MAND`): at least one blank, comment or newline.
pub(super) fn mandatory_blank(i: &str) -> Option<&str> {
    let rest = blanks_and_newlines(i);
    (rest.len() < i.len()).then_some(rest)
}

/// `kw` followed by something that cannot continue a word.
pub(super) fn keyword<'a>(i: &'a str, kw: &str) -> Option<&'a str> {
    // Most probes fail on the first byte; check it before comparing the whole keyword.
    if i.as_bytes().first() != kw.as_bytes().first() {
        return None;
    }
    let rest = i.strip_prefix(kw)?;
    match rest.chars().next() {
        Some(c) if is_dotted_ident_char(c) => None,
        _ => Some(rest),
    }
}

/// The separator between items of `with`, `only` and `headers` lists: blanks, then `,` or a
/// newline, then any number of blank lines, then blanks.
pub(super) fn item_separator(i: &str) -> Option<&str> {
    let rest = blanks(i);
    let rest = eat(rest, b',').or_else(|| eat(rest, b'\n'))?;
    Some(blanks_and_newlines(rest))
}

/// Where a double-quoted string token ends: the byte length of the token including both
/// quotes, or `None` when it is never closed. `\` escapes the next character, so `\"` stays
/// inside the string.
pub(super) fn string_token_len(i: &str) -> Option<usize> {
    let bytes = i.as_bytes();
    let mut at = 1;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'"' => return Some(at + 1),
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
    None
}

/// Why a string literal is invalid, with the byte range (relative to the token) to blame.
#[derive(Debug)]
pub(super) struct StringError {
    pub(super) message: String,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// Decode the body of a string token (quotes included) with Go's rules, plus `\"`.
pub(super) fn decode_string(token: &str) -> Result<String, StringError> {
    let body = token
        .get(1..token.len().saturating_sub(1))
        .unwrap_or_default();
    if !body.contains(['\\', '\n']) {
        return Ok(body.to_owned());
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        // Offsets are relative to the token, which starts with the opening quote.
        let start = at + 1;
        match c {
            '\n' => {
                return Err(StringError {
                    message: "raw newline in string; write '\\n' instead".into(),
                    start,
                    end: start + 1,
                });
            }
            '\\' => {
                let Some((_, esc)) = chars.next() else {
                    return Err(StringError {
                        message: "unterminated escape in string".into(),
                        start,
                        end: start + 1,
                    });
                };
                let simple = match esc {
                    'a' => Some(0x07),
                    'b' => Some(0x08),
                    'f' => Some(0x0c),
                    'n' => Some(b'\n'),
                    'r' => Some(b'\r'),
                    't' => Some(b'\t'),
                    'v' => Some(0x0b),
                    '\\' => Some(b'\\'),
                    '"' => Some(b'"'),
                    _ => None,
                };
                if let Some(byte) = simple {
                    out.push(byte);
                    continue;
                }
                let (digits, radix) = match esc {
                    'x' => (2, 16),
                    'u' => (4, 16),
                    'U' => (8, 16),
                    '0'..='7' => (2, 8),
                    _ => {
                        return Err(StringError {
                            // Messages stay on one line: name control characters.
                            message: match esc {
                                '\n' => "invalid escape in string: '\\' before a newline".into(),
                                c if c.is_control() => format!(
                                    "invalid escape in string: '\\' before U+{:04X}",
                                    c as u32
                                ),
                                c => format!("invalid escape '\\{c}' in string"),
                            },
                            start,
                            end: start + 1 + esc.len_utf8(),
                        });
                    }
                };
                let mut value: u32 = if radix == 8 {
                    esc as u32 - '0' as u32
                } else {
                    0
                };
                let mut end = start + 2;
                for _ in 0..digits {
                    match chars.peek().and_then(|&(_, d)| d.to_digit(radix)) {
                        Some(d) => {
                            value = value * radix + d;
                            chars.next();
                            end += 1;
                        }
                        None => {
                            return Err(StringError {
                                message: format!(
                                    "invalid escape '{}' in string: expected {} {} digits",
                                    token.get(start..end).unwrap_or("\\"),
                                    if radix == 8 { digits + 1 } else { digits },
                                    if radix == 8 { "octal" } else { "hex" }
                                ),
                                start,
                                end,
                            });
                        }
                    }
                }
                match esc {
                    // `\xHH` and octal escapes are single bytes, as in Go.
                    'x' | '0'..='7' => match u8::try_from(value) {
                        Ok(byte) => out.push(byte),
                        Err(_) => {
                            return Err(StringError {
                                message: format!(
                                    "octal escape '{}' is above \\377",
                                    token.get(start..end).unwrap_or("\\")
                                ),
                                start,
                                end,
                            });
                        }
                    },
                    _ => match char::from_u32(value) {
                        Some(ch) => {
                            let mut buf = [0; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        None => {
                            return Err(StringError {
                                message: format!(
                                    "escape '{}' is not a unicode scalar value",
                                    token.get(start..end).unwrap_or("\\")
                                ),
                                start,
                                end,
                            });
                        }
                    },
                }
            }
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    String::from_utf8(out).map_err(|_| StringError {
        message: "byte escapes in string do not form valid utf-8".into(),
        start: 0,
        end: token.len(),
    })
}

/// A number token: `("+"|"-")? NATURAL ("." DIGITS)?`. Returns its length and whether it has
/// a fraction, or `None` when `i` does not start with one. `NATURAL` is `0` or a digit run
/// without a leading zero, so `01` lexes as `0` followed by `1` (an error later).
pub(super) fn number_token(i: &str) -> Option<(usize, bool)> {
    let bytes = i.as_bytes();
    let mut at = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    match bytes.get(at) {
        Some(b'0') => at += 1,
        Some(b'1'..=b'9') => {
            at += 1;
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
        }
        _ => return None,
    }
    // A fraction needs a digit after the dot; `1.` is the integer 1 followed by `.`.
    if bytes.get(at) == Some(&b'.') && bytes.get(at + 1).is_some_and(u8::is_ascii_digit) {
        at += 1;
        while bytes.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        return Some((at, true));
    }
    Some((at, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_stop_before_the_newline() {
        assert_eq!(blanks("  // c\nx"), "\nx");
        assert_eq!(blanks_and_newlines(" // c\r\n\t x"), "x");
        assert_eq!(mandatory_blank("x"), None);
    }

    #[test]
    fn go_escapes_decode() {
        let s = decode_string(r#""a\x41\u00e9\U0001F600\101\"\\""#);
        assert_eq!(s.ok().as_deref(), Some("aAé😀A\"\\"));
        assert!(decode_string(r#""\q""#).is_err());
        assert!(decode_string(r#""\ud800""#).is_err());
        assert!(decode_string(r#""\400""#).is_err());
        assert!(decode_string(r#""\xff""#).is_err());
    }

    #[test]
    fn numbers_follow_the_grammar() {
        assert_eq!(number_token("01"), Some((1, false)));
        assert_eq!(number_token("-1.50x"), Some((5, true)));
        assert_eq!(number_token("1."), Some((1, false)));
        assert_eq!(number_token("-x"), None);
        assert_eq!(string_token_len(r#""a\"b" x"#), Some(6));
        assert_eq!(string_token_len(r#""a\"#), None);
    }
}
