//! The `batch` field of a mapping's object form: an endpoint that takes many keys in one call,
//! how the keys are written into its request and where each key's item is in its answer.
//! Checked at load time; every problem is an `invalid-mapping` error naming the resource and
//! the field.

use serde_json::Value as Json;

use super::{MappingError, UrlTemplate, encode_into};

/// A resource's batch endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSpec {
    /// The `with` parameter whose values are batched.
    pub on: String,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The batch endpoint; its `:path` placeholders take the other `with` values by name.
    pub url: UrlTemplate,
    /// Query-string entries in order; other `with` values follow by name.
    pub query: Vec<(String, Template)>,
    /// JSON body fields (POST); other `with` values join them by name.
    pub body: Option<Vec<(String, Template)>>,
    /// Keys per call.
    pub max: usize,
    /// Longest URL in bytes; a chunk closes early past it.
    pub max_url: usize,
    /// Where the items are in the answer.
    pub items: Vec<PathStep>,
    /// What in an item equals a requested key.
    pub key: KeyPath,
    pub missing: Missing,
    /// A path in an item whose presence (not null) marks the item failed.
    pub item_error: Option<Vec<String>>,
    /// A POST endpoint that only reads.
    pub safe: bool,
    /// How long a client collects keys before sending.
    pub window: Window,
}

/// One entry of a `query` or `body` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Template {
    /// `$keys -> encoder`: the chunk's keys.
    Keys(Encoder),
    /// `$name`: the value of another `with` parameter.
    Param(String),
    /// Any other text, sent as it is.
    Literal(String),
}

/// How a list of keys is written (OpenAPI's serialisation styles and two common others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoder {
    /// `id=1&id=2` (form, explode).
    Repeat,
    /// `id=1,2` (form, no explode).
    Csv,
    /// `id[]=1&id[]=2` (Rack, PHP).
    Brackets,
    /// `id=1|2` (pipeDelimited).
    Pipes,
    /// `id=1%202` (spaceDelimited).
    Spaces,
    /// `id=in.(1,2)`, strings quoted when needed (PostgREST).
    In,
    /// `[1,2]`: a JSON array (for bodies; URL-encoded in a query).
    Json,
}

/// A step of the `items` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Field(String),
    /// `[*]`: every element of an array.
    Each,
}

/// Where an item's key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPath {
    /// A dotted path inside each item.
    Field(Vec<String>),
    /// `@key`: the items are an object keyed by id.
    MapKey,
}

/// What a requested key absent from the answer gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Result `null`, detail status 404.
    Null,
    /// A failed item (status 404, an error message as its result).
    Error,
}

/// How long a client collects keys for one batch call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Until the end of the current task (the `Clock`'s `defer`).
    Task,
    /// Until the promise reactions already queued have run (the `Clock`'s `soon`): the keys of
    /// every query started in the same synchronous run of code, without waiting for a task.
    Microtask,
    /// This many milliseconds.
    Ms(u64),
    /// Send as soon as the run has started every ready statement.
    Off,
}

const FIELDS: &str =
    "on, request, query, body, max, max-url, items, key, missing, item-error, safe, window";

