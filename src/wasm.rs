//! The wasm edge: convert in, call the core, convert out.
//!
//! Values cross the boundary as JSON text. The package's JS parses it with `JSON.parse`, which
//! makes plain objects whose `__proto__` or `constructor` keys are ordinary own properties, and
//! it keeps serde-wasm-bindgen's code out of the module. Errors cross as the JSON of
//! `{"error": …, "errors": […]}`; the package turns them into one `RestqlError` class.
//!
//! Clients live in a slab and are addressed by number, so the generated glue has no JS class
//! (Hermes, for React Native, has no `class` syntax).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::future::{Either, LocalBoxFuture, select};
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use serde_json::{Map, Value as Json, json};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::http::{Clock, Request, Response, Transport, TransportError};
use crate::{Errors, Inputs, Mappings, Options, Query};

/// Parse and validate; the canonical JSON of the query, or throws the errors' JSON.
#[wasm_bindgen(js_name = parse)]
pub fn parse_to_json(text: &str) -> Result<String, JsValue> {
    match crate::check(text) {
        Ok(query) => Ok(serde_json::to_string(&query).unwrap_or_default()),
        Err(errors) => Err(errors_to_js(&errors)),
    }
}

/// The plan of `text` over `config_json`'s mappings (`{mappings, variables?}`), as its JSON
/// form plus `text`, the indented text form.
#[wasm_bindgen(js_name = explain)]
pub fn explain_to_json(text: &str, config_json: &str) -> Result<String, JsValue> {
    let config = ClientConfig::from_json(config_json).map_err(|e| message_to_js("config", &e))?;
    let inputs = Inputs {
        variables: config.variables.clone(),
        headers: Vec::new(),
    };
    let query = crate::check(text).map_err(|e| errors_to_js(&e))?;
    let plan = crate::plan(&query, text, &config.mappings, &inputs, &config.options)
        .map_err(|e| errors_to_js(&e))?;
    let mut out = plan.to_json();
    if let Json::Object(map) = &mut out {
        map.insert("text".into(), Json::String(plan.to_text()));
    }
    Ok(out.to_string())
}

/// Register a client (`{mappings, timeoutMs?, queryTimeoutMs?, maxCalls?, maxStatements?,
/// maxResponseBytes?}`); returns its number.
#[wasm_bindgen(js_name = clientNew)]
pub fn client_new(config_json: &str) -> Result<u32, JsValue> {
    let config = ClientConfig::from_json(config_json).map_err(|e| message_to_js("config", &e))?;
    CLIENTS.with(|clients| {
        let mut clients = clients.borrow_mut();
        let slot = clients.iter().position(Option::is_none).unwrap_or_else(|| {
            clients.push(None);
            clients.len() - 1
        });
        clients[slot] = Some(Rc::new(config));
        Ok(slot as u32)
    })
}

/// Forget a client; runs already started finish.
#[wasm_bindgen(js_name = clientFree)]
pub fn client_free(client: u32) {
    CLIENTS.with(|clients| {
        if let Some(slot) = clients.borrow_mut().get_mut(client as usize) {
            *slot = None;
        }
    });
}

