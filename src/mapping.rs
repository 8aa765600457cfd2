//! Resource mappings: a resource name resolves to a URL template such as
//! `http://api/heroes/:id?:context&:page`.
//!
//! `:name` in the path is a path placeholder; `?:a&:b` lists query placeholders, which always go
//! to the query string, for every method. Values are percent-encoded when substituted (restQL
//! lets `/`, `?` and `#` from values leak into the URL; we do not).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

use crate::error::ErrorCode;

/// All resources a query may name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mappings {
    resources: BTreeMap<String, Mapping>,
}

/// One resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    pub template: UrlTemplate,
    /// Settings of the object form beyond `url`, kept verbatim (`batch` included).
    pub extra: serde_json::Map<String, Json>,
    /// The batch endpoint of the object form's `batch`, checked at load time.
    pub batch: Option<std::rc::Rc<BatchSpec>>,
}

/// A parsed URL template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate {
    /// The template as written.
    pub raw: String,
    /// `scheme://host[:port]`.
    pub origin: String,
    /// Path segments after the origin (the leading `/` of each is implied).
    pub segments: Vec<Segment>,
    /// Query placeholder names, in template order.
    pub query: Vec<String>,
}

/// A path segment: literal text, optionally ending with a `:name` placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub literal: String,
    pub placeholder: Option<String>,
}

/// A mapping that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    /// The resource name, or empty when the whole file is malformed.
    pub resource: String,
    pub message: String,
}

impl MappingError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::InvalidMapping
    }

    fn new(resource: &str, message: impl Into<String>) -> Self {
        MappingError {
            resource: resource.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.resource.is_empty() {
            write!(f, "invalid mappings: {}", self.message)
        } else {
            write!(f, "invalid mapping '{}': {}", self.resource, self.message)
        }
    }
}

impl std::error::Error for MappingError {}

impl Mappings {
    pub fn new() -> Self {
        Mappings::default()
    }

    /// Add or replace a resource; fails on a malformed template.
    pub fn insert(&mut self, resource: &str, url: &str) -> Result<(), MappingError> {
        let template = UrlTemplate::parse(url).map_err(|m| MappingError::new(resource, m))?;
        self.resources.insert(
            resource.to_string(),
            Mapping {
                template,
                extra: serde_json::Map::new(),
                batch: None,
            },
        );
        Ok(())
    }

    /// Builder form of [`Mappings::insert`].
    pub fn with(mut self, resource: &str, url: &str) -> Result<Self, MappingError> {
        self.insert(resource, url)?;
        Ok(self)
    }

    pub fn get(&self, resource: &str) -> Option<&Mapping> {
        self.resources.get(resource)
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Mapping)> {
        self.resources.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// `{"resource": "url", "other": {"url": "...", "batch": {...}}}`.
    pub fn from_json_value(value: &Json) -> Result<Self, MappingError> {
        let Json::Object(entries) = value else {
            return Err(MappingError::new(
                "",
                "expected an object of resource names to URL templates",
            ));
        };
        let mut mappings = Mappings::new();
        for (resource, entry) in entries {
            match entry {
                Json::String(url) => mappings.insert(resource, url)?,
                Json::Object(fields) => {
                    let Some(Json::String(url)) = fields.get("url") else {
                        return Err(MappingError::new(
                            resource,
                            "the object form needs a string field 'url'",
                        ));
                    };
                    mappings.insert(resource, url)?;
                    let mut extra = fields.clone();
                    extra.remove("url");
                    if let Some(m) = mappings.resources.get_mut(resource) {
                        m.batch = match extra.get("batch") {
                            Some(batch) => Some(std::rc::Rc::new(BatchSpec::parse(
                                resource,
                                &m.template,
                                batch,
                            )?)),
                            None => None,
                        };
                        m.extra = extra;
                    }
                }
                _ => {
                    return Err(MappingError::new(
                        resource,
                        "expected a URL string or an object with 'url'",
                    ));
                }
            }
        }
        Ok(mappings)
    }

    pub fn from_json(text: &str) -> Result<Self, MappingError> {
        let value: Json = serde_json::from_str(text)
            .map_err(|e| MappingError::new("", format!("not valid JSON: {e}")))?;
        Mappings::from_json_value(&value)
    }

    /// The same shapes as [`Mappings::from_json`], written in YAML.
    #[cfg(all(feature = "yaml", not(target_arch = "wasm32")))]
    pub fn from_yaml(text: &str) -> Result<Self, MappingError> {
        let value: Json = serde_norway::from_str(text)
            .map_err(|e| MappingError::new("", format!("not valid YAML: {e}")))?;
        Mappings::from_json_value(&value)
    }

    /// JSON, or YAML when the text does not start like JSON (and the `yaml` feature is on).
    pub fn from_text(text: &str) -> Result<Self, MappingError> {
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') || !cfg!(all(feature = "yaml", not(target_arch = "wasm32"))) {
            return Mappings::from_json(text);
        }
        #[cfg(all(feature = "yaml", not(target_arch = "wasm32")))]
        {
            Mappings::from_yaml(text)
        }
        #[cfg(not(all(feature = "yaml", not(target_arch = "wasm32"))))]
        {
            Mappings::from_json(text)
        }
    }
}

