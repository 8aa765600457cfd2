//! From resolved params to an upstream [`Request`], and the request identity key: the one place
//! that decides what a call is, used by `explain`, by dedupe in the executor, and later by batch
//! grouping and caches.

use std::fmt::Write as _;
use std::rc::Rc;

use serde_json::Value as Json;

use crate::http::{Request, header_value};
use crate::mapping::{UrlTemplate, encode_into, push_path_value};
use crate::plan::values::{ParamVal, Val, text_of};
use crate::syntax::ast::Method;

/// Identity of a request: two calls with equal keys get the same answer, so they go out once.
/// The key is the method, the URL, the body and the headers that can vary the answer (every
/// header but tracing ones; names compared case-insensitively, order ignored). It is a view
/// over the request, so computing and comparing keys allocates nothing; cross-query dedupe and
/// caches (later) key on the same rules, so `Authorization` and `Cookie` must stay in.
#[derive(Debug, Clone, Copy)]
pub struct RequestKey<'a>(pub &'a Request);

/// Headers that never change an answer and differ on every request.
const NON_VARYING: [&str; 5] = [
    "traceparent",
    "tracestate",
    "x-request-id",
    "x-b3-traceid",
    "x-b3-spanid",
];

/// Whether a request header can vary the answer, so that it belongs in request keys, batch
/// groups and cache keys.
pub(crate) fn varies(name: &str) -> bool {
    !NON_VARYING.iter().any(|x| name.eq_ignore_ascii_case(x))
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

fn fnv(mut h: u64, bytes: impl IntoIterator<Item = u8>) -> u64 {
    for b in bytes.into_iter().chain([0xff]) {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

impl<'a> RequestKey<'a> {
    pub fn of(request: &'a Request) -> Self {
        RequestKey(request)
    }

    fn varying(&self) -> impl Iterator<Item = &'a (String, String)> + 'a {
        self.0
            .headers
            .iter()
            .filter(|(n, _)| !NON_VARYING.iter().any(|x| n.eq_ignore_ascii_case(x)))
    }

    /// A 64-bit FNV-1a digest of the canonical key (headers combined order-independently).
    pub fn digest(&self) -> u64 {
        let r = self.0;
        let mut h = fnv(FNV_OFFSET, r.method.bytes());
        h = fnv(h, r.url.bytes());
        h = match &r.body {
            Some(body) => fnv(h, body.bytes()),
            None => fnv(h, [0u8]),
        };
        fnv(h, self.headers_digest().to_le_bytes())
    }

    /// The varying headers, combined so that their order does not matter (names compared
    /// case-insensitively).
    fn headers_digest(&self) -> u64 {
        self.varying()
            .map(|(n, v)| {
                fnv(
                    fnv(FNV_OFFSET, n.bytes().map(|b| b.to_ascii_lowercase())),
                    v.bytes(),
                )
            })
            .fold(0u64, u64::wrapping_add)
    }

    /// A short, stable fingerprint for display.
    pub fn fingerprint(&self) -> String {
        format!("{:08x}", self.digest() >> 32)
    }
}

impl PartialEq for RequestKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0, other.0);
        if a.method != b.method || a.url != b.url || a.body != b.body {
            return false;
        }
        let contains = |key: &RequestKey<'_>, (n, v): &(String, String)| {
            key.varying()
                .any(|(m, w)| m.eq_ignore_ascii_case(n) && w == v)
        };
        self.varying().count() == other.varying().count()
            && self.varying().all(|h| contains(other, h))
            && other.varying().all(|h| contains(self, h))
    }
}

impl Eq for RequestKey<'_> {}

impl std::hash::Hash for RequestKey<'_> {
    /// Consistent with `eq`: the same parts as [`RequestKey::digest`], through the map's
    /// hasher (faster than byte-wise FNV on long URLs).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let r = self.0;
        state.write(r.method.as_bytes());
        state.write(r.url.as_bytes());
        match &r.body {
            Some(body) => state.write(body.as_bytes()),
            None => state.write_u8(0),
        }
        state.write_u64(self.headers_digest());
    }
}

/// One multiplexed item: a call to make, or a skip decided without calling.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Call(Rc<Call>),
    /// restQL's 400 "The request was skipped due to ..." with this message.
    Skip(String),
}

/// A request with what debug output and dedupe need.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub request: Request,
    /// Query-string params as sent, for debug output (empty unless `Options::debug`).
    pub params: serde_json::Map<String, Json>,
    /// The item's key and group when its resource has a batch endpoint.
    pub batch: Option<crate::plan::BatchItem>,
}

/// Everything about a statement that does not change per multiplexed item.
#[derive(Debug)]
pub(crate) struct RequestShape<'a> {
    pub(crate) method: Method,
    pub(crate) template: &'a UrlTemplate,
    /// Forwarded client headers, the resolved `headers` clause and the default
    /// `Content-Type`, merged once per statement and shared by its items.
    pub(crate) headers: Rc<[(String, String)]>,
    pub(crate) json_strings_in_body: bool,
    pub(crate) max_response_bytes: usize,
    /// Collect the query params for debug output.
    pub(crate) debug: bool,
}

