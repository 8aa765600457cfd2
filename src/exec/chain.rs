//! Chained values read straight from an answer's JSON text: only the chained path is visited,
//! everything else is skipped without being built. Bodies that are only chained from are
//! never parsed into a tree.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value as Json;
use serde_json::value::RawValue;

use crate::plan::values::Val;

/// The value at `path` in JSON `text`, with the meaning of a walk over the parsed body:
/// objects step into the named key (the last of repeated keys wins), arrays map the rest of
/// the path over their elements, a `null` or absent end is `Missing`. `text` is valid JSON
/// (answers are checked on arrival): the walk only scans bytes, and builds the value at the
/// end of the path alone.
pub(crate) fn value_at(text: &str, path: &[String]) -> Val {
    let b = text.as_bytes();
    path_value(text, b, ws(b, 0), path).0
}

/// The value at `path` starting at byte `i`, and the end of the value there.
fn path_value(text: &str, b: &[u8], i: usize, path: &[String]) -> (Val, usize) {
    let Some((key, rest)) = path.split_first() else {
        return match leaf_value(text, b, i) {
            (Val::Scalar(Json::Null), end) => (Val::Missing, end),
            other => other,
        };
    };
    match b.get(i) {
        Some(b'{') => {
            let mut found = Val::Missing;
            let end = each_member(text, b, i, |name, at| {
                if key_is(name, key) {
                    let (val, end) = path_value(text, b, at, rest);
                    found = val;
                    Some(end)
                } else {
                    None
                }
            });
            (found, end)
        }
        Some(b'[') => {
            let mut items = Vec::new();
            let end = each_element(b, i, |at| {
                let (val, end) = path_value(text, b, at, path);
                items.push(val);
                end
            });
            (Val::List(items), end)
        }
        // Scalars have no keys to step into.
        _ => (Val::Missing, value_end(b, i)),
    }
}

/// The value at `path` in JSON `text` stepping through objects only (the last of repeated
/// keys wins), like a lookup by key in the parsed body: `None` when a step is absent or not an
/// object. Only the value at the end is built.
pub(crate) fn member_at(text: &str, path: &[String]) -> Option<Json> {
    let value = member_text_at(text, path)?;
    serde_json::from_str(value).ok()
}

/// The text of the value [`member_at`] finds, unparsed.
pub(crate) fn member_text_at<'t>(text: &'t str, path: &[String]) -> Option<&'t str> {
    let b = text.as_bytes();
    let mut at = ws(b, 0);
    for key in path {
        if b.get(at) != Some(&b'{') {
            return None;
        }
        let mut found = None;
        each_member(text, b, at, |name, start| {
            if key_is(name, key) {
                found = Some(start);
            }
            None
        });
        at = found?;
    }
    text.get(at..value_end(b, at))
}

/// The value starting at byte `i` as [`Val::from_owned_json`] makes it from the parsed value,
/// and its end: lists element by element, scalars without a deserializer where they need no
/// decoding.
fn leaf_value(text: &str, b: &[u8], i: usize) -> (Val, usize) {
    if b.get(i) == Some(&b'[') {
        let mut items = Vec::new();
        let end = each_element(b, i, |at| {
            let (val, end) = leaf_value(text, b, at);
            items.push(val);
            end
        });
        return (Val::List(items), end);
    }
    let end = value_end(b, i);
    let token = text.get(i..end).unwrap_or("");
    let val = match plain_scalar(token) {
        Some(scalar) => Val::Scalar(scalar),
        None => match serde_json::from_str::<Json>(token) {
            Ok(value) => Val::from_owned_json(value),
            Err(_) => Val::Missing,
        },
    };
    (val, end)
}