mod batch;
pub(crate) use batch::IntegerText;
pub use batch::{BatchSpec, Encoder, KeyPath, Missing, PathStep, Template, Window};

impl UrlTemplate {
    /// Parse `http(s)://host[:port]/path/:placeholder[?:q1&:q2]`; the error is one line.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let rest = raw
            .strip_prefix("http://")
            .or_else(|| raw.strip_prefix("https://"))
            .ok_or_else(|| format!("'{raw}' must start with http:// or https://"))?;
        let scheme_len = raw.len() - rest.len();
        let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let host = &rest[..host_end];
        if host.is_empty() {
            return Err(format!("'{raw}' has no host"));
        }
        if host.contains(['#', ' ', '@']) {
            return Err(format!("'{raw}' has an invalid host '{host}'"));
        }
        let origin = raw[..scheme_len + host_end].to_string();
        let after_host = &rest[host_end..];
        let (path, query) = match after_host.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (after_host, None),
        };
        let mut segments = Vec::new();
        for text in path.split('/').skip(1) {
            let segment = match text.split_once(':') {
                Some((literal, name)) => {
                    if name.is_empty() {
                        return Err(format!("'{raw}' has a ':' without a placeholder name"));
                    }
                    if !name.bytes().all(is_name_byte) {
                        return Err(format!("'{raw}' has an invalid placeholder name ':{name}'"));
                    }
                    Segment {
                        literal: literal.to_string(),
                        placeholder: Some(name.to_string()),
                    }
                }
                None => Segment {
                    literal: text.to_string(),
                    placeholder: None,
                },
            };
            segments.push(segment);
        }
        let mut query_names = Vec::new();
        if let Some(query) = query.filter(|q| !q.is_empty()) {
            for item in query.split('&') {
                let name = item.strip_prefix(':').ok_or_else(|| {
                    format!("'{raw}': query placeholders are written '?:a&:b', found '{item}'")
                })?;
                if name.is_empty() || !name.bytes().all(is_name_byte) {
                    return Err(format!("'{raw}' has an invalid query placeholder '{item}'"));
                }
                query_names.push(name.to_string());
            }
        }
        Ok(UrlTemplate {
            raw: raw.to_string(),
            origin,
            segments,
            query: query_names,
        })
    }

    /// Whether `key` names a path placeholder.
    pub fn is_path_placeholder(&self, key: &str) -> bool {
        self.segments
            .iter()
            .any(|s| s.placeholder.as_deref() == Some(key))
    }

    /// Whether `key` names a query placeholder.
    pub fn is_query_placeholder(&self, key: &str) -> bool {
        self.query.iter().any(|q| q == key)
    }

    /// `origin + path`; `write_value(name, url)` appends each placeholder's value, encoded
    /// with [`push_path_value`]; absent values leave the segment empty, and empty segments collapse like restQL's HTTP
    /// client does (`/a/:x/b` without `x` is `/a/b`; a trailing `/` stays).
    pub fn render_path(&self, write_value: impl FnMut(&str, &mut String)) -> String {
        let mut url = String::new();
        self.render_path_into(&mut url, write_value);
        url
    }

    /// [`UrlTemplate::render_path`] into `url` (cleared first), reusing its buffer.
    pub fn render_path_into(
        &self,
        url: &mut String,
        mut write_value: impl FnMut(&str, &mut String),
    ) {
        url.clear();
        url.reserve(self.raw.len() + 16);
        url.push_str(&self.origin);
        let last = self.segments.len().saturating_sub(1);
        for (i, segment) in self.segments.iter().enumerate() {
            let start = url.len();
            url.push('/');
            url.push_str(&segment.literal);
            if let Some(name) = &segment.placeholder {
                write_value(name, url);
            }
            if url.len() == start + 1 && i != last {
                url.truncate(start);
            }
        }
    }
}