/// Run a query. `inputs_json` is `{variables, headers, debug}`; `fetch` is the function that
/// sends requests (`globalThis.fetch` unless the caller gave another); `signal` an optional
/// AbortSignal. Resolves to the JSON of `{status, headers, body, stats}`; rejects with the
/// signal's reason when it aborts.
#[wasm_bindgen(js_name = clientRun)]
pub fn client_run(
    client: u32,
    text: String,
    inputs_json: &str,
    fetch: Function,
    signal: JsValue,
) -> Promise {
    let config = CLIENTS.with(|c| c.borrow().get(client as usize).cloned().flatten());
    let parsed: Result<(Inputs, bool), String> = parse_inputs(inputs_json);
    future_to_promise(async move {
        let config = config.ok_or_else(|| message_to_js("client", "this client was closed"))?;
        let (inputs, debug) = parsed.map_err(|e| message_to_js("inputs", &e))?;
        let mut options = config.options.clone();
        options.debug = debug;
        let transport = FetchTransport { fetch };
        let clock = JsClock;
        let query = match config.checked(&text) {
            Ok(query) => query,
            Err(errors) => return Ok(outcome_to_js(&crate::first_error(errors))),
        };
        let run = crate::run_checked(
            &query,
            &text,
            &config.mappings,
            &inputs,
            &options,
            &transport,
            &clock,
        );
        let outcome = match abort_of(&signal) {
            None => run.await,
            Some(aborted) => {
                let run = std::pin::pin!(run);
                match select(run, aborted).await {
                    Either::Left((outcome, _)) => outcome,
                    // Dropping the run drops every call in flight, which aborts its fetch.
                    Either::Right((reason, _)) => return Err(reason),
                }
            }
        };
        Ok(outcome_to_js(&outcome))
    })
}

/// `{status, headers, body, stats, error}` as JSON text.
fn outcome_to_js(outcome: &crate::Outcome) -> JsValue {
    let headers: Map<String, Json> = outcome
        .cache_control
        .iter()
        .map(|cc| ("cache-control".to_string(), Json::String(cc.clone())))
        .chain(
            outcome
                .headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), Json::String(v.clone()))),
        )
        .collect();
    let stats = outcome.stats;
    let result = json!({
        "status": outcome.status,
        "headers": headers,
        "body": outcome.body,
        "stats": {
            "calls": stats.calls,
            "deduped": stats.deduped,
            "batched": stats.batched,
            "cacheHits": stats.cache_hits,
            "durationMs": stats.duration_ms,
        },
        "error": outcome.error,
    });
    JsValue::from_str(&result.to_string())
}

thread_local! {
    static CLIENTS: RefCell<Vec<Option<Rc<ClientConfig>>>> = const { RefCell::new(Vec::new()) };
}

/// What a client keeps between runs: mappings parsed once, limits and defaults, and the
/// queries it has parsed and validated, by text (restQL caches parsed queries too).
#[derive(Debug)]
struct ClientConfig {
    mappings: Mappings,
    options: Options,
    variables: Map<String, Json>,
    checked: RefCell<HashMap<String, Rc<Query>>>,
}

/// Distinct query texts a client keeps parsed; past it the cache starts over.
const CHECKED_QUERIES: usize = 100;

impl ClientConfig {
    /// The parsed and validated query of `text`, from the cache when it was seen before.
    fn checked(&self, text: &str) -> Result<Rc<Query>, Errors> {
        if let Some(query) = self.checked.borrow().get(text) {
            return Ok(Rc::clone(query));
        }
        let query = Rc::new(crate::check(text)?);
        let mut cache = self.checked.borrow_mut();
        if cache.len() >= CHECKED_QUERIES {
            cache.clear();
        }
        cache.insert(text.to_string(), Rc::clone(&query));
        Ok(query)
    }
}

impl ClientConfig {
    fn from_json(text: &str) -> Result<ClientConfig, String> {
        let config: Json = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mappings = match config.get("mappings") {
            Some(m) => Mappings::from_json_value(m).map_err(|e| e.to_string())?,
            None => Mappings::new(),
        };
        let mut options = Options::default();
        let number = |key: &str| config.get(key).and_then(Json::as_u64);
        if let Some(ms) = number("timeoutMs") {
            options.statement_timeout_ms = ms;
        }
        if let Some(ms) = number("queryTimeoutMs") {
            options.query_deadline_ms = ms;
        }
        if let Some(n) = number("maxCalls") {
            options.max_calls = n as usize;
        }
        if let Some(n) = number("maxStatements") {
            options.max_statements = n as usize;
        }
        if let Some(n) = number("maxResponseBytes") {
            options.max_response_bytes = n as usize;
        }
        let variables = match config.get("variables") {
            Some(Json::Object(v)) => v.clone(),
            _ => Map::new(),
        };
        Ok(ClientConfig {
            mappings,
            options,
            variables,
            checked: RefCell::new(HashMap::new()),
        })
    }
}

