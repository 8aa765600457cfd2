//! Canonical query text: every parsed query prints to text that parses back to the same query.
//!
//! Layout: `use` clauses first, then one statement per paragraph; modifiers, `with`
//! parameters, `only` and flags each on their own indented line. Header and `only` lists stay
//! on one line, comma-separated, so that an item can never be read as the next clause.

use std::fmt::{self, Write};

use super::ast::{
    ChainItem, Filter, FilterFn, Method, ParamFn, Query, Statement, UseClause, Value, ValueKind,
};

const INDENT: &str = "  ";

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for u in &self.uses {
            write_use(f, u)?;
            f.write_char('\n')?;
        }
        if !self.uses.is_empty() {
            f.write_char('\n')?;
        }
        for (i, st) in self.statements.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "{st}")?;
        }
        f.write_char('\n')
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ParamFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn write_use(f: &mut fmt::Formatter<'_>, u: &UseClause) -> fmt::Result {
    write!(f, "use {} {}", u.key.as_str(), u.value)
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.resource.name)?;
        if let Some(alias) = &self.alias {
            write!(f, " as {}", alias.name)?;
        }
        if let Some(target) = &self.in_target {
            write!(f, " in {}", target.path.join("."))?;
        }
        if !self.headers.is_empty() {
            write!(f, "\n{INDENT}headers ")?;
            for (i, h) in self.headers.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{} = {}", h.name.name, h.value)?;
            }
        }
        for (keyword, value) in [
            ("timeout", &self.timeout),
            ("max-age", &self.max_age),
            ("s-max-age", &self.s_max_age),
        ] {
            if let Some(v) = value {
                write!(f, "\n{INDENT}{keyword} {v}")?;
            }
        }
        if let Some(target) = &self.depends_on {
            write!(f, "\n{INDENT}depends-on {}", target.name)?;
        }
        if let Some(with) = &self.with {
            write!(f, "\n{INDENT}with")?;
            if let Some(body) = &with.body {
                write!(f, " ${}", body.var.name)?;
                write_fns(f, &body.fns)?;
            }
            for p in &with.params {
                write!(f, "\n{INDENT}{INDENT}{} = {}", p.key.name, p.value)?;
                write_fns(f, &p.fns)?;
            }
        }
        if !self.only.is_empty() {
            write!(f, "\n{INDENT}only ")?;
            for (i, filter) in self.only.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_filter(f, filter)?;
            }
        }
        if self.hidden {
            write!(f, "\n{INDENT}hidden")?;
        }
        if self.ignore_errors {
            write!(f, "\n{INDENT}ignore-errors")?;
        }
        Ok(())
    }
}

fn write_fns(f: &mut fmt::Formatter<'_>, fns: &[ParamFn]) -> fmt::Result {
    for func in fns {
        write!(f, " -> {func}")?;
    }
    Ok(())
}

fn write_filter(f: &mut fmt::Formatter<'_>, filter: &Filter) -> fmt::Result {
    f.write_str(&filter.path.join("."))?;
    for func in &filter.fns {
        match func {
            FilterFn::Matches(re) => write!(f, " -> matches({re})")?,
            FilterFn::FilterByRegex { path, regex } => {
                write!(f, " -> filterByRegex({path}, {regex})")?
            }
        }
    }
    Ok(())
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ValueKind::Str(s) => write_string(f, s),
            ValueKind::Int(i) => write!(f, "{i}"),
            ValueKind::Float(x) => write_float(f, *x),
            ValueKind::Bool(b) => write!(f, "{b}"),
            ValueKind::Null => f.write_str("null"),
            ValueKind::Var(name) => write!(f, "${name}"),
            ValueKind::Chain(items) => {
                // Path variables print bracketed (`a[$x].b`): a bare `$x` right before the `]`
                // closing a list would read as `$x]`, the grammar's optional closing bracket.
                for (i, item) in items.iter().enumerate() {
                    match item {
                        ChainItem::Key(k) => {
                            if i > 0 {
                                f.write_char('.')?;
                            }
                            f.write_str(k)?
                        }
                        ChainItem::Var(v) => write!(f, "[${v}]")?,
                    }
                }
                Ok(())
            }
            ValueKind::List(items) => {
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_char(']')
            }
            ValueKind::Object(entries) => {
                if entries.is_empty() {
                    return f.write_str("{}");
                }
                f.write_str("{ ")?;
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if is_bare_object_key(key) {
                        f.write_str(key)?;
                    } else {
                        write_string(f, key)?;
                    }
                    write!(f, ": {value}")?;
                }
                f.write_str(" }")
            }
        }
    }
}

fn is_bare_object_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Floats always carry a `.` and never an exponent (the grammar has neither `1e3` nor `1.`);
/// Rust's `Display` for `f64` prints the shortest round-tripping decimal without an exponent.
fn write_float(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    let text = x.to_string();
    if text.contains('.') {
        f.write_str(&text)
    } else {
        write!(f, "{text}.0")
    }
}

/// A double-quoted string with the escapes the parser decodes: `\"` and `\\`, the usual
/// control escapes, and `\u00XX` for other control characters.
fn write_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}