/// Append `text` to a URL being built, percent-encoded as a path segment.
pub fn push_path_value(url: &mut String, text: &str) {
    encode_into(url, text, false);
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Percent-encode everything but `A-Z a-z 0-9 - . _ ~`; in query mode a space becomes `+`
/// (Go's `url.QueryEscape`, what restQL sends). A 20-line helper instead of a crate: this is
/// the only encoding the crate needs.
pub(crate) fn encode_into(out: &mut String, text: &str, query: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    let mut rest = text;
    while !rest.is_empty() {
        // Copy the run of unreserved bytes at once (ASCII, so a char boundary follows it).
        let run = rest.bytes().take_while(|&b| unreserved(b)).count();
        out.push_str(&rest[..run]);
        let Some(&b) = rest.as_bytes().get(run) else {
            break;
        };
        if query && b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
        // Step one byte; a multi-byte character is encoded byte by byte, never split in
        // `rest` because we only slice after ASCII bytes or at the end of a character.
        let step = rest[run..].chars().next().map_or(1, char::len_utf8);
        if step == 1 {
            rest = &rest[run + 1..];
        } else {
            for &b in &rest.as_bytes()[run + 1..run + step] {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
            rest = &rest[run + step..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(raw: &str) -> UrlTemplate {
        match UrlTemplate::parse(raw) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn parses_path_and_query_placeholders() {
        let t = template("http://api:8080/heroq/:id?:context&:page");
        assert_eq!(t.origin, "http://api:8080");
        assert!(t.is_path_placeholder("id"));
        assert_eq!(t.query, vec!["context", "page"]);
        assert_eq!(
            t.render_path(|_, url| push_path_value(url, "7")),
            "http://api:8080/heroq/7"
        );
    }

    #[test]
    fn missing_path_values_leave_the_slash_and_collapse_middle_segments() {
        assert_eq!(
            template("http://u/hero/:id").render_path(|_, _| {}),
            "http://u/hero/"
        );
        let two = template("http://u/a/:x/b/:y");
        assert_eq!(
            two.render_path(|n, url| {
                if n == "y" {
                    push_path_value(url, "2");
                }
            }),
            "http://u/a/b/2"
        );
    }

    #[test]
    fn path_values_cannot_leak_reserved_characters() {
        let t = template("http://u/a/:x/z");
        assert_eq!(
            t.render_path(|_, url| push_path_value(url, "a b/c?d#e")),
            "http://u/a/a%20b%2Fc%3Fd%23e/z"
        );
    }

    #[test]
    fn encoding_keeps_unreserved_runs_and_encodes_utf8_bytewise() {
        let mut out = String::new();
        encode_into(&mut out, "ab-c é ü&=~x😀", true);
        assert_eq!(out, "ab-c+%C3%A9+%C3%BC%26%3D~x%F0%9F%98%80");
        let mut out = String::new();
        encode_into(&mut out, "a b", false);
        assert_eq!(out, "a%20b");
    }

    #[test]
    fn malformed_templates_are_rejected_with_a_clear_message() {
        for (raw, needle) in [
            ("ftp://x/a", "must start with http"),
            ("http:///a", "no host"),
            ("http://x/a/:", "without a placeholder name"),
            ("http://x/a?b&:c", "query placeholders"),
        ] {
            match UrlTemplate::parse(raw) {
                Ok(_) => panic!("{raw} parsed"),
                Err(e) => assert!(e.contains(needle), "{raw}: {e}"),
            }
        }
    }

    #[test]
    fn loads_json_string_and_object_forms() {
        let m = Mappings::from_json(
            r#"{"hero": "http://u/hero/:id", "price": {"url": "http://u/price/:id", "batch": {"on": "id", "request": "GET http://u/prices"}}}"#,
        );
        let m = match m {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(m.len(), 2);
        assert!(
            m.get("price")
                .is_some_and(|p| p.extra.contains_key("batch") && p.batch.is_some())
        );
        let bad_batch = Mappings::from_json(
            r#"{"price": {"url": "http://u/price/:id", "batch": {"on": "sku", "request": "GET http://u/p"}}}"#,
        );
        assert!(
            bad_batch.is_err_and(|e| e.resource == "price" && e.message.starts_with("batch.on:"))
        );
        let bad = Mappings::from_json(r#"{"hero": 3}"#);
        assert_eq!(
            bad.map_err(|e| e.to_string()),
            Err("invalid mapping 'hero': expected a URL string or an object with 'url'".into())
        );
    }

    #[cfg(all(feature = "yaml", not(target_arch = "wasm32")))]
    #[test]
    fn loads_yaml() {
        let m =
            Mappings::from_text("hero: http://u/hero/:id\nheroq: \"http://u/heroq?:context\"\n");
        let m = match m {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        assert!(
            m.get("heroq")
                .is_some_and(|h| h.template.is_query_placeholder("context"))
        );
    }
}
