//! The parsed query: plain data with byte spans into the source text.
//!
//! Spans exist for diagnostics only. Two queries mean the same thing when their canonical JSON
//! (see [`Query::to_canonical_json`]) is equal; `PartialEq` also compares spans.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::span::Span;

/// A whole query: `use` clauses, then one or more statements, in source order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub uses: Vec<UseClause>,
    pub statements: Vec<Statement>,
}

/// `use timeout 500`, `use max-age 60`, `use s-max-age 60`.
#[derive(Debug, Clone, PartialEq)]
pub struct UseClause {
    pub key: UseKey,
    /// An integer or a string (strings parse, and are ignored at run time as in restQL).
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UseKey {
    Timeout,
    MaxAge,
    SMaxAge,
}

impl UseKey {
    pub fn as_str(self) -> &'static str {
        match self {
            UseKey::Timeout => "timeout",
            UseKey::MaxAge => "max-age",
            UseKey::SMaxAge => "s-max-age",
        }
    }
}

/// The five restQL methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    From,
    /// POST
    To,
    /// PUT
    Into,
    /// PATCH
    Update,
    /// DELETE
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::From => "from",
            Method::To => "to",
            Method::Into => "into",
            Method::Update => "update",
            Method::Delete => "delete",
        }
    }

    /// The HTTP method this restQL method issues.
    pub fn http_method(self) -> &'static str {
        match self {
            Method::From => "GET",
            Method::To => "POST",
            Method::Into => "PUT",
            Method::Update => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether parameters go to a JSON body by default (rather than the query string).
    pub fn sends_body(self) -> bool {
        matches!(self, Method::To | Method::Into | Method::Update)
    }
}

/// A name with the place it was written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

impl Ident {
    pub fn new(name: impl Into<String>, span: Span) -> Self {
        Ident {
            name: name.into(),
            span,
        }
    }
}

/// One statement: `METHOD resource [as alias] [in target.path] modifiers [with ...]
/// [only ... | hidden] [ignore-errors]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub method: Method,
    pub resource: Ident,
    pub alias: Option<Ident>,
    /// `in a.b.c`: the target statement identifier, then the path inside its result.
    pub in_target: Option<InTarget>,
    /// Source order. A repeated `headers` clause replaces the earlier list (restQL rule).
    pub headers: Vec<Header>,
    pub timeout: Option<Value>,
    pub max_age: Option<Value>,
    pub s_max_age: Option<Value>,
    pub depends_on: Option<Ident>,
    pub with: Option<With>,
    /// Empty when there is no `only` clause (the clause needs at least one filter).
    pub only: Vec<Filter>,
    pub hidden: bool,
    pub ignore_errors: bool,
    /// From the method keyword to the end of the statement's last clause.
    pub span: Span,
}

impl Statement {
    /// The statement identifier: the alias if any, else the resource name. Results, chains,
    /// `depends-on` and `in` refer to statements by it.
    pub fn id(&self) -> &Ident {
        self.alias.as_ref().unwrap_or(&self.resource)
    }

    /// A statement with only a method and a resource; clauses are filled in by the parser.
    pub fn new(method: Method, resource: Ident, span: Span) -> Self {
        Statement {
            method,
            resource,
            alias: None,
            in_target: None,
            headers: Vec::new(),
            timeout: None,
            max_age: None,
            s_max_age: None,
            depends_on: None,
            with: None,
            only: Vec::new(),
            hidden: false,
            ignore_errors: false,
            span,
        }
    }
}

/// `in target.path.to.field`.
#[derive(Debug, Clone, PartialEq)]
pub struct InTarget {
    /// First the target statement identifier, then the path (at least one element in all).
    pub path: Vec<String>,
    pub span: Span,
}

impl InTarget {
    pub fn target(&self) -> &str {
        &self.path[0]
    }
}

/// `Name = value` in a `headers` clause. The value is a string, a variable or a chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub name: Ident,
    pub value: Value,
}

/// The `with` clause: an optional dynamic body (`with $body`) and parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct With {
    pub body: Option<DynamicBody>,
    /// Source order, duplicates kept (the last one wins at run time).
    pub params: Vec<Param>,
}

/// `with $var -> fn ...`: the request body comes from a run-time variable.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicBody {
    pub var: Ident,
    pub fns: Vec<ParamFn>,
}

