//! Run-time values: AST values with variables and chains resolved, encoders applied, and the
//! multiplexing of lists into a tree of calls (restQL spec §5–§10).

use serde_json::Value as Json;

use crate::syntax::ast::{ChainItem, ParamFn, Value, ValueKind};

/// A `with` value after resolution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    /// A string, number, boolean or null.
    Scalar(Json),
    List(Vec<Val>),
    /// Entries in source order, a repeated key keeping the last value.
    Object(Vec<(String, Val)>),
    /// A variable that was not given: the param, list item or entry is dropped.
    Absent,
    /// A chain that found nothing (or `null`): omitted, and a skipped call in a path.
    Missing,
    /// A chain to a failed target: the call is skipped (restQL's "empty chained" marker).
    Failed,
}

impl Val {
    /// JSON from a variable or a chained body: arrays become lists so that they multiplex.
    pub(crate) fn from_json(json: &Json) -> Val {
        match json {
            Json::Array(items) => Val::List(items.iter().map(Val::from_json).collect()),
            Json::Object(map) => Val::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Val::from_json(v)))
                    .collect(),
            ),
            other => Val::Scalar(other.clone()),
        }
    }

    /// [`Val::from_json`] for a value the caller no longer needs: nothing is copied.
    pub(crate) fn from_owned_json(json: Json) -> Val {
        match json {
            Json::Array(items) => Val::List(items.into_iter().map(Val::from_owned_json).collect()),
            Json::Object(map) => Val::Object(
                map.into_iter()
                    .map(|(k, v)| (k, Val::from_owned_json(v)))
                    .collect(),
            ),
            other => Val::Scalar(other),
        }
    }

    pub(crate) fn contains_failed(&self) -> bool {
        match self {
            Val::Failed => true,
            Val::List(items) => items.iter().any(Val::contains_failed),
            Val::Object(entries) => entries.iter().any(|(_, v)| v.contains_failed()),
            _ => false,
        }
    }

    /// The JSON sent upstream; `None` for absent and missing values. With `explode`, objects
    /// holding lists become lists of objects (restQL §10).
    pub(crate) fn to_json(&self, explode: bool) -> Option<Json> {
        match self {
            Val::Scalar(j) => Some(j.clone()),
            Val::List(items) => Some(Json::Array(
                items.iter().filter_map(|i| i.to_json(explode)).collect(),
            )),
            Val::Object(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    if let Some(j) = v.to_json(explode) {
                        map.insert(k.clone(), j);
                    }
                }
                Some(if explode {
                    explode_object(map)
                } else {
                    Json::Object(map)
                })
            }
            Val::Absent | Val::Missing | Val::Failed => None,
        }
    }
}

/// `{a: [1, 2], b: 3}` -> `[{a: 1, b: 3}, {a: 2, b: 3}]`: as many objects as the shortest list;
/// null members are dropped.
fn explode_object(map: serde_json::Map<String, Json>) -> Json {
    let k = map
        .values()
        .filter_map(|v| v.as_array().map(Vec::len))
        .min();
    let Some(k) = k else {
        return Json::Object(map);
    };
    let objects = (0..k)
        .map(|j| {
            let mut obj = serde_json::Map::new();
            for (key, v) in &map {
                match v {
                    Json::Null => {}
                    Json::Array(items) => {
                        obj.insert(key.clone(), items[j].clone());
                    }
                    other => {
                        obj.insert(key.clone(), other.clone());
                    }
                }
            }
            Json::Object(obj)
        })
        .collect();
    Json::Array(objects)
}

/// Where chained values come from: the executor's results; nothing at plan time.
pub(crate) trait ChainSource {
    /// The value at `path` in the result of statement `target`.
    fn chain_value(&self, target: &str, path: &[String]) -> Val;
}

/// The plan-time source: statements with chains are resolved later, by the executor.
#[derive(Debug)]
pub(crate) struct NoChains;

impl ChainSource for NoChains {
    fn chain_value(&self, _: &str, _: &[String]) -> Val {
        Val::Missing
    }
}