impl BatchSpec {
    /// Check the `batch` object of `resource`, whose single-item URL is `single`.
    pub fn parse(resource: &str, single: &UrlTemplate, value: &Json) -> Result<Self, MappingError> {
        let err = |field: &str, message: String| {
            MappingError::new(resource, format!("batch.{field}: {message}"))
        };
        let Json::Object(fields) = value else {
            return Err(MappingError::new(
                resource,
                "batch: expected an object with 'on' and 'request'",
            ));
        };
        if let Some(unknown) = fields
            .keys()
            .find(|k| !FIELDS.split(", ").any(|f| f == k.as_str()))
        {
            return Err(MappingError::new(
                resource,
                format!("batch: unknown field '{unknown}'; expected one of {FIELDS}"),
            ));
        }
        let string = |field: &str| -> Result<Option<&str>, MappingError> {
            match fields.get(field) {
                None => Ok(None),
                Some(Json::String(s)) => Ok(Some(s.as_str())),
                Some(other) => Err(err(field, format!("expected a string, found {other}"))),
            }
        };
        let count = |field: &str, default: usize, least: usize| -> Result<usize, MappingError> {
            match fields.get(field) {
                None => Ok(default),
                Some(Json::Number(n)) => match n.as_u64() {
                    Some(v) if v as usize >= least => Ok(v as usize),
                    _ => Err(err(
                        field,
                        format!("expected an integer of at least {least}, found {n}"),
                    )),
                },
                Some(other) => Err(err(field, format!("expected an integer, found {other}"))),
            }
        };

        let on = string("on")?
            .ok_or_else(|| {
                err(
                    "on",
                    "required: the `with` parameter whose values are batched".into(),
                )
            })?
            .to_string();
        if !single.is_path_placeholder(&on) && !single.is_query_placeholder(&on) {
            return Err(err(
                "on",
                format!("'{on}' is not a placeholder of the url '{}'", single.raw),
            ));
        }
        let request = string("request")?.ok_or_else(|| {
            err(
                "request",
                "required: 'METHOD URL' of the batch endpoint".into(),
            )
        })?;
        let (method, url) = request.trim().split_once(' ').ok_or_else(|| {
            err(
                "request",
                format!("expected 'METHOD URL', found '{request}'"),
            )
        })?;
        let method = match method {
            "GET" => "GET",
            "POST" => "POST",
            other => {
                return Err(err(
                    "request",
                    format!("the method must be GET or POST, found '{other}'"),
                ));
            }
        };
        let url = UrlTemplate::parse(url.trim()).map_err(|m| err("request", m))?;
        let safe = match fields.get("safe") {
            None => false,
            Some(Json::Bool(b)) => *b,
            Some(other) => {
                return Err(err(
                    "safe",
                    format!("expected true or false, found {other}"),
                ));
            }
        };
        if method == "POST" && !safe {
            return Err(err(
                "safe",
                "a POST batch endpoint must be declared a read with 'safe: true'".into(),
            ));
        }
        let template = |field: &str| -> Result<Option<Vec<(String, Template)>>, MappingError> {
            let Some(value) = fields.get(field) else {
                return Ok(None);
            };
            let Json::Object(entries) = value else {
                return Err(err(
                    field,
                    format!("expected an object of names to templates, found {value}"),
                ));
            };
            let mut out = Vec::with_capacity(entries.len());
            for (name, t) in entries {
                let Json::String(text) = t else {
                    return Err(err(
                        field,
                        format!("'{name}': expected a string, found {t}"),
                    ));
                };
                out.push((
                    name.clone(),
                    Template::parse(text).map_err(|m| err(field, format!("'{name}': {m}")))?,
                ));
            }
            Ok(Some(out))
        };
        let mut query = template("query")?.unwrap_or_default();
        let mut body = template("body")?;
        if body.is_some() && method == "GET" {
            return Err(err("body", "a GET batch request has no body".into()));
        }
        let places_keys =
            |t: &[(String, Template)]| t.iter().any(|(_, t)| matches!(t, Template::Keys(_)));
        let placed = places_keys(&query) || body.as_deref().is_some_and(places_keys);
        if !placed {
            if fields.contains_key("query") || fields.contains_key("body") {
                return Err(err(
                    "query",
                    "no entry places the keys ('$keys -> encoder')".into(),
                ));
            }
            match method {
                "GET" => query.push((on.clone(), Template::Keys(Encoder::Repeat))),
                _ => body = Some(vec![(on.clone(), Template::Keys(Encoder::Json))]),
            }
        }
        let items = match string("items")? {
            None => Vec::new(),
            Some(path) => parse_items(path).map_err(|m| err("items", m))?,
        };
        let key = match string("key")? {
            None => KeyPath::Field(vec!["id".into()]),
            Some("@key") => KeyPath::MapKey,
            Some(path) => KeyPath::Field(parse_field_path(path).map_err(|m| err("key", m))?),
        };
        let missing = match fields.get("missing") {
            None | Some(Json::Null) => Missing::Null,
            Some(Json::String(s)) if s == "null" => Missing::Null,
            Some(Json::String(s)) if s == "error" => Missing::Error,
            Some(other) => {
                return Err(err(
                    "missing",
                    format!("expected \"null\" or \"error\", found {other}"),
                ));
            }
        };
        let item_error = match string("item-error")? {
            None => None,
            Some(path) => Some(parse_field_path(path).map_err(|m| err("item-error", m))?),
        };
        let window = match fields.get("window") {
            None => Window::Task,
            Some(Json::String(s)) if s == "task" => Window::Task,
            Some(Json::String(s)) if s == "microtask" => Window::Microtask,
            Some(Json::String(s)) if s == "off" => Window::Off,
            Some(Json::Number(n)) if n.as_u64().is_some() => Window::Ms(n.as_u64().unwrap_or(0)),
            Some(Json::String(s))
                if s.strip_suffix("ms")
                    .is_some_and(|n| n.parse::<u64>().is_ok()) =>
            {
                Window::Ms(s.trim_end_matches("ms").parse().unwrap_or(0))
            }
            Some(other) => {
                return Err(err(
                    "window",
                    format!(
                        "expected \"task\", \"microtask\", \"off\" or a number of milliseconds, found {other}"
                    ),
                ));
            }
        };
        Ok(BatchSpec {
            on,
            method,
            url,
            query,
            body,
            max: count("max", 100, 1)?,
            max_url: count("max-url", 4096, 64)?,
            items,
            key,
            missing,
            item_error,
            safe,
            window,
        })
    }

