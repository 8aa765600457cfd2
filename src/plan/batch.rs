//! Batch items and groups: the part of a call that a batch endpoint needs. A multiplexed item
//! aimed at a resource with a batch mapping keeps its single request (for debug output and
//! in-query dedupe) and gains its key and its group; the executor collects the keys of a group
//! and sends them in chunks.
//!
//! A group is what every key of one batch call shares: the resource, the batch request with
//! every value but the keys, and the request headers that vary the answer. Two items with the
//! same group id may share a call; two users' items never do (their `Authorization` or
//! `Cookie` differ, and so does the id).

use std::fmt::Write as _;
use std::rc::Rc;

use serde_json::Value as Json;

use crate::mapping::{BatchSpec, Encoder, IntegerText, Template, push_path_value};
use crate::plan::request::{append_query, varies};
use crate::plan::values::{ParamVal, Val, text_of};

/// A multiplexed item's place in a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    pub group: Rc<BatchGroup>,
    /// The key as the query gave it (the first-seen form is the one sent).
    pub key: Json,
    /// The key's identity: `1` and `"1"` are the same key.
    pub canonical: Rc<str>,
}

/// Everything one batch call shares but its keys.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchGroup {
    pub resource: String,
    pub spec: Rc<BatchSpec>,
    /// Resource, method, URL and body without keys, varying headers: equal ids share calls.
    pub id: Rc<str>,
    /// The endpoint's origin and path.
    pub path: String,
    /// Query-string text without the keys (other params, literals).
    pub fixed_query: String,
    /// Where the keys go: `(name, encoder, in_body)`.
    pub keys_at: (String, Encoder, bool),
    /// Body fields without the keys (POST).
    pub body: Option<serde_json::Map<String, Json>>,
    pub headers: Rc<[(String, String)]>,
    /// The statement's headers the group was built from (a cheap identity check).
    headers_in: Rc<[(String, String)]>,
    /// When the plan writes no item URLs: the params of the item that made the group, with
    /// another key those of its items (explain writes an item's URL from them). Else empty.
    pub(crate) params: Vec<ParamVal>,
    pub max_response_bytes: usize,
}

/// The canonical text of a key: strings as they are, numbers and booleans as their JSON text
/// (so `1` and `"1"` meet), objects and lists as compact JSON. `None` for null.
pub fn canonical_key(key: &Json) -> Option<String> {
    match key {
        Json::String(s) => Some(s.clone()),
        other => canonical_key_owned(other.clone()),
    }
}

/// [`canonical_key`] of a key owned (a string key is its own text).
pub(crate) fn canonical_key_owned(key: Json) -> Option<String> {
    match key {
        Json::Null => None,
        Json::String(s) => Some(s),
        Json::Number(_) => Some(text_of(&key)),
        other => Some(other.to_string()),
    }
}

/// Whether [`batch_item`] would give `params` the batch item `earlier` (same key as given,
/// same group found by the same lookup): a repeated item may then share `earlier`'s call.
pub(crate) fn gives_same_item(
    earlier: &BatchItem,
    spec: &BatchSpec,
    params: &[ParamVal],
    headers: &Rc<[(String, String)]>,
    groups: &[(Vec<ParamVal>, Rc<BatchGroup>)],
) -> bool {
    let key = params
        .iter()
        .rev()
        .find(|p| *p.key == *spec.on)
        .map(|p| &p.val);
    if !matches!(key, Some(Val::Scalar(j)) if !j.is_null() && *j == earlier.key) {
        return false;
    }
    let others = || params.iter().filter(|p| *p.key != *spec.on);
    groups
        .iter()
        .find(|(sig, g)| {
            Rc::ptr_eq(&g.headers_in, headers)
                && sig.len() == others().count()
                && others().zip(sig).all(|(a, b)| a == b)
        })
        .is_some_and(|(_, g)| Rc::ptr_eq(g, &earlier.group))
}