impl Call {
    /// The request identity of this call.
    pub fn key(&self) -> RequestKey<'_> {
        RequestKey(&self.request)
    }
}

/// The skip message restQL gives when chained values come from failed statements.
pub(crate) fn missing_params_message(keys: &[&str]) -> String {
    let mut text = String::from("The request was skipped due to missing {");
    for k in keys {
        text.push_str(" :");
        text.push_str(k);
    }
    text.push_str(" } param value");
    text
}

/// A statement's headers, with `Content-Type: application/json` added when the method sends a
/// body and the statement set none. restQL sends it on every call; on a GET it only makes
/// browsers send a CORS preflight before each cross-origin call, doubling the round trips.
pub(crate) fn with_content_type(
    method: Method,
    mut headers: Vec<(String, String)>,
) -> Rc<[(String, String)]> {
    if method.sends_body() && header_value(&headers, "content-type").is_none() {
        headers.push(("Content-Type".to_string(), "application/json".to_string()));
    }
    headers.into()
}

/// Build the request for one item: path placeholders, query string, body, headers.
#[cfg(test)]
pub(crate) fn build_item(
    shape: &RequestShape<'_>,
    params: &[ParamVal],
    dynamic_body: Option<&ParamVal>,
) -> Item {
    match build_call(shape, params, dynamic_body, String::new()) {
        Ok(call) => Item::Call(Rc::new(call)),
        Err(skip) => Item::Skip(skip),
    }
}

/// Why an item makes no call: a failed chain anywhere skips it, and so does a missing chain
/// value in the path (restQL writes the chain text or `<nil>` into the URL).
pub(crate) fn skip_message(
    shape: &RequestShape<'_>,
    params: &[ParamVal],
    dynamic_body: Option<&ParamVal>,
) -> Option<String> {
    let mut failed: Vec<&str> = params
        .iter()
        .filter(|p| p.val.contains_failed())
        .map(|p| &*p.key)
        .collect();
    if dynamic_body.is_some_and(|b| b.val.contains_failed()) {
        failed.push(dynamic_body.map_or("", |b| &*b.key));
    }
    for p in params {
        if shape.template.is_path_placeholder(&p.key) && p.val == Val::Missing {
            failed.push(&p.key);
        }
    }
    if failed.is_empty() {
        return None;
    }
    failed.dedup();
    Some(missing_params_message(&failed))
}

/// The call of one item, its URL written into `url` (a spare buffer, reused), or the skip
/// message when a chained value failed or a path value is missing.
pub(crate) fn build_call(
    shape: &RequestShape<'_>,
    params: &[ParamVal],
    dynamic_body: Option<&ParamVal>,
    mut url: String,
) -> Result<Call, String> {
    if let Some(skip) = skip_message(shape, params, dynamic_body) {
        return Err(skip);
    }

    // The last param with a key wins (restQL keeps duplicates in a map).
    let last_of = |key: &str| params.iter().rposition(|p| &*p.key == key);
    let effective = params
        .iter()
        .enumerate()
        .filter(|(i, p)| last_of(&p.key) == Some(*i));

    shape.template.render_path_into(&mut url, |name, url| {
        let Some(p) = params.iter().rev().find(|p| &*p.key == name) else {
            return;
        };
        match &p.val {
            Val::Scalar(Json::String(s)) => push_path_value(url, s),
            // Integers need no encoding and no text of their own.
            Val::Scalar(Json::Number(n)) if n.is_i64() || n.is_u64() => {
                let _ = write!(url, "{n}");
            }
            other => {
                if let Some(j) = other.to_json(p.explode) {
                    push_path_value(url, &text_of(&j));
                }
            }
        }
    });

    let sends_body = shape.method.sends_body();
    let mut query = String::new();
    let mut debug_params = serde_json::Map::new();
    let mut body_fields = serde_json::Map::new();
    let mut as_body: Option<Json> = None;
    for (_, p) in effective {
        if shape.template.is_path_placeholder(&p.key) {
            continue;
        }
        let Some(json) = p.val.to_json(p.explode) else {
            continue;
        };
        if p.as_body {
            if sends_body {
                as_body = Some(json);
            }
            continue;
        }
        if !sends_body || p.as_query || shape.template.is_query_placeholder(&p.key) {
            append_query(&mut query, &p.key, &json);
            if shape.debug && !json.is_null() && json != Json::String(String::new()) {
                debug_params.insert(p.key.to_string(), json);
            }
        } else if !json.is_null() {
            let json = match json {
                Json::String(s) if shape.json_strings_in_body => {
                    serde_json::from_str::<Json>(&s).unwrap_or(Json::String(s))
                }
                other => other,
            };
            body_fields.insert(p.key.to_string(), json);
        }
    }

    let body = if sends_body {
        // A string body is sent raw when an encoder or `as-body` made it; a plain string from
        // a dynamic body is a JSON string (restQL).
        let dynamic = dynamic_body.and_then(|b| b.val.to_json(b.explode).map(|j| (j, b.encoded)));
        let (json, raw) = match dynamic {
            // Strings that hold JSON are parsed (restQL), other strings stay JSON strings.
            Some((Json::String(s), false)) => (
                serde_json::from_str::<Json>(&s).unwrap_or(Json::String(s)),
                false,
            ),
            Some(dynamic) => dynamic,
            None => match as_body {
                Some(j) => (j, true),
                None => (Json::Object(body_fields), false),
            },
        };
        Some(match json {
            Json::String(s) if raw => s,
            other => other.to_string(),
        })
    } else {
        None
    };

    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }
    let request = Request {
        method: shape.method.http_method(),
        url,
        headers: Rc::clone(&shape.headers),
        body,
        max_response_bytes: shape.max_response_bytes,
    };
    Ok(Call {
        request,
        params: debug_params,
        batch: None,
    })
}