    /// The single-item URL's request (`"GET http://..."`), as written in the mapping.
    pub fn request_line(&self) -> String {
        format!("{} {}", self.method, self.url.raw)
    }
}

impl Template {
    fn parse(text: &str) -> Result<Template, String> {
        let trimmed = text.trim();
        if let Some(rest) = trimmed.strip_prefix("$keys") {
            let name = rest
                .trim()
                .strip_prefix("->")
                .map(str::trim)
                .ok_or_else(|| format!("expected '$keys -> encoder', found '{text}'"))?;
            return Encoder::from_name(name).map(Template::Keys).ok_or_else(|| {
                format!(
                    "unknown encoder '{name}'; expected one of repeat, csv, brackets, pipes, spaces, in, json"
                )
            });
        }
        if let Some(name) = trimmed.strip_prefix('$') {
            return Ok(Template::Param(name.to_string()));
        }
        Ok(Template::Literal(text.to_string()))
    }
}

impl Encoder {
    pub fn from_name(name: &str) -> Option<Encoder> {
        Some(match name {
            "repeat" => Encoder::Repeat,
            "csv" => Encoder::Csv,
            "brackets" => Encoder::Brackets,
            "pipes" => Encoder::Pipes,
            "spaces" => Encoder::Spaces,
            "in" => Encoder::In,
            "json" => Encoder::Json,
            _ => return None,
        })
    }

    /// The query-string text before the first key, between two keys and after the last.
    /// With the keys' [`Encoder::query_key`] texts, the URL's length is known key by key,
    /// which is what greedy packing by `max-url` needs.
    pub fn query_frame(self, name: &str) -> (String, &'static str, &'static str) {
        let mut n = String::new();
        encode_into(&mut n, name, true);
        match self {
            Encoder::Repeat | Encoder::Brackets => (String::new(), "&", ""),
            Encoder::Csv => (n + "=", ",", ""),
            Encoder::Pipes => (n + "=", "|", ""),
            Encoder::Spaces => (n + "=", "%20", ""),
            Encoder::In => (n + "=in.(", ",", ")"),
            Encoder::Json => (n + "=%5B", "%2C", "%5D"),
        }
    }

    /// One key's text in a query string.
    pub fn query_key(self, name: &str, key: &Json) -> String {
        let mut out = String::new();
        self.push_query_key(&mut out, name, key);
        out
    }

    /// [`Encoder::query_key`] appended to `out` (no text of its own for string or integer
    /// keys).
    pub fn push_query_key(self, out: &mut String, name: &str, key: &Json) {
        let mut digits = IntegerText::default();
        let text = match key {
            Json::Number(n) if digits.write(n) => std::borrow::Cow::Borrowed(digits.as_str()),
            _ => key_text(key),
        };
        match self {
            Encoder::Repeat | Encoder::Brackets => {
                encode_into(out, name, true);
                if self == Encoder::Brackets {
                    out.push_str("[]");
                }
                out.push('=');
                encode_into(out, &text, true);
            }
            Encoder::In => encode_into(out, &postgrest_item(key, &text), true),
            Encoder::Json => encode_into(out, &key.to_string(), true),
            Encoder::Csv | Encoder::Pipes | Encoder::Spaces => encode_into(out, &text, true),
        }
    }