fn parse_inputs(text: &str) -> Result<(Inputs, bool), String> {
    let value: Json = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let variables = match value.get("variables") {
        Some(Json::Object(v)) => v.clone(),
        None | Some(Json::Null) => Map::new(),
        Some(_) => return Err("variables must be an object".into()),
    };
    let headers = match value.get("headers") {
        Some(Json::Object(h)) => h
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
            .collect(),
        _ => Vec::new(),
    };
    let debug = value.get("debug").and_then(Json::as_bool).unwrap_or(false);
    Ok((Inputs { variables, headers }, debug))
}

fn errors_to_js(errors: &Errors) -> JsValue {
    JsValue::from_str(&serde_json::to_string(errors).unwrap_or_default())
}

/// A usage problem (bad config or inputs), in the same report shape as query errors.
fn message_to_js(code: &str, message: &str) -> JsValue {
    let report = json!({
        "error": {"code": format!("invalid-{code}"), "phase": "plan", "message": message,
                  "line": 0, "column": 0, "columnUtf16": 0, "start": 0, "end": 0,
                  "expected": [], "snippet": ""},
    });
    JsValue::from_str(&report.to_string())
}

// ---- the fetch transport ---------------------------------------------------------------------

/// Calls the injected fetch function. Each call has its own AbortController, aborted when the
/// call's future is dropped (its statement timed out, the query deadline passed, or the run
/// was aborted), so no request outlives the run that made it.
struct FetchTransport {
    fetch: Function,
}

struct AbortOnDrop(Option<JsValue>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            let _ = call_method(&controller, "abort", &Array::new());
        }
    }
}

impl Transport for FetchTransport {
    fn send<'a>(
        &'a self,
        request: &'a Request,
    ) -> LocalBoxFuture<'a, Result<Response, TransportError>> {
        Box::pin(async move {
            let controller = new_global("AbortController", &Array::new());
            let mut guard = AbortOnDrop(controller.clone().ok());
            let init = Object::new();
            let set = |k: &str, v: &JsValue| Reflect::set(&init, &k.into(), v).map(|_| ());
            let headers = Array::new();
            for (name, value) in request.headers.iter() {
                headers.push(&Array::of2(&name.into(), &value.into()));
            }
            let built = set("method", &request.method.into())
                .and_then(|_| set("headers", &headers))
                .and_then(|_| match &request.body {
                    Some(body) => set("body", &body.into()),
                    None => Ok(()),
                })
                .and_then(|_| match &controller {
                    Ok(c) => set("signal", &Reflect::get(c, &"signal".into())?),
                    Err(_) => Ok(()),
                });
            built.map_err(|e| TransportError::Connection(js_text(&e)))?;
            let promise = self
                .fetch
                .call2(&JsValue::UNDEFINED, &request.url.as_str().into(), &init)
                .map_err(|e| TransportError::Connection(js_text(&e)))?;
            let response = JsFuture::from(Promise::resolve(&promise))
                .await
                .map_err(|e| TransportError::Connection(js_text(&e)))?;
            let result = read_response(&response, request.max_response_bytes).await;
            guard.0 = None; // finished: nothing to abort
            result
        })
    }
}

async fn read_response(response: &JsValue, limit: usize) -> Result<Response, TransportError> {
    let get = |k: &str| Reflect::get(response, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let status = get("status").as_f64().unwrap_or(0.0) as u16;
    let mut headers = Vec::new();
    if let Ok(Some(entries)) = js_sys::try_iter(&get("headers")) {
        for entry in entries.flatten() {
            let pair = Array::from(&entry);
            if let (Some(n), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                headers.push((n, v));
            }
        }
    }
    let declared = crate::http::header_value(&headers, "content-length")
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(TransportError::TooLarge { limit });
    }
    let buffer = call_method(response, "arrayBuffer", &Array::new())
        .map(|p| JsFuture::from(Promise::resolve(&p)))
        .map_err(|e| TransportError::Connection(js_text(&e)))?
        .await
        .map_err(|e| TransportError::Connection(js_text(&e)))?;
    let bytes = Uint8Array::new(&buffer);
    if bytes.length() as usize > limit {
        return Err(TransportError::TooLarge { limit });
    }
    Ok(Response {
        status,
        headers,
        body: bytes.to_vec(),
    })
}