/// A digest of the key `params` give a batch item, as given (`1` and `"1"` differ): where to
/// look for an earlier item of the statement that [`gives_same_item`]. Reads the key in
/// place; `None` when there is no key to batch on.
pub(crate) fn key_digest(spec: &BatchSpec, params: &[ParamVal]) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let key = match &params.iter().rev().find(|p| *p.key == *spec.on)?.val {
        Val::Scalar(j) if !j.is_null() => j,
        _ => return None,
    };
    let mut h = rustc_hash::FxHasher::default();
    match key {
        Json::String(s) => (0u8, s.as_str()).hash(&mut h),
        Json::Number(n) => {
            let mut digits = IntegerText::default();
            if digits.write(n) {
                (1u8, digits.as_str()).hash(&mut h);
            } else {
                (2u8, n.as_f64().map(f64::to_bits)).hash(&mut h);
            }
        }
        Json::Bool(b) => (3u8, *b).hash(&mut h),
        _ => 4u8.hash(&mut h),
    }
    Some(h.finish())
}

/// The batch item of one multiplexed item, or `None` when it cannot be batched (its key is a
/// list or absent, or a path placeholder of the batch URL has no value).
pub(crate) fn batch_item(
    resource: &str,
    spec: &Rc<BatchSpec>,
    params: &[ParamVal],
    headers: &Rc<[(String, String)]>,
    max_response_bytes: usize,
    groups: &mut Vec<(Vec<ParamVal>, Rc<BatchGroup>)>,
    keep_params: bool,
) -> Option<BatchItem> {
    let last = |name: &str| params.iter().rev().find(|p| &*p.key == name);
    let key = match &last(&spec.on)?.val {
        Val::Scalar(j) if !j.is_null() => j.clone(),
        _ => return None,
    };
    let mut digits = IntegerText::default();
    let canonical: Rc<str> = match &key {
        Json::String(s) => Rc::from(s.as_str()),
        Json::Number(n) if digits.write(n) => Rc::from(digits.as_str()),
        other => canonical_key(other)?.into(),
    };
    // Most items of a statement differ only in their key: the other params decide the group.
    let others = || params.iter().filter(|p| *p.key != *spec.on);
    if let Some((_, group)) = groups.iter().find(|(sig, g)| {
        Rc::ptr_eq(&g.headers_in, headers)
            && sig.len() == others().count()
            && others().zip(sig).all(|(a, b)| a == b)
    }) {
        return Some(BatchItem {
            group: Rc::clone(group),
            key,
            canonical,
        });
    }

    let mut used: Vec<&str> = vec![spec.on.as_str()];
    used.extend(
        spec.url
            .segments
            .iter()
            .filter_map(|s| s.placeholder.as_deref()),
    );
    let mut complete = true;
    let path =
        spec.url.render_path(
            |name, url| match last(name).and_then(|p| p.val.to_json(p.explode)) {
                Some(j) if !j.is_null() => push_path_value(url, &text_of(&j)),
                _ => complete = false,
            },
        );
    if !complete {
        return None;
    }
    let mut keys_at = None;
    let mut fixed_query = String::new();
    let mut body = spec.body.as_ref().map(|_| serde_json::Map::new());
    let body_entries = spec.body.as_deref().unwrap_or(&[]);
    for (entries, in_body) in [(&spec.query[..], false), (body_entries, true)] {
        for (name, t) in entries {
            let value = match t {
                Template::Keys(e) => {
                    keys_at.get_or_insert((name.clone(), *e, in_body));
                    continue;
                }
                Template::Literal(text) => Some(Json::String(text.clone())),
                Template::Param(p) => {
                    used.push(p.as_str());
                    last(p).and_then(|p| p.val.to_json(p.explode))
                }
            };
            match (in_body, value) {
                (true, Some(v)) => {
                    if let Some(b) = body.as_mut() {
                        b.insert(name.clone(), v);
                    }
                }
                (false, Some(v)) => append_query(&mut fixed_query, name, &v),
                (_, None) => {}
            }
        }
    }
    let keys_at = keys_at?;
    // Other `with` values pass through by name: into the body of a POST, else the query.
    for (i, p) in params.iter().enumerate() {
        let later = params[i + 1..].iter().any(|q| q.key == p.key);
        if later || used.contains(&&*p.key) {
            continue;
        }
        let Some(v) = p.val.to_json(p.explode) else {
            continue;
        };
        match body.as_mut() {
            Some(b) => {
                b.insert(p.key.to_string(), v);
            }
            None => append_query(&mut fixed_query, &p.key, &v),
        }
    }

    let mut id = String::with_capacity(path.len() + fixed_query.len() + 32);
    let _ = write!(id, "{resource} {} {path}?{fixed_query}", spec.method);
    if let Some(b) = &body {
        let _ = write!(id, " {}", Json::Object(b.clone()));
    }
    // In the statement's order: the same headers in another order only cost a separate call.
    for (n, v) in headers.iter().filter(|(n, _)| varies(n)) {
        let _ = write!(id, "\n{}: {v}", n.to_ascii_lowercase());
    }
    let signature: Vec<ParamVal> = others().cloned().collect();
    let group = match groups.iter().find(|(_, g)| *g.id == *id) {
        Some((_, g)) => Rc::clone(g),
        None => {
            let mut hs: Vec<(String, String)> = headers.to_vec();
            if spec.method == "POST"
                && !hs
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            {
                hs.push(("Content-Type".into(), "application/json".into()));
            }
            if spec.method == "GET" {
                hs.retain(|(n, v)| {
                    !(n.eq_ignore_ascii_case("content-type") && v == "application/json")
                });
            }
            let g = Rc::new(BatchGroup {
                resource: resource.to_string(),
                spec: Rc::clone(spec),
                id: id.into(),
                path,
                fixed_query,
                keys_at,
                body,
                headers: hs.into(),
                headers_in: Rc::clone(headers),
                params: if keep_params {
                    params.to_vec()
                } else {
                    Vec::new()
                },
                max_response_bytes,
            });
            groups.push((signature, Rc::clone(&g)));
            g
        }
    };
    Some(BatchItem {
        group,
        key,
        canonical,
    })
}