    /// The keys as one body value: a JSON array for `json`, `repeat` and `brackets`, else the
    /// joined text.
    pub fn body_value(self, keys: &[&Json]) -> Json {
        let texts = || keys.iter().map(|k| key_text(k));
        match self {
            Encoder::Json | Encoder::Repeat | Encoder::Brackets => {
                Json::Array(keys.iter().map(|k| (*k).clone()).collect())
            }
            Encoder::Csv => Json::String(texts().collect::<Vec<_>>().join(",")),
            Encoder::Pipes => Json::String(texts().collect::<Vec<_>>().join("|")),
            Encoder::Spaces => Json::String(texts().collect::<Vec<_>>().join(" ")),
            Encoder::In => Json::String(format!(
                "in.({})",
                keys.iter()
                    .map(|k| postgrest_item(k, &key_text(k)).into_owned())
                    .collect::<Vec<_>>()
                    .join(",")
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Encoder::Repeat => "repeat",
            Encoder::Csv => "csv",
            Encoder::Brackets => "brackets",
            Encoder::Pipes => "pipes",
            Encoder::Spaces => "spaces",
            Encoder::In => "in",
            Encoder::Json => "json",
        }
    }
}

/// An integer's decimal text on the stack (keys are mostly ids: no heap text for them).
#[derive(Default)]
pub(crate) struct IntegerText {
    bytes: [u8; 20],
    len: usize,
}

impl IntegerText {
    /// Write `n` when it is an integer; `false` (and nothing written) otherwise.
    pub(crate) fn write(&mut self, n: &serde_json::Number) -> bool {
        let (negative, mut magnitude) = match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => (false, u),
            (None, Some(i)) => (true, i.unsigned_abs()),
            (None, None) => return false,
        };
        let mut at = self.bytes.len();
        loop {
            at -= 1;
            self.bytes[at] = b'0' + (magnitude % 10) as u8;
            magnitude /= 10;
            if magnitude == 0 {
                break;
            }
        }
        if negative {
            at -= 1;
            self.bytes[at] = b'-';
        }
        self.bytes.copy_within(at.., 0);
        self.len = self.bytes.len() - at;
        true
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits and '-' are ever written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// A key's text: strings as they are, numbers and booleans as JSON, objects as JSON.
fn key_text(key: &Json) -> std::borrow::Cow<'_, str> {
    match key {
        Json::String(s) => std::borrow::Cow::Borrowed(s),
        other => std::borrow::Cow::Owned(other.to_string()),
    }
}

/// A PostgREST `in.(...)` element: strings holding reserved characters are double-quoted.
fn postgrest_item<'t>(key: &Json, text: &'t str) -> std::borrow::Cow<'t, str> {
    let reserved = |c: char| matches!(c, ',' | '(' | ')' | '"' | '.' | ':') || c.is_whitespace();
    if key.is_string() && text.contains(reserved) {
        std::borrow::Cow::Owned(format!(
            "\"{}\"",
            text.replace('\\', "\\\\").replace('"', "\\\"")
        ))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// `$`, `$.data`, `$.entry[*].resource`.
fn parse_items(path: &str) -> Result<Vec<PathStep>, String> {
    let rest = path
        .strip_prefix('$')
        .ok_or_else(|| format!("expected a path starting with '$', found '{path}'"))?;
    let mut steps = Vec::new();
    if rest.is_empty() {
        return Ok(steps);
    }
    let rest = rest
        .strip_prefix('.')
        .ok_or_else(|| format!("expected '$' or '$.field...', found '{path}'"))?;
    for part in rest.split('.') {
        let (name, each) = match part.strip_suffix("[*]") {
            Some(name) => (name, true),
            None => (part, false),
        };
        if name.is_empty() || name.contains(['[', ']', '*']) {
            return Err(format!("'{path}' has an empty or invalid step '{part}'"));
        }
        steps.push(PathStep::Field(name.to_string()));
        if each {
            steps.push(PathStep::Each);
        }
    }
    Ok(steps)
}

/// `id`, `sku.code` (a leading `$.` is allowed).
fn parse_field_path(path: &str) -> Result<Vec<String>, String> {
    let rest = path.strip_prefix("$.").unwrap_or(path);
    if rest.is_empty() || rest.split('.').any(str::is_empty) {
        return Err(format!(
            "expected a dotted path such as 'id' or 'sku.code', found '{path}'"
        ));
    }
    Ok(rest.split('.').map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_text_is_the_json_text_of_integers_only() {
        for n in [
            json!(0),
            json!(7),
            json!(-42),
            json!(u64::MAX),
            json!(i64::MIN),
        ] {
            let mut text = IntegerText::default();
            assert!(text.write(n.as_number().expect("a number")));
            assert_eq!(text.as_str(), n.to_string());
        }
        let mut text = IntegerText::default();
        assert!(!text.write(json!(1.5).as_number().expect("a number")));
    }

    fn single() -> UrlTemplate {
        UrlTemplate::parse("http://u/products/:id").unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse(v: Json) -> Result<BatchSpec, String> {
        BatchSpec::parse("product", &single(), &v).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_place_repeated_keys_in_the_query() {
        let spec = parse(json!({"on": "id", "request": "GET http://u/products"}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            spec.query,
            vec![("id".into(), Template::Keys(Encoder::Repeat))]
        );
        assert_eq!((spec.max, spec.max_url), (100, 4096));
        assert_eq!(spec.key, KeyPath::Field(vec!["id".into()]));
        assert_eq!(spec.window, Window::Task);
        assert!(spec.items.is_empty());
    }

    #[test]
    fn every_field_is_checked() {
        let base = json!({"on": "id", "request": "GET http://u/products"});
        let with = |k: &str, v: Json| {
            let mut b = base.clone();
            b[k] = v;
            parse(b)
        };
        let cases = [
            (json!(3), "batch: expected an object"),
            (json!({"request": "GET http://u/p"}), "batch.on: required"),
            (
                json!({"on": "sku", "request": "GET http://u/p"}),
                "batch.on: 'sku' is not a placeholder",
            ),
            (json!({"on": "id"}), "batch.request: required"),
            (
                json!({"on": "id", "request": "http://u/p"}),
                "batch.request: expected 'METHOD URL'",
            ),
            (
                json!({"on": "id", "request": "PUT http://u/p"}),
                "batch.request: the method must be GET or POST",
            ),
            (
                json!({"on": "id", "request": "GET ftp://u/p"}),
                "batch.request: 'ftp://u/p' must start with http",
            ),
            (
                json!({"on": "id", "request": "POST http://u/p"}),
                "batch.safe: a POST batch endpoint",
            ),
            (
                json!({"on": "id", "request": "GET http://u/p", "size": 3}),
                "batch: unknown field 'size'",
            ),
        ];
        for (value, needle) in cases {
            let e = parse(value.clone()).err().unwrap_or_default();
            assert!(
                e.starts_with("invalid mapping 'product': ") && e.contains(needle),
                "{value}: {e}"
            );
        }
        let field_cases = [
            (
                "max",
                json!(0),
                "batch.max: expected an integer of at least 1",
            ),
            ("max", json!("5"), "batch.max: expected an integer"),
            (
                "max-url",
                json!(10),
                "batch.max-url: expected an integer of at least 64",
            ),
            (
                "items",
                json!("data"),
                "batch.items: expected a path starting with '$'",
            ),
            (
                "items",
                json!("$.a..b"),
                "batch.items: '$.a..b' has an empty",
            ),
            ("key", json!(""), "batch.key: expected a dotted path"),
            ("key", json!(1), "batch.key: expected a string"),
            (
                "missing",
                json!("skip"),
                "batch.missing: expected \"null\" or \"error\"",
            ),
            (
                "item-error",
                json!("a..b"),
                "batch.item-error: expected a dotted path",
            ),
            ("safe", json!("yes"), "batch.safe: expected true or false"),
            (
                "window",
                json!("soon"),
                "batch.window: expected \"task\", \"microtask\", \"off\"",
            ),
            ("query", json!(["id"]), "batch.query: expected an object"),
            (
                "query",
                json!({"id": 1}),
                "batch.query: 'id': expected a string",
            ),
            (
                "query",
                json!({"id": "$keys -> zip"}),
                "batch.query: 'id': unknown encoder 'zip'",
            ),
            (
                "query",
                json!({"id": "$keys"}),
                "batch.query: 'id': expected '$keys -> encoder'",
            ),
            (
                "query",
                json!({"a": "b"}),
                "batch.query: no entry places the keys",
            ),
            (
                "body",
                json!({"ids": "$keys -> json"}),
                "batch.body: a GET batch request has no body",
            ),
        ];
        for (field, value, needle) in field_cases {
            let e = with(field, value.clone()).err().unwrap_or_default();
            assert!(e.contains(needle), "{field} = {value}: {e}");
        }
    }

    #[test]
    fn object_form_fields_parse() {
        let spec = parse(json!({
            "on": "id", "request": "POST http://u/products/search", "safe": true,
            "body": {"ids": "$keys -> json", "lang": "$lang", "v": "2"},
            "max": 25, "max-url": 2000, "items": "$.entry[*].resource", "key": "sku.code",
            "missing": "error", "item-error": "$.error", "window": "10ms"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.method, "POST");
        assert_eq!(
            spec.body,
            Some(vec![
                ("ids".into(), Template::Keys(Encoder::Json)),
                ("lang".into(), Template::Param("lang".into())),
                ("v".into(), Template::Literal("2".into())),
            ])
        );
        assert_eq!(
            spec.items,
            vec![
                PathStep::Field("entry".into()),
                PathStep::Each,
                PathStep::Field("resource".into())
            ]
        );
        assert_eq!(spec.key, KeyPath::Field(vec!["sku".into(), "code".into()]));
        assert_eq!(spec.item_error, Some(vec!["error".into()]));
        assert_eq!(
            (spec.missing, spec.window, spec.max, spec.max_url),
            (Missing::Error, Window::Ms(10), 25, 2000)
        );
        let map =
            parse(json!({"on": "id", "request": "GET http://u/p", "key": "@key", "window": 0}));
        assert!(map.is_ok_and(|s| s.key == KeyPath::MapKey && s.window == Window::Ms(0)));
        let off = parse(json!({"on": "id", "request": "GET http://u/p", "window": "off"}));
        assert!(off.is_ok_and(|s| s.window == Window::Off));
        let soon = parse(json!({"on": "id", "request": "GET http://u/p", "window": "microtask"}));
        assert!(soon.is_ok_and(|s| s.window == Window::Microtask));
    }

    #[test]
    fn encoders_write_keys_in_their_style() {
        let keys = [json!(1), json!("a b"), json!("x,y")];
        let query = |e: Encoder| {
            let (pre, sep, post) = e.query_frame("id");
            let parts: Vec<String> = keys.iter().map(|k| e.query_key("id", k)).collect();
            format!("{pre}{}{post}", parts.join(sep))
        };
        assert_eq!(query(Encoder::Repeat), "id=1&id=a+b&id=x%2Cy");
        assert_eq!(query(Encoder::Brackets), "id[]=1&id[]=a+b&id[]=x%2Cy");
        assert_eq!(query(Encoder::Csv), "id=1,a+b,x%2Cy");
        assert_eq!(query(Encoder::Pipes), "id=1|a+b|x%2Cy");
        assert_eq!(query(Encoder::Spaces), "id=1%20a+b%20x%2Cy");
        assert_eq!(query(Encoder::In), "id=in.(1,%22a+b%22,%22x%2Cy%22)");
        assert_eq!(query(Encoder::Json), "id=%5B1%2C%22a+b%22%2C%22x%2Cy%22%5D");
        let refs: Vec<&Json> = keys.iter().collect();
        assert_eq!(Encoder::Json.body_value(&refs), json!([1, "a b", "x,y"]));
        assert_eq!(Encoder::Csv.body_value(&refs), json!("1,a b,x,y"));
        assert_eq!(Encoder::Pipes.body_value(&refs), json!("1|a b|x,y"));
        assert_eq!(Encoder::Spaces.body_value(&refs), json!("1 a b x,y"));
        assert_eq!(
            Encoder::In.body_value(&refs),
            json!("in.(1,\"a b\",\"x,y\")")
        );
    }
}