/// `target[name](...args)`.
fn call_method(target: &JsValue, name: &str, args: &Array) -> Result<JsValue, JsValue> {
    let method: Function = Reflect::get(target, &name.into())?.dyn_into()?;
    Reflect::apply(&method, target, args)
}

/// `new globalThis[name](...args)`.
fn new_global(name: &str, args: &Array) -> Result<JsValue, JsValue> {
    let constructor: Function = Reflect::get(&js_sys::global(), &name.into())?.dyn_into()?;
    Reflect::construct(&constructor, args)
}

fn js_text(value: &JsValue) -> String {
    value
        .as_string()
        .or_else(|| {
            Reflect::get(value, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "fetch failed".into())
}

// ---- time ------------------------------------------------------------------------------------

/// `Date.now` and `setTimeout`; a sleep that is dropped clears its timer, so a finished run
/// leaves nothing to keep Node's event loop alive.
struct JsClock;

thread_local! {
    static ORIGIN: f64 = js_sys::Date::now();
}

struct ClearOnDrop(JsValue);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        let _ = call_method(&js_sys::global(), "clearTimeout", &Array::of1(&self.0));
    }
}

impl Clock for JsClock {
    fn now_ms(&self) -> u64 {
        // Relative to the first reading and through u32: wasm2js (the React Native build)
        // cannot lower a saturating f64 -> i64 conversion. u32 milliseconds last 49 days.
        ORIGIN.with(|origin| (js_sys::Date::now() - origin).max(0.0) as u32 as u64)
    }

    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
        let mut timer = JsValue::UNDEFINED;
        let promise = Promise::new(&mut |resolve, _reject| {
            let args = Array::of2(&resolve, &JsValue::from_f64(ms as f64));
            timer = call_method(&js_sys::global(), "setTimeout", &args).unwrap_or_default();
        });
        let guard = ClearOnDrop(timer);
        Box::pin(async move {
            let _ = JsFuture::from(promise).await;
            drop(guard);
        })
    }
}

/// A future that resolves with the signal's reason once `signal` aborts (at once if it
/// already has); `None` without a signal.
fn abort_of(signal: &JsValue) -> Option<LocalBoxFuture<'static, JsValue>> {
    if signal.is_undefined() || signal.is_null() {
        return None;
    }
    let signal = signal.clone();
    let promise = Promise::new(&mut |resolve, _reject| {
        let reason = || Reflect::get(&signal, &"reason".into()).unwrap_or(JsValue::UNDEFINED);
        if Reflect::get(&signal, &"aborted".into())
            .ok()
            .and_then(|a| a.as_bool())
            .unwrap_or(false)
        {
            let _ = resolve.call1(&JsValue::UNDEFINED, &reason());
            return;
        }
        let target = signal.clone();
        let on_abort = Closure::once_into_js(move || {
            let reason = Reflect::get(&target, &"reason".into()).unwrap_or(JsValue::UNDEFINED);
            let _ = resolve.call1(&JsValue::UNDEFINED, &reason);
        });
        let once = Object::new();
        let _ = Reflect::set(&once, &"once".into(), &JsValue::TRUE);
        let _ = call_method(
            &signal,
            "addEventListener",
            &Array::of3(&"abort".into(), &on_abort, &once),
        );
    });
    Some(Box::pin(async move {
        JsFuture::from(promise)
            .await
            .unwrap_or_else(|reason| reason)
    }))
}
