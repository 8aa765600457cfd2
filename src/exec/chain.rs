//! Chained values read straight from an answer's JSON text: only the chained path is visited,
//! everything else is skipped without being built. Bodies that are only chained from are
//! never parsed into a tree.

use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;
use serde_json::value::RawValue;

use crate::plan::values::Val;

/// The value at `path` in JSON `text`, with the meaning of a walk over the parsed body:
/// objects step into the named key (the last of repeated keys wins), arrays map the rest of
/// the path over their elements, a `null` or absent end is `Missing`.
pub(crate) fn value_at(text: &str, path: &[String]) -> Val {
    let mut de = serde_json::Deserializer::from_str(text);
    PathSeed { path }
        .deserialize(&mut de)
        .unwrap_or(Val::Missing)
}

struct PathSeed<'p> {
    path: &'p [String],
}

impl<'de> DeserializeSeed<'de> for PathSeed<'_> {
    type Value = Val;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Val, D::Error> {
        if self.path.is_empty() {
            // The end of the path: the value as the parsed body would give it.
            return Ok(match Json::deserialize(de)? {
                Json::Null => Val::Missing,
                other => Val::from_owned_json(other),
            });
        }
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PathSeed<'_> {
    type Value = Val;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val, A::Error> {
        // Only reached with a non-empty path (see `deserialize`).
        let Some((key, rest)) = self.path.split_first() else {
            return Ok(Val::Missing);
        };
        let mut found = Val::Missing;
        while let Some(matches) = map.next_key_seed(KeyIs(key))? {
            if matches {
                found = map.next_value_seed(PathSeed { path: rest })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(PathSeed { path: self.path })? {
            items.push(item);
        }
        Ok(Val::List(items))
    }

    // Scalars have no keys to step into.
    fn visit_bool<E>(self, _: bool) -> Result<Val, E> {
        Ok(Val::Missing)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Val, E> {
        Ok(Val::Missing)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Val, E> {
        Ok(Val::Missing)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Val, E> {
        Ok(Val::Missing)
    }
    fn visit_str<E>(self, _: &str) -> Result<Val, E> {
        Ok(Val::Missing)
    }
    fn visit_unit<E>(self) -> Result<Val, E> {
        Ok(Val::Missing)
    }
}

/// The value at `path` in JSON `text` stepping through objects only (the last of repeated
/// keys wins), like a lookup by key in the parsed body: `None` when a step is absent or not an
/// object. Only the value at the end is built.
pub(crate) fn member_at(text: &str, path: &[String]) -> Option<Json> {
    let mut de = serde_json::Deserializer::from_str(text);
    MemberSeed { path }.deserialize(&mut de).ok().flatten()
}

struct MemberSeed<'p> {
    path: &'p [String],
}

impl<'de> DeserializeSeed<'de> for MemberSeed<'_> {
    type Value = Option<Json>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<Json>, D::Error> {
        if self.path.is_empty() {
            return Json::deserialize(de).map(Some);
        }
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MemberSeed<'_> {
    type Value = Option<Json>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Json>, A::Error> {
        let Some((key, rest)) = self.path.split_first() else {
            return Ok(None);
        };
        let mut found = None;
        while let Some(matches) = map.next_key_seed(KeyIs(key))? {
            if matches {
                found = map.next_value_seed(MemberSeed { path: rest })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Json>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Option<Json>, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Option<Json>, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Option<Json>, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Option<Json>, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Option<Json>, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Option<Json>, E> {
        Ok(None)
    }
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
        ];
        let paths: [&[&str]; 9] = [
            &[],
            &["id"],
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