/// The value of a checked scalar token that needs no decoding: a string without escapes, a
/// non-negative integer in 19 digits, `true`, `false`, `null`. Chained ids are mostly these,
/// and building them here spares a deserializer per value. `None` for anything else.
fn plain_scalar(token: &str) -> Option<Json> {
    let b = token.as_bytes();
    match b.first()? {
        b'"' => {
            let inner = token.get(1..token.len().checked_sub(1)?)?;
            (!inner.contains('\\')).then(|| Json::String(inner.to_owned()))
        }
        b'0'..=b'9' if b.len() <= 19 && b.iter().all(u8::is_ascii_digit) => {
            token.parse::<u64>().ok().map(|n| Json::Number(n.into()))
        }
        _ => match token {
            "true" => Some(Json::Bool(true)),
            "false" => Some(Json::Bool(false)),
            "null" => Some(Json::Null),
            _ => None,
        },
    }
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// Past the closing quote of the string whose opening quote is at `i`.
fn string_end(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        match c {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// The end of the value starting at `i`: strings by their quotes, objects and arrays by
/// their brackets (quotes inside skipped), scalars up to the next delimiter.
fn value_end(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => string_end(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while let Some(&c) = b.get(j) {
                match c {
                    b'"' => {
                        j = string_end(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            b.len()
        }
        _ => {
            let mut j = i;
            while let Some(&c) = b.get(j) {
                if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                j += 1;
            }
            j
        }
    }
}

/// Visits the members of the object at `i` in order: `visit(key token, value start)` reads
/// the value and returns its end, or `None` to have it skipped. Returns the object's end.
fn each_member(
    text: &str,
    b: &[u8],
    i: usize,
    mut visit: impl FnMut(&str, usize) -> Option<usize>,
) -> usize {
    let mut j = ws(b, i + 1);
    while b.get(j) == Some(&b'"') {
        let key_end = string_end(b, j);
        let name = text.get(j..key_end).unwrap_or("");
        // Past the colon.
        let start = ws(b, ws(b, key_end) + 1);
        let end = visit(name, start).unwrap_or_else(|| value_end(b, start));
        j = ws(b, end);
        if b.get(j) == Some(&b',') {
            j = ws(b, j + 1);
        }
    }
    // The closing brace.
    (j + 1).min(b.len())
}

/// Visits the elements of the array at `i`: `visit(start)` reads one and returns its end.
/// Returns the array's end.
fn each_element(b: &[u8], i: usize, mut visit: impl FnMut(usize) -> usize) -> usize {
    let mut j = ws(b, i + 1);
    while j < b.len() && b[j] != b']' {
        let end = visit(j).max(j + 1);
        j = ws(b, end);
        if b.get(j) == Some(&b',') {
            j = ws(b, j + 1);
        }
    }
    (j + 1).min(b.len())
}

/// Whether an object key's token (quotes included) is `key`: compared in place, decoded
/// only when it has escapes.
fn key_is(token: &str, key: &str) -> bool {
    let inner = token
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or("");
    if !inner.contains('\\') {
        return inner == key;
    }
    serde_json::from_str::<String>(token).is_ok_and(|k| k == key)
}

/// The kind of a JSON value, from its first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    Null,
    Other,
}

pub(crate) fn kind_of(raw: &RawValue) -> Kind {
    match raw.get().trim_start().as_bytes().first() {
        Some(b'{') => Kind::Object,
        Some(b'[') => Kind::Array,
        Some(b'n') => Kind::Null,
        _ => Kind::Other,
    }
}

/// The member `name` of a JSON object's text (the last of repeated keys wins), unparsed.
pub(crate) fn member<'t>(raw: &'t RawValue, name: &str) -> Option<&'t RawValue> {
    if kind_of(raw) != Kind::Object {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    de.deserialize_map(RawMember(name)).ok().flatten()
}

struct RawMember<'k>(&'k str);

impl<'de> Visitor<'de> for RawMember<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(matches) = map.next_key_seed(KeyIs(self.0))? {
            if matches {
                found = Some(map.next_value::<&'de RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// The elements of a JSON array's text, unparsed.
pub(crate) fn elements(raw: &RawValue) -> Vec<&RawValue> {
    serde_json::from_str(raw.get()).unwrap_or_default()
}

/// The members of a JSON object's text in order, values unparsed, repeated keys kept.
pub(crate) fn members(raw: &RawValue) -> Vec<(String, &RawValue)> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    de.deserialize_map(RawMembers).unwrap_or_default()
}

struct RawMembers;

impl<'de> Visitor<'de> for RawMembers {
    type Value = Vec<(String, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(key) = map.next_key::<String>()? {
            out.push((key, map.next_value::<&'de RawValue>()?));
        }
        Ok(out)
    }
}

/// Compares an object key with the wanted one without allocating it (escaped keys arrive
/// decoded in a scratch buffer, unescaped ones borrowed from the text).
struct KeyIs<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<bool, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The walk over a parsed body, which `value_at` must agree with.
    use crate::exec::walk;

    #[test]
    fn agrees_with_a_walk_over_the_parsed_body() {
        let bodies = [
            r#"{"id": 1, "sku": "A\"1", "tags": ["x", null], "n": null}"#,
            r#"{"items": [{"sku": "a"}, {"sku": "b", "x": {"y": [1, 2]}}, 3, {"sku": null}]}"#,
            r#"[{"a": {"b": 1}}, {"a": [{"b": 2}, {"c": 3}]}, [], "s"]"#,
            r#"{"a\u0062": 1, "ab": 2, "dup": 1, "dup": {"k": "last"}}"#,
            r#"{"obj": {"z": 1, "a": [true, {"q": 1.5}]}}"#,
            "42",
            "null",
            // Blanks everywhere, escapes and brackets inside strings, nested values skipped.
            " { \"a\" :\n{ \"b\" : [ 1 , { \"c\" : \"}]\\\\\" } ] } ,\t\"id\" : -1.5e3 , \"sku\" : \"x\" }\r\n",
            r#"{"x": [[{"id": 1}], {"id": [2, {"id": 3}]}], "id": "\u00e9\"", "sku": {"id": {}}}"#,
            r#"[ ]"#,
            r#"{"items": [], "ab": [1, "]", {"b": "{"}], "tags": {"": 0}, "id": true}"#,
            r#"{"": 1, "id": false, "a": {"b": null}, "items": [{"sku": 1e300}]}"#,
            // Scalars read without a deserializer next to ones that need it.
            r#"{"x": [0, 7, [null, [1, "a"], {"k": null}], [], 9999999999999999999, 18446744073709551616, -3, -0, 1.5, 2e3, "a", "b\n", "", true, false, null], "id": "\u00e9", "sku": 10}"#,
        ];
        let paths: [&[&str]; 12] = [
            &[],
            &["id"],
            &["x"],
            &["x", "id"],
            &[""],
            &["sku"],
            &["tags"],
            &["items", "sku"],
            &["items", "x", "y"],
            &["a", "b"],
            &["ab"],
            &["dup", "k"],
        ];
        for body in bodies {
            let parsed: Json = serde_json::from_str(body).expect("valid test JSON");
            for path in paths {
                let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
                assert_eq!(
                    value_at(body, &path),
                    walk(&parsed, &path),
                    "{body} at {path:?}"
                );
                let by_key = path.iter().try_fold(&parsed, |j, k| j.get(k.as_str()));
                assert_eq!(
                    member_at(body, &path).as_ref(),
                    by_key,
                    "{body} at {path:?} by key"
                );
            }
            let obj: Vec<String> = vec!["obj".into()];
            assert_eq!(value_at(body, &obj), walk(&parsed, &obj));
            let raw: &RawValue = serde_json::from_str(body).expect("valid test JSON");
            if let Json::Object(map) = &parsed {
                for (k, v) in map {
                    let text = member(raw, k).map(|m| m.get());
                    assert_eq!(
                        text.map(|t| serde_json::from_str::<Json>(t).ok()),
                        Some(Some(v.clone()))
                    );
                }
                let last: serde_json::Map<String, Json> = members(raw)
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::from_str(v.get()).expect("member")))
                    .collect();
                assert_eq!(&last, map, "{body} members");
            }
            if let Json::Array(items) = &parsed {
                let texts: Vec<Json> = elements(raw)
                    .into_iter()
                    .map(|v| serde_json::from_str(v.get()).expect("element"))
                    .collect();
                assert_eq!(&texts, items, "{body} elements");
            }
        }
    }
}