/// `key=value` pairs: strings escaped (empty ones omitted), numbers and booleans as text,
/// objects as JSON, lists as the key repeated per element (nested lists flattened).
pub(crate) fn append_query(out: &mut String, key: &str, value: &Json) {
    match value {
        Json::Null => {}
        Json::String(s) if s.is_empty() => {}
        Json::Array(items) => items.iter().for_each(|i| append_query(out, key, i)),
        other => {
            if !out.is_empty() {
                out.push('&');
            }
            encode_into(out, key, true);
            out.push('=');
            encode_into(out, &text_of(other), true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::values::apply_fns;
    use serde_json::json;

    fn build(method: Method, template: &str, params: &[(&str, Json)]) -> Item {
        let template = UrlTemplate::parse(template).unwrap_or_else(|e| panic!("{e}"));
        let shape = RequestShape {
            method,
            template: &template,
            headers: with_content_type(method, Vec::new()),
            json_strings_in_body: true,
            max_response_bytes: 1024,
            debug: true,
        };
        let params: Vec<ParamVal> = params
            .iter()
            .map(|(k, v)| apply_fns(k, Val::from_json(v), &[]))
            .collect();
        build_item(&shape, &params, None)
    }

    fn call(item: Item) -> Call {
        match item {
            Item::Call(c) => (*c).clone(),
            Item::Skip(m) => panic!("skipped: {m}"),
        }
    }

    #[test]
    fn get_encodes_scalars_in_the_query_string() {
        let c = call(build(
            Method::From,
            "http://u/hero/:id",
            &[
                ("a", Json::Null),
                ("b", json!("")),
                ("c", json!(true)),
                ("d", json!(1.0)),
                ("e", json!(-3)),
                ("f", json!(2.5)),
                ("g", json!("é ü&=")),
            ],
        ));
        assert_eq!(
            c.request.url,
            "http://u/hero/?c=true&d=1&e=-3&f=2.5&g=%C3%A9+%C3%BC%26%3D"
        );
        assert_eq!(c.request.body, None);
    }

    #[test]
    fn post_sends_a_json_body_and_query_placeholders_in_the_url() {
        let c = call(build(
            Method::To,
            "http://u/heroq?:context&:page",
            &[
                ("context", json!("ctx")),
                ("other", json!(1)),
                ("n", json!("123")),
            ],
        ));
        assert_eq!(c.request.url, "http://u/heroq?context=ctx");
        let body: Json =
            serde_json::from_str(c.request.body.as_deref().unwrap_or("")).unwrap_or(Json::Null);
        assert_eq!(body, json!({"other": 1, "n": 123}));
        assert_eq!(
            header_value(&c.request.headers, "content-type"),
            Some("application/json")
        );
    }

    #[test]
    fn keys_ignore_header_case_order_and_tracing_but_not_credentials() {
        let request = |headers: &[(&str, &str)]| Request {
            method: "GET",
            url: "http://u/a".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Vec<_>>()
                .into(),
            body: None,
            max_response_bytes: 10,
        };
        let a = request(&[
            ("Authorization", "t1"),
            ("Accept", "x"),
            ("traceparent", "1"),
        ]);
        let b = request(&[
            ("accept", "x"),
            ("authorization", "t1"),
            ("Traceparent", "2"),
        ]);
        let c = request(&[("Authorization", "t2"), ("Accept", "x")]);
        assert_eq!(RequestKey(&a), RequestKey(&b));
        assert_eq!(RequestKey(&a).digest(), RequestKey(&b).digest());
        assert_ne!(RequestKey(&a), RequestKey(&c));
        assert_ne!(RequestKey(&a).digest(), RequestKey(&c).digest());
    }

    #[test]
    fn identical_requests_have_equal_keys() {
        let a = call(build(Method::From, "http://u/p/:id", &[("id", json!(1))]));
        let b = call(build(Method::From, "http://u/p/:id", &[("id", json!(1))]));
        let c = call(build(Method::From, "http://u/p/:id", &[("id", json!(2))]));
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), c.key());
        assert_eq!(a.key().fingerprint(), b.key().fingerprint());
    }
}