/// `key = value -> fn -> fn`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// May contain dots (`hero.id = 1` is one key).
    pub key: Ident,
    pub value: Value,
    /// Applied left to right.
    pub fns: Vec<ParamFn>,
}

/// Functions applied to a whole `with` parameter or to the dynamic body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamFn {
    NoMultiplex,
    NoExplode,
    Base64,
    Json,
    AsBody,
    AsQuery,
    Flatten,
    /// Opts the statement out of its resource's batch endpoint: one call per item.
    NoBatch,
}

impl ParamFn {
    pub const ALL: [ParamFn; 8] = [
        ParamFn::NoMultiplex,
        ParamFn::NoExplode,
        ParamFn::Base64,
        ParamFn::Json,
        ParamFn::AsBody,
        ParamFn::AsQuery,
        ParamFn::Flatten,
        ParamFn::NoBatch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ParamFn::NoMultiplex => "no-multiplex",
            ParamFn::NoExplode => "no-explode",
            ParamFn::Base64 => "base64",
            ParamFn::Json => "json",
            ParamFn::AsBody => "as-body",
            ParamFn::AsQuery => "as-query",
            ParamFn::Flatten => "flatten",
            ParamFn::NoBatch => "no-batch",
        }
    }

    pub fn from_name(name: &str) -> Option<ParamFn> {
        ParamFn::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// One entry of an `only` clause: a dotted path (or `*`) and its filter functions.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// `["*"]` for the wildcard.
    pub path: Vec<String>,
    pub fns: Vec<FilterFn>,
    pub span: Span,
}

/// `-> matches(re)` or `-> filterByRegex(path, re)`; each argument is a string or a variable.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterFn {
    Matches(Value),
    FilterByRegex { path: Value, regex: Value },
}

/// A value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

impl Value {
    pub fn new(kind: ValueKind, span: Span) -> Self {
        Value { kind, span }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    /// `$name`: a run-time variable (dots and colons belong to the name).
    Var(String),
    /// `target.path.items`: a reference to another statement's result.
    Chain(Vec<ChainItem>),
    List(Vec<Value>),
    /// Entries in source order; a duplicated key keeps the last value at run time.
    Object(Vec<(String, Value)>),
}

/// One item of a chain: a literal key, or `$var` / `[$var]` replaced by a variable's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChainItem {
    Key(String),
    Var(String),
}

impl Query {
    /// The canonical JSON form (grammar.md section 6): what `restql parse` prints.
    pub fn to_canonical_json(&self) -> serde_json::Value {
        // Serializing our own types into a Value cannot fail: every map key is a string.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Visit every value in the query (params, nested list/object items, headers, modifiers,
    /// filter arguments) in source order.
    pub fn for_each_value<'a>(&'a self, mut f: impl FnMut(&'a Statement, &'a Value)) {
        for st in &self.statements {
            st.for_each_value(|v| f(st, v));
        }
    }
}

impl Statement {
    /// Visit every value of this statement, nested ones included, in source order.
    pub fn for_each_value<'a>(&'a self, mut f: impl FnMut(&'a Value)) {
        fn walk<'a>(v: &'a Value, f: &mut impl FnMut(&'a Value)) {
            f(v);
            match &v.kind {
                ValueKind::List(items) => items.iter().for_each(|i| walk(i, f)),
                ValueKind::Object(entries) => entries.iter().for_each(|(_, i)| walk(i, f)),
                _ => {}
            }
        }
        for h in &self.headers {
            walk(&h.value, &mut f);
        }
        for v in [&self.timeout, &self.max_age, &self.s_max_age]
            .into_iter()
            .flatten()
        {
            walk(v, &mut f);
        }
        if let Some(with) = &self.with {
            for p in &with.params {
                walk(&p.value, &mut f);
            }
        }
        for filter in &self.only {
            for func in &filter.fns {
                match func {
                    FilterFn::Matches(re) => walk(re, &mut f),
                    FilterFn::FilterByRegex { path, regex } => {
                        walk(path, &mut f);
                        walk(regex, &mut f);
                    }
                }
            }
        }
    }
}

// ---- canonical JSON (grammar.md section 6) -------------------------------------------------