/// Resolve variables and chains in an AST value.
pub(crate) fn resolve(
    value: &Value,
    vars: &serde_json::Map<String, Json>,
    chains: &dyn ChainSource,
) -> Val {
    match &value.kind {
        ValueKind::Str(s) => Val::Scalar(Json::String(s.clone())),
        ValueKind::Int(i) => Val::Scalar(Json::from(*i)),
        ValueKind::Float(f) => {
            Val::Scalar(serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number))
        }
        ValueKind::Bool(b) => Val::Scalar(Json::Bool(*b)),
        ValueKind::Null => Val::Scalar(Json::Null),
        ValueKind::Var(name) => vars.get(name).map_or(Val::Absent, Val::from_json),
        ValueKind::Chain(items) => {
            let mut path = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    ChainItem::Key(k) => path.push(k.clone()),
                    ChainItem::Var(v) => match vars.get(v) {
                        Some(Json::String(s)) => path.push(s.clone()),
                        Some(other @ (Json::Number(_) | Json::Bool(_))) => {
                            path.push(other.to_string());
                        }
                        _ => return Val::Absent,
                    },
                }
            }
            let Some((target, rest)) = path.split_first() else {
                return Val::Missing;
            };
            chains.chain_value(target, rest)
        }
        ValueKind::List(items) => Val::List(
            items
                .iter()
                .map(|i| resolve(i, vars, chains))
                .filter(|v| *v != Val::Absent)
                .collect(),
        ),
        ValueKind::Object(entries) => {
            let mut out: Vec<(String, Val)> = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let v = resolve(v, vars, chains);
                out.retain(|(key, _)| key != k);
                if v != Val::Absent {
                    out.push((k.clone(), v));
                }
            }
            Val::Object(out)
        }
    }
}

/// How a resolved `with` param is sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParamVal {
    /// Shared: every multiplexed item carries the key.
    pub(crate) key: std::rc::Rc<str>,
    pub(crate) val: Val,
    pub(crate) multiplex: bool,
    pub(crate) explode: bool,
    pub(crate) as_body: bool,
    pub(crate) as_query: bool,
    /// Set by `base64` / `json`: a string that is sent raw as a body, not as a JSON string.
    pub(crate) encoded: bool,
}

/// Apply the `-> fn` list left to right: encoders change the value, the others set flags.
pub(crate) fn apply_fns(key: &str, mut val: Val, fns: &[ParamFn]) -> ParamVal {
    let mut p = ParamVal {
        key: std::rc::Rc::from(key),
        val: Val::Absent,
        multiplex: true,
        explode: true,
        as_body: false,
        as_query: false,
        encoded: false,
    };
    for f in fns {
        match f {
            ParamFn::NoMultiplex => p.multiplex = false,
            ParamFn::NoExplode => p.explode = false,
            ParamFn::AsBody => p.as_body = true,
            ParamFn::AsQuery => p.as_query = true,
            ParamFn::Flatten => val = flatten(val),
            // A statement-level choice, read by the planner.
            ParamFn::NoBatch => {}
            ParamFn::Json => {
                val = encode(val, |j| Some(j.to_string()));
                p.encoded = true;
            }
            ParamFn::Base64 => {
                val = encode(val, |j| Some(base64(text_of(&j).as_bytes())));
                p.encoded = true;
            }
        }
    }
    // A whole-body value is sent as it is, never multiplexed (restQL RT-14).
    if p.as_body {
        p.multiplex = false;
    }
    p.val = val;
    p
}

fn encode(val: Val, f: impl Fn(Json) -> Option<String>) -> Val {
    if matches!(val, Val::Absent | Val::Missing | Val::Failed) || val.contains_failed() {
        return val;
    }
    match val.to_json(false).and_then(f) {
        Some(s) => Val::Scalar(Json::String(s)),
        None => Val::Missing,
    }
}

/// Deep-flatten nested lists, dropping nulls; other values are unchanged.
fn flatten(val: Val) -> Val {
    fn walk(v: Val, out: &mut Vec<Val>) {
        match v {
            Val::List(items) => items.into_iter().for_each(|i| walk(i, out)),
            Val::Scalar(Json::Null) | Val::Absent | Val::Missing => {}
            other => out.push(other),
        }
    }
    match val {
        Val::List(_) => {
            let mut out = Vec::new();
            walk(val, &mut out);
            Val::List(out)
        }
        other => other,
    }
}

/// The text form of a value in paths, headers and base64: strings as they are, other values as
/// compact JSON (restQL uses Go's `%v` for base64; we use JSON, see spec §25.8).
pub(crate) fn text_of(j: &Json) -> String {
    match j {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        // Shortest form, as restQL prints floats: `1.0` -> `1`, `2.50` -> `2.5`.
        Json::Number(n) if n.is_f64() => {
            n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string())
        }
        other => other.to_string(),
    }
}

