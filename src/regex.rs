//! The one place that knows which regex engine runs `matches` and `filterByRegex`.
//!
//! regex-lite: RE2-style syntax with unanchored search like restQL's Go `regexp`, at a fraction
//! of the `regex` crate's size in wasm (no Unicode class tables).

pub use regex_lite::Regex;

/// Compile a pattern; the error text is one line, without the engine's multi-line layout.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| {
        let text = e.to_string();
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().trim_start_matches("error:").trim().to_string())
            .unwrap_or(text)
    })
}