impl Serialize for Query {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if !self.uses.is_empty() {
            m.serialize_entry("use", &self.uses)?;
        }
        m.serialize_entry("statements", &self.statements)?;
        m.end()
    }
}

impl Serialize for UseClause {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("key", self.key.as_str())?;
        m.serialize_entry("value", &self.value)?;
        m.end()
    }
}

impl Serialize for Statement {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("method", self.method.as_str())?;
        m.serialize_entry("resource", &self.resource.name)?;
        if let Some(alias) = &self.alias {
            m.serialize_entry("alias", &alias.name)?;
        }
        if let Some(target) = &self.in_target {
            m.serialize_entry("in", &target.path)?;
        }
        if !self.headers.is_empty() {
            m.serialize_entry("headers", &self.headers)?;
        }
        if let Some(v) = &self.timeout {
            m.serialize_entry("timeout", v)?;
        }
        if let Some(v) = &self.max_age {
            m.serialize_entry("max_age", v)?;
        }
        if let Some(v) = &self.s_max_age {
            m.serialize_entry("s_max_age", v)?;
        }
        if let Some(d) = &self.depends_on {
            m.serialize_entry("depends_on", &d.name)?;
        }
        if let Some(with) = &self.with {
            m.serialize_entry("with", with)?;
        }
        if !self.only.is_empty() {
            m.serialize_entry("only", &self.only)?;
        }
        if self.hidden {
            m.serialize_entry("hidden", &true)?;
        }
        if self.ignore_errors {
            m.serialize_entry("ignore_errors", &true)?;
        }
        m.end()
    }
}

impl Serialize for Header {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("name", &self.name.name)?;
        m.serialize_entry("value", &self.value)?;
        m.end()
    }
}

impl Serialize for With {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        match &self.body {
            Some(body) => m.serialize_entry("body", body)?,
            None => m.serialize_entry("body", &())?,
        }
        m.serialize_entry("params", &self.params)?;
        m.end()
    }
}

impl Serialize for DynamicBody {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("var", &self.var.name)?;
        m.serialize_entry("fns", &self.fns)?;
        m.end()
    }
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("key", &self.key.name)?;
        m.serialize_entry("value", &self.value)?;
        m.serialize_entry("fns", &self.fns)?;
        m.end()
    }
}

impl Serialize for ParamFn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Serialize for Filter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("path", &self.path)?;
        m.serialize_entry("fns", &self.fns)?;
        m.end()
    }
}

impl Serialize for FilterFn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        match self {
            FilterFn::Matches(re) => m.serialize_entry("matches", re)?,
            FilterFn::FilterByRegex { path, regex } => {
                struct Args<'a>(&'a Value, &'a Value);
                impl Serialize for Args<'_> {
                    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        let mut m = s.serialize_map(Some(2))?;
                        m.serialize_entry("path", self.0)?;
                        m.serialize_entry("regex", self.1)?;
                        m.end()
                    }
                }
                m.serialize_entry("filterByRegex", &Args(path, regex))?;
            }
        }
        m.end()
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        match &self.kind {
            ValueKind::Str(v) => m.serialize_entry("str", v)?,
            ValueKind::Int(v) => m.serialize_entry("int", v)?,
            ValueKind::Float(v) => m.serialize_entry("float", v)?,
            ValueKind::Bool(v) => m.serialize_entry("bool", v)?,
            ValueKind::Null => m.serialize_entry("null", &true)?,
            ValueKind::Var(v) => m.serialize_entry("var", v)?,
            ValueKind::Chain(items) => m.serialize_entry("chain", items)?,
            ValueKind::List(items) => m.serialize_entry("list", items)?,
            ValueKind::Object(entries) => {
                struct Entries<'a>(&'a [(String, Value)]);
                impl Serialize for Entries<'_> {
                    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        let mut seq = s.serialize_seq(Some(self.0.len()))?;
                        for entry in self.0 {
                            seq.serialize_element(&(&entry.0, &entry.1))?;
                        }
                        seq.end()
                    }
                }
                m.serialize_entry("object", &Entries(entries))?
            }
        }
        m.end()
    }
}

impl Serialize for ChainItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ChainItem::Key(k) => s.serialize_str(k),
            ChainItem::Var(v) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("var", v)?;
                m.end()
            }
        }
    }
}