/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A multiplexed shape: one leaf per call, groups for each level of list expansion.
#[derive(Debug, Clone, PartialEq)]
pub enum Tree<T> {
    Leaf(T),
    Group(Vec<Tree<T>>),
}

impl<T> Tree<T> {
    /// How many leaves (calls) the tree has.
    pub fn count(&self) -> usize {
        match self {
            Tree::Leaf(_) => 1,
            Tree::Group(items) => items.iter().map(Tree::count).sum(),
        }
    }

    /// The leaves in order.
    pub fn leaves(&self) -> Vec<&T> {
        let mut out = Vec::new();
        self.for_each(&mut |t| out.push(t));
        out
    }

    /// Visit the leaves in order.
    pub fn for_each<'a>(&'a self, f: &mut impl FnMut(&'a T)) {
        match self {
            Tree::Leaf(t) => f(t),
            Tree::Group(items) => items.iter().for_each(|i| i.for_each(f)),
        }
    }

    /// Visit the leaves in order, mutably.
    pub fn for_each_mut(&mut self, f: &mut impl FnMut(&mut T)) {
        match self {
            Tree::Leaf(t) => f(t),
            Tree::Group(items) => items.iter_mut().for_each(|i| i.for_each_mut(f)),
        }
    }

    /// The same shape with every leaf mapped.
    pub fn map<U>(&self, f: &mut impl FnMut(&T) -> U) -> Tree<U> {
        match self {
            Tree::Leaf(t) => Tree::Leaf(f(t)),
            Tree::Group(items) => Tree::Group(items.iter().map(|i| i.map(f)).collect()),
        }
    }

    /// Whether the statement was expanded into a list of calls (even of one or none).
    pub fn is_multiplexed(&self) -> bool {
        matches!(self, Tree::Group(_))
    }
}

/// Expand list params into calls: all lists (top-level or inside objects, in params that
/// multiplex) are zipped to the shortest, and each produced set is expanded again, so nested
/// lists give nested groups. An empty list gives an empty group: no call (restQL hangs).
/// `item` turns each produced set of params into a leaf. `None` when the expansion would
/// exceed `budget` calls.
pub(crate) fn multiplex<T>(
    params: Vec<ParamVal>,
    budget: &mut usize,
    item: &mut impl FnMut(&[ParamVal]) -> T,
) -> Option<Tree<T>> {
    let Some(k) = shortest_list(&params) else {
        *budget = budget.checked_sub(1)?;
        return Some(Tree::Leaf(item(&params)));
    };
    if k > *budget {
        return None;
    }
    // Move each multiplexing value apart into its k items (no copy of list elements); the
    // other params are copied into every item.
    let mut columns: Vec<std::vec::IntoIter<Val>> = Vec::with_capacity(params.len());
    let mut templates = Vec::with_capacity(params.len());
    for mut p in params {
        if p.multiplex {
            columns.push(split(std::mem::replace(&mut p.val, Val::Absent), k).into_iter());
        } else {
            columns.push(Vec::new().into_iter());
        }
        templates.push(p);
    }
    let mut items = Vec::with_capacity(k);
    // One buffer serves every item that needs no further expansion (the common case).
    let mut picked: Vec<ParamVal> = Vec::with_capacity(templates.len());
    for _ in 0..k {
        picked.clear();
        picked.extend(templates.iter().zip(columns.iter_mut()).map(|(p, column)| {
            if p.multiplex {
                ParamVal {
                    key: p.key.clone(),
                    val: column.next().unwrap_or(Val::Missing),
                    multiplex: p.multiplex,
                    explode: p.explode,
                    as_body: p.as_body,
                    as_query: p.as_query,
                    encoded: p.encoded,
                }
            } else {
                p.clone()
            }
        }));
        if shortest_list(&picked).is_none() {
            *budget = budget.checked_sub(1)?;
            items.push(Tree::Leaf(item(&picked)));
        } else {
            let nested = std::mem::replace(&mut picked, Vec::with_capacity(templates.len()));
            items.push(multiplex(nested, budget, item)?);
        }
    }
    Some(Tree::Group(items))
}

/// The length of the shortest list in the params that multiplex; `None` when there is none.
fn shortest_list(params: &[ParamVal]) -> Option<usize> {
    fn visit(v: &Val, shortest: &mut Option<usize>) {
        match v {
            Val::List(items) => {
                *shortest = Some(shortest.map_or(items.len(), |s| s.min(items.len())))
            }
            Val::Object(entries) => entries.iter().for_each(|(_, v)| visit(v, shortest)),
            _ => {}
        }
    }
    let mut shortest = None;
    for p in params.iter().filter(|p| p.multiplex) {
        visit(&p.val, &mut shortest);
    }
    shortest
}

