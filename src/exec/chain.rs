//! Chained values read straight from an answer's JSON text: only the chained path is visited,
//! everything else is skipped without being built. Bodies that are only chained from are
//! never parsed into a tree.

use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;

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
            }
            let obj: Vec<String> = vec!["obj".into()];
            assert_eq!(value_at(body, &obj), walk(&parsed, &obj));
        }
    }
}