impl BatchGroup {
    /// Split `keys` (unique, in first-seen order) into chunks of at most `max` keys whose URL
    /// stays within `max-url` bytes (greedy; a key alone past the limit still gets its call).
    pub fn chunks<'k>(&self, keys: &[&'k Json]) -> Vec<Vec<&'k Json>> {
        let (name, encoder, in_body) = &self.keys_at;
        // `path?` + keys + `&fixed` (the `&` only when there is a fixed part).
        let fixed = match self.fixed_query.len() {
            0 => 0,
            n => n + 1,
        };
        let base = self.path.len() + 1 + fixed;
        let (pre, sep, post) = encoder.query_frame(name);
        let mut out: Vec<Vec<&Json>> = Vec::new();
        let mut len = 0;
        // One buffer measures every key's text.
        let mut text = String::new();
        for (seen, &key) in keys.iter().enumerate() {
            let add = if *in_body {
                0
            } else {
                text.clear();
                encoder.push_query_key(&mut text, name, key);
                text.len()
            };
            let fits = out.last().is_some_and(|c| {
                c.len() < self.spec.max && (*in_body || len + sep.len() + add <= self.spec.max_url)
            });
            if fits {
                len += sep.len() + add;
                if let Some(c) = out.last_mut() {
                    c.push(key);
                }
            } else {
                len = base + pre.len() + post.len() + add;
                // Sized for a full chunk, or what is left.
                let mut chunk = Vec::with_capacity(self.spec.max.min(keys.len() - seen).max(1));
                chunk.push(key);
                out.push(chunk);
            }
        }
        out
    }

    /// The method, URL and body of one chunk's call.
    pub fn render(&self, keys: &[&Json]) -> (String, Option<String>) {
        let (name, encoder, in_body) = &self.keys_at;
        // The query is written straight after the path (a guess at its length saves growing).
        let guess = if *in_body {
            0
        } else {
            keys.len() * (name.len() + 12)
        };
        let mut url = String::with_capacity(self.path.len() + 2 + self.fixed_query.len() + guess);
        url.push_str(&self.path);
        url.push('?');
        let query_at = url.len();
        if !in_body && !keys.is_empty() {
            let (pre, sep, post) = encoder.query_frame(name);
            url.push_str(&pre);
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    url.push_str(sep);
                }
                encoder.push_query_key(&mut url, name, k);
            }
            url.push_str(post);
        }
        if !self.fixed_query.is_empty() {
            if url.len() > query_at {
                url.push('&');
            }
            url.push_str(&self.fixed_query);
        }
        if url.len() == query_at {
            url.pop();
        }
        let body = self.body.as_ref().map(|fields| {
            let mut fields = fields.clone();
            if *in_body {
                fields.insert(name.clone(), encoder.body_value(keys));
            }
            Json::Object(fields).to_string()
        });
        (url, body)
    }
}
