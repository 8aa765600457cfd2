//! The wasm edge: convert in, call the core, convert out.
//!
//! Values cross the boundary as JSON text. The package's JS parses it with `JSON.parse`, which
//! makes plain objects whose `__proto__` or `constructor` keys are ordinary own properties, and
//! it keeps serde-wasm-bindgen's code out of the module. Errors cross as the JSON of
//! `{"error": …, "errors": […]}`; the package turns them into one `RestqlError` class.

use wasm_bindgen::prelude::*;

use crate::Errors;

/// Parse and validate; the canonical JSON of the query, or throws the errors' JSON.
#[wasm_bindgen(js_name = parse)]
pub fn parse_to_json(text: &str) -> Result<String, JsValue> {
    match crate::check(text) {
        Ok(query) => Ok(serde_json::to_string(&query).unwrap_or_default()),
        Err(errors) => Err(errors_to_js(&errors)),
    }
}

fn errors_to_js(errors: &Errors) -> JsValue {
    JsValue::from_str(&serde_json::to_string(errors).unwrap_or_default())
}