/// The k items of a multiplexing value: element j of every list in it (lists are at least k
/// long), other parts repeated.
fn split(v: Val, k: usize) -> Vec<Val> {
    match v {
        Val::List(mut items) => {
            items.truncate(k);
            items
        }
        Val::Object(entries) => {
            let mut objects: Vec<Vec<(String, Val)>> =
                (0..k).map(|_| Vec::with_capacity(entries.len())).collect();
            for (key, value) in entries {
                for (object, part) in objects.iter_mut().zip(split(value, k)) {
                    object.push((key.clone(), part));
                }
            }
            objects.into_iter().map(Val::Object).collect()
        }
        other => vec![other; k],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn param(key: &str, j: Json) -> ParamVal {
        apply_fns(key, Val::from_json(&j), &[])
    }

    fn multiplex(params: Vec<ParamVal>) -> Tree<Vec<ParamVal>> {
        super::multiplex(params, &mut 100, &mut |ps| ps.to_vec()).unwrap_or(Tree::Group(vec![]))
    }

    fn shape(t: &Tree<Vec<ParamVal>>) -> Json {
        match t {
            Tree::Leaf(ps) => Json::Object(
                ps.iter()
                    .filter_map(|p| p.val.to_json(true).map(|j| (p.key.to_string(), j)))
                    .collect(),
            ),
            Tree::Group(items) => Json::Array(items.iter().map(shape).collect()),
        }
    }

    #[test]
    fn lists_are_zipped_to_the_shortest() {
        let t = multiplex(vec![
            param("id", json!([1, 2])),
            param("name", json!(["a", "b", "c"])),
        ]);
        assert_eq!(
            shape(&t),
            json!([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
        );
    }

    #[test]
    fn nested_lists_give_nested_groups() {
        let t = multiplex(vec![param("id", json!([[1, 2], [3]]))]);
        assert_eq!(shape(&t), json!([[{"id": 1}, {"id": 2}], [{"id": 3}]]));
    }

    #[test]
    fn lists_inside_objects_multiplex() {
        let t = multiplex(vec![param("profile", json!({"name": ["john", "janne"]}))]);
        assert_eq!(
            shape(&t),
            json!([{"profile": {"name": "john"}}, {"profile": {"name": "janne"}}])
        );
    }

    #[test]
    fn an_empty_list_gives_no_call() {
        let t = multiplex(vec![param("id", json!([1, 2])), param("name", json!([]))]);
        assert_eq!(t, Tree::Group(vec![]));
    }

    #[test]
    fn expansion_stops_at_the_budget() {
        let params = vec![param("id", json!([1, 2, 3]))];
        assert!(super::multiplex(params.clone(), &mut 2, &mut |_| ()).is_none());
        assert!(super::multiplex(params, &mut 3, &mut |_| ()).is_some());
    }

    #[test]
    fn no_multiplex_explodes_objects_with_lists() {
        let p = apply_fns(
            "x",
            Val::from_json(&json!({"a": [1, 2], "b": [3, 4, 5]})),
            &[ParamFn::NoMultiplex],
        );
        assert_eq!(
            p.val.to_json(p.explode),
            Some(json!([{"a": 1, "b": 3}, {"a": 2, "b": 4}]))
        );
        let kept = apply_fns(
            "x",
            Val::from_json(&json!({"a": [1, 2], "b": 3})),
            &[ParamFn::NoExplode, ParamFn::NoMultiplex],
        );
        assert_eq!(
            kept.val.to_json(kept.explode),
            Some(json!({"a": [1, 2], "b": 3}))
        );
    }

    #[test]
    fn encoders_apply_left_to_right() {
        let p = apply_fns(
            "d",
            Val::from_json(&json!({"k": "v"})),
            &[ParamFn::Json, ParamFn::Base64],
        );
        assert_eq!(p.val, Val::Scalar(json!("eyJrIjoidiJ9")));
        let p = apply_fns("n", Val::from_json(&json!("Yavin IV")), &[ParamFn::Base64]);
        assert_eq!(p.val, Val::Scalar(json!("WWF2aW4gSVY=")));
        let p = apply_fns(
            "l",
            Val::from_json(&json!([[1, null, [2]], 3])),
            &[ParamFn::Flatten],
        );
        assert_eq!(p.val.to_json(false), Some(json!([1, 2, 3])));
    }

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }
}
