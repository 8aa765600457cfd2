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
use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::thread::LocalKey;

use rustc_hash::FxHashMap;

use futures::future::{Either, LocalBoxFuture, select};
use js_sys::{Array, Function, Object, Promise, Reflect};
use serde_json::{Map, Value as Json, json};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::http::{Clock, IDLE_AFTER_MS, Request, Response, Transport, TransportError};
use crate::{CacheConfig, Errors, Inputs, Mappings, Options};

// The module's allocator: talc in place of the default dlmalloc (fewer instructions, less
// weight in the module), behind free lists by size class. A run allocates and frees a few
// hundred small blocks of a few sizes (answers, items, trees, futures): the lists serve
// nearly all of them without talc's search.
#[global_allocator]
static ALLOCATOR: crate::size_classes::SizeClasses<talc::wasm::WasmDynamicTalc> =
    crate::size_classes::SizeClasses::new(talc::wasm::new_wasm_dynamic_allocator());

#[cfg(feature = "step-marks")]
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = __restqlStep)]
    pub(crate) fn step(label: &str);
}

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
    let config = Settings::from_json(config_json).map_err(|e| message_to_js("config", &e))?;
    let inputs = Inputs {
        variables: config.variables,
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
/// maxResponseBytes?, cache?}`) whose calls go through `fetch`; returns its number. The
/// client's runs share its calls in flight, batch windows and cache.
#[wasm_bindgen(js_name = clientNew)]
pub fn client_new(config_json: &str, fetch: Function) -> Result<u32, JsValue> {
    let config = client_from_json(config_json, fetch).map_err(|e| message_to_js("config", &e))?;
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

/// `clientRun`'s flags: each statement's `details.debug`.
pub const RUN_DEBUG: u32 = 1;
/// `clientRun`'s flags: the per-call trace in the answer.
pub const RUN_TRACE: u32 = 2;
/// `clientRun`'s flags: the body as its own JSON text.
pub const RUN_BODY_TEXT: u32 = 4;

/// Run a query. `variables_json` and `headers_json` are JSON objects, or undefined for none
/// (a run without variables or headers then parses no JSON for them); `flags` is the union
/// of [`RUN_DEBUG`], [`RUN_TRACE`] and [`RUN_BODY_TEXT`]; `signal` an optional AbortSignal.
/// Resolves to the JSON of `{status, headers, body, stats, trace?}`, or with
/// [`RUN_BODY_TEXT`] to `[JSON of the rest, JSON of the body]` (for callers that send the
/// body on as text); rejects with the signal's reason when it aborts.
///
/// `on_statement`, a function or undefined, is called with a statement's identifier and the
/// JSON text of its part of the body as soon as that part is final and the run is idle,
/// waiting for other calls; the body then holds `0` in that statement's place. Parsing a part
/// there keeps it off the run's last hop.
#[wasm_bindgen(js_name = clientRun)]
pub fn client_run(
    client: u32,
    text: String,
    variables_json: Option<String>,
    headers_json: Option<String>,
    flags: u32,
    signal: JsValue,
    on_statement: JsValue,
) -> Promise {
    let config = CLIENTS.with(|c| c.borrow().get(client as usize).cloned().flatten());
    let parsed = parse_inputs(variables_json.as_deref(), headers_json.as_deref(), flags);
    future_to_promise(async move {
        let config = config.ok_or_else(|| message_to_js("client", "this client was closed"))?;
        let RunInputs {
            inputs,
            debug,
            trace,
            body_text,
        } = parsed.map_err(|e| message_to_js("inputs", &e))?;
        // Identifiers of the statements whose parts went to `on_statement`.
        let handed_out: RefCell<Vec<String>> = RefCell::new(Vec::new());
        let answer = |outcome: &crate::Outcome| {
            let handed_out = handed_out.borrow();
            let skip = |id: &str| handed_out.iter().any(|h| h == id);
            outcome_to_js(outcome, trace, body_text, &skip)
        };
        step!("m:task");
        let mut options = config.options().clone();
        options.debug = debug;
        options.trace = trace;
        let prepared = match config.prepare(&text, &inputs, &options) {
            Ok(prepared) => prepared,
            Err(errors) => return Ok(answer(&crate::first_error(errors))),
        };
        step!("m:prepared");
        let on_statement: Option<&Function> = on_statement.dyn_ref::<Function>();
        let hand_out = |id: &str, part: &crate::StatementPart<'_>| {
            let Some(f) = on_statement else { return };
            // A throwing callback loses its part, which the body then still holds.
            if f.call2(
                &JsValue::UNDEFINED,
                &JsValue::from_str(id),
                &JsValue::from_str(&part.compact_text()),
            )
            .is_ok()
            {
                handed_out.borrow_mut().push(id.to_string());
            }
        };
        let sink: Option<crate::StatementSink<'_>> = match on_statement {
            Some(_) => Some(&hand_out),
            None => None,
        };
        let run = config.run_prepared(&prepared, sink);
        if !signal.is_undefined() && !signal.is_null() {
            let signal: &AbortSignal = signal.unchecked_ref();
            if signal.aborted() {
                // Nothing is sent for a run whose signal has already aborted.
                return Err(signal.reason());
            }
        }
        let outcome = match abort_of(&signal) {
            None => run.await,
            Some(aborted) => {
                let run = std::pin::pin!(run);
                match select(aborted, run).await {
                    Either::Right((outcome, _)) => outcome,
                    // Dropping the run drops every call in flight, which aborts its fetch
                    // unless another run still waits for it.
                    Either::Left((reason, _)) => return Err(reason),
                }
            }
        };
        step!("m:outcome");
        Ok(answer(&outcome))
    })
}

/// `{status, headers, body, stats, trace?, error}` as JSON text (`trace` when asked for), in
/// one buffer, the body's details in their compact form (the package's JS makes the
/// objects); with `body_text`, `[the rest, the body]` as two texts, the body as restQL writes
/// it. The body is written straight from the outcome (upstream bodies spliced in as they
/// came, keys in their upstream order), which costs far less than rebuilding it as a value.
fn outcome_to_js(
    outcome: &crate::Outcome,
    trace: bool,
    body_text: bool,
    handed_out: &dyn Fn(&str) -> bool,
) -> JsValue {
    // Lower-cased names, later ones replacing earlier ones, in name order.
    let mut headers: BTreeMap<String, &str> = BTreeMap::new();
    if let Some(cc) = &outcome.cache_control {
        headers.insert("cache-control".into(), cc);
    }
    for (name, value) in &outcome.headers {
        headers.insert(name.to_ascii_lowercase(), value);
    }
    let stats = outcome.stats;
    let mut out = Vec::with_capacity(4096);
    let _ = write!(out, "{{\"status\":{},\"headers\":", outcome.status);
    push_json(&mut out, &headers);
    if !body_text {
        out.extend_from_slice(b",\"body\":");
        push_json(&mut out, &outcome.body.compact_without(handed_out));
    }
    let _ = write!(
        out,
        ",\"stats\":{{\"calls\":{},\"deduped\":{},\"batched\":{},\"cacheHits\":{},\"durationMs\":{}}}",
        stats.calls, stats.deduped, stats.batched, stats.cache_hits, stats.duration_ms
    );
    if trace {
        out.extend_from_slice(b",\"trace\":");
        push_json(&mut out, &outcome.trace);
    }
    out.extend_from_slice(b",\"error\":");
    push_json(&mut out, &outcome.error);
    out.push(b'}');
    step!("m:written");
    let text = |bytes: &[u8]| JsValue::from_str(std::str::from_utf8(bytes).unwrap_or("null"));
    if !body_text {
        return text(&out);
    }
    let mut body = Vec::with_capacity(4096);
    push_json(&mut body, &outcome.body);
    Array::of2(&text(&out), &text(&body)).into()
}

/// Appends the JSON text of `value` (`null` if it cannot be written, which our types never do).
fn push_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let mark = out.len();
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.truncate(mark);
        out.extend_from_slice(b"null");
    }
}

thread_local! {
    /// The JS clients, by number: each keeps its mappings, limits and defaults, its shared
    /// state and the plans of the queries it ran (`Client::prepare`).
    static CLIENTS: RefCell<Vec<Option<Rc<crate::Client>>>> = const { RefCell::new(Vec::new()) };
}

/// A client's configuration as the package passes it.
struct Settings {
    mappings: Mappings,
    options: Options,
    variables: Map<String, Json>,
    cache: Option<CacheConfig>,
}

impl Settings {
    fn from_json(text: &str) -> Result<Settings, String> {
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
        let cache = match config.get("cache") {
            None | Some(Json::Null) | Some(Json::Bool(false)) => None,
            Some(Json::Bool(true)) => Some(CacheConfig::default()),
            Some(Json::Object(c)) => {
                let mut cache = CacheConfig::default();
                let number = |key: &str| c.get(key).and_then(Json::as_u64);
                if let Some(n) = number("maxEntries") {
                    cache.max_entries = n as usize;
                }
                if let Some(n) = number("maxBytes") {
                    cache.max_bytes = n as usize;
                }
                if let Some(shared) = c.get("shared").and_then(Json::as_bool) {
                    cache.shared = shared;
                }
                Some(cache)
            }
            Some(_) => return Err("cache must be true, false or an object".into()),
        };
        Ok(Settings {
            mappings,
            options,
            variables,
            cache,
        })
    }
}

/// A client over `fetch` from the package's configuration.
fn client_from_json(text: &str, fetch: Function) -> Result<crate::Client, String> {
    let settings = Settings::from_json(text)?;
    Ok(crate::Client::new(
        Rc::new(FetchTransport { fetch }),
        Rc::new(JsClock),
        settings.mappings,
        settings.options,
        crate::ClientConfig {
            cache: settings.cache,
        },
    ))
}

fn parse_inputs(
    variables: Option<&str>,
    headers: Option<&str>,
    flags: u32,
) -> Result<RunInputs, String> {
    let variables = match variables.map(serde_json::from_str::<Json>).transpose() {
        Ok(None | Some(Json::Null)) => Map::new(),
        Ok(Some(Json::Object(v))) => v,
        Ok(Some(_)) => return Err("variables must be an object".into()),
        Err(e) => return Err(e.to_string()),
    };
    let headers = match headers.map(serde_json::from_str::<Json>).transpose() {
        Ok(Some(Json::Object(h))) => h
            .into_iter()
            .filter_map(|(k, v)| match v {
                Json::String(v) => Some((k, v)),
                _ => None,
            })
            .collect(),
        Ok(_) => Vec::new(),
        Err(e) => return Err(e.to_string()),
    };
    Ok(RunInputs {
        inputs: Inputs { variables, headers },
        debug: flags & RUN_DEBUG != 0,
        trace: flags & RUN_TRACE != 0,
        body_text: flags & RUN_BODY_TEXT != 0,
    })
}

/// What `clientRun` receives besides the query text.
struct RunInputs {
    inputs: Inputs,
    /// Each statement's `details.debug`.
    debug: bool,
    /// The per-call trace in the answer (opt-in: writing and reading it back costs about as
    /// much as the body of a large fan-out).
    trace: bool,
    /// The body as its own JSON text, for a caller that sends it on unread (`createHandler`).
    body_text: bool,
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

#[wasm_bindgen(inline_js = r#"
// One promise chain per call: fetch, the Content-Length check and the body. It ends in
// answered(id, status, headers, bytes), the headers as one text ("name\nvalue\n..."; a
// pair holding a line break, which no HTTP header can, is left out) and bytes undefined when
// the declared length, or the body read, is past the limit (the body is then never read, or
// not copied), or in failed(id, error). One text and one byte array cross into the module, not an array of pieces, and the
// chain is as short as the steps it waits for.
//
// A call's AbortController is made when its fetch reads `init.signal` (an own, enumerable
// getter, so spreading `init` keeps it): fetch functions that never look at the signal, such
// as in-memory ones, cost no controller. Runtimes without AbortController get no signal.
const controllers = new Map();
const ABANDONED = {};

export function restqlSend(fetch, url, method, headers, body, limit, id, answered, failed) {
  const init = {
    method,
    headers: [],
    get signal() {
      let controller = controllers.get(id);
      if (typeof AbortController !== "function") return undefined;
      if (controller === ABANDONED) return AbortSignal.abort();
      if (controller === undefined) {
        controller = new AbortController();
        controllers.set(id, controller);
      }
      return controller.signal;
    },
  };
  for (let i = 0; i < headers.length; i += 2) init.headers.push([headers[i], headers[i + 1]]);
  if (body !== undefined) init.body = body;
  const fail = (error) => {
    controllers.delete(id);
    failed(id, error);
  };
  let responded;
  try {
    responded = Promise.resolve(fetch(url, init));
  } catch (error) {
    responded = Promise.reject(error);
  }
  responded.then((response) => {
    let status;
    let flat = "";
    let tooLarge = false;
    let buffer;
    try {
      status = response.status;
      const list = response.headers;
      if (list != null && typeof list[Symbol.iterator] === "function") {
        for (const pair of list) {
          const name = pair[0];
          const value = pair[1];
          if (typeof name !== "string" || typeof value !== "string") continue;
          if (name.includes("\n") || value.includes("\n")) continue;
          flat += flat === "" ? name + "\n" + value : "\n" + name + "\n" + value;
          if (name.toLowerCase() === "content-length" && /^\s*\d+\s*$/.test(value)) {
            tooLarge = tooLarge || Number(value) > limit;
          }
        }
      }
      if (!tooLarge) buffer = Promise.resolve(response.arrayBuffer());
    } catch (error) {
      fail(error);
      return;
    }
    if (tooLarge) {
      controllers.delete(id);
      answered(id, status, flat, undefined);
      return;
    }
    buffer.then((bytes) => {
      controllers.delete(id);
      // A body past the limit is not copied into the module.
      const view = new Uint8Array(bytes);
      answered(id, status, flat, view.length > limit ? undefined : view);
    }, fail);
  }, fail);
}

// Runs `callback` once the promise reactions already queued have run (the batch window
// `microtask`): queueMicrotask, or a resolved promise where there is none.
export function restqlMicrotask(callback) {
  if (typeof queueMicrotask === "function") queueMicrotask(callback);
  else Promise.resolve().then(callback);
}

// The call's future was dropped before it settled: abort its fetch, or make sure a signal
// read later comes aborted.
export function restqlAbandon(id) {
  const controller = controllers.get(id);
  controllers.set(id, ABANDONED);
  if (controller !== undefined && controller !== ABANDONED) controller.abort();
}

// Runs `callback` in a later task, after every promise reaction already queued: a message on
// a MessageChannel, or setTimeout(0) where there is none (Hermes). Never process.nextTick.
// Where a port can be unreferenced (Node), one channel serves every window and holds the
// event loop only while a message is on its way; elsewhere each window gets a fresh channel,
// closed on receipt, so that none is left open. (A channel costs tens of microseconds.)
// Node's ports also take an `on("message")` listener, which gets the message without a
// MessageEvent made for it: 14 µs sooner after an HTTP answer (pkg/bench/next-task.mjs).
let taskPort = null;
const taskCallbacks = [];
// Idle moments' callbacks (restqlLater): messages of their own kind on the same port, which
// hold nothing.
const laterCallbacks = [];
const WINDOW = 0;
const LATER = 1;
// Whether a port that can be unreferenced was looked for (once).
let taskPortSought = false;
function portOfTasks() {
  if (!taskPortSought && typeof MessageChannel === "function") {
    taskPortSought = true;
    const channel = new MessageChannel();
    if (typeof channel.port1.unref === "function" && typeof channel.port1.ref === "function") {
      const receive = (kind) => {
        if (kind === LATER) {
          laterCallbacks.shift()();
          return;
        }
        // Callbacks may arm the next window, which references the port again.
        channel.port1.unref();
        for (const f of taskCallbacks.splice(0)) f();
      };
      if (typeof channel.port1.on === "function") channel.port1.on("message", receive);
      else channel.port1.onmessage = (event) => receive(event.data);
      channel.port1.unref();
      taskPort = channel;
    } else {
      channel.port1.close();
    }
  }
  return taskPort;
}
export function restqlNextTask(callback) {
  if (typeof MessageChannel !== "function") {
    setTimeout(callback, 0);
    return;
  }
  const port = portOfTasks();
  if (port === null) {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      callback();
    };
    channel.port2.postMessage(0);
    return;
  }
  taskCallbacks.push(callback);
  port.port1.ref();
  port.port2.postMessage(WINDOW);
}

// Runs `callback` in a later task, after this task's socket writes, without holding the
// event loop (a run waiting for an answer holds it through its timer): a run's idle moment.
// On the port of restqlNextTask, whose messages come in the order they were posted, so it
// comes after a window opened before it; where ports cannot be unreferenced, a timer of
// `fallbackMs`. A message costs a few microseconds where a new timer costs twenty after the
// network's wait.
export function restqlLater(callback, fallbackMs) {
  const port = portOfTasks();
  if (port === null) {
    setTimeout(callback, fallbackMs);
    return;
  }
  laterCallbacks.push(callback);
  port.port2.postMessage(LATER);
}

// The sleeps' timer, once nothing waits for it: unreferenced where timers can be (Node), so
// that the next run finds it set (a reference taken back costs far less than a new timer,
// 3 against 20 µs after a wait) and a finished run still leaves nothing that holds the event
// loop; cleared elsewhere. True when kept.
export function restqlTimerRelease(timer) {
  if (timer !== null && typeof timer === "object" && typeof timer.unref === "function" && typeof timer.ref === "function") {
    timer.unref();
    return true;
  }
  clearTimeout(timer);
  return false;
}

// A timer kept by restqlTimerRelease, waited for again.
export function restqlTimerHold(timer) {
  timer.ref();
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = restqlSend)]
    fn send_request(
        fetch: &Function,
        url: &str,
        method: &str,
        headers: &Array,
        body: Option<String>,
        limit: f64,
        id: u32,
        answered: &Function,
        failed: &Function,
    );
    #[wasm_bindgen(js_name = restqlAbandon)]
    fn abandon_request(id: u32);
    #[wasm_bindgen(js_name = restqlNextTask)]
    fn next_task(callback: &Function);
    #[wasm_bindgen(js_name = restqlMicrotask)]
    fn microtask(callback: &Function);
    #[wasm_bindgen(js_name = restqlLater)]
    fn later(callback: &Function, fallback_ms: f64);
    #[wasm_bindgen(js_name = restqlTimerRelease)]
    fn release_timer(timer: &JsValue) -> bool;
    #[wasm_bindgen(js_name = restqlTimerHold)]
    fn hold_timer(timer: &JsValue);
}

/// Calls the injected fetch function. Each call's signal is aborted when the call's future is
/// dropped before it settled (its statement timed out, the query deadline passed, or the run
/// was aborted), so no request outlives the run that made it.
struct FetchTransport {
    fetch: Function,
}

impl Transport for FetchTransport {
    fn send<'a>(
        &'a self,
        request: &'a Request,
    ) -> LocalBoxFuture<'a, Result<Response, TransportError>> {
        Box::pin(async move {
            let headers = Array::new();
            for (name, value) in request.headers.iter() {
                headers.push(&name.into());
                headers.push(&value.into());
            }
            let limit = request.max_response_bytes;
            let call = PendingCall::start();
            ON_ANSWERED.with(|answered| {
                ON_FAILED.with(|failed| {
                    send_request(
                        &self.fetch,
                        &request.url,
                        request.method,
                        &headers,
                        request.body.clone(),
                        limit as f64,
                        call.id,
                        answered.as_ref().unchecked_ref(),
                        failed.as_ref().unchecked_ref(),
                    )
                })
            });
            let answer = call
                .await
                .map_err(|e| TransportError::Connection(js_text(&e)))?;
            let body = match answer.body {
                Some(body) if body.len() <= limit => body,
                _ => return Err(TransportError::TooLarge { limit }),
            };
            Ok(Response {
                status: answer.status,
                headers: header_pairs(&answer.headers),
                body,
            })
        })
    }
}

/// `name\nvalue\nname\nvalue` as pairs.
fn header_pairs(text: &str) -> Vec<(String, String)> {
    let mut lines = text.split('\n');
    let mut pairs = Vec::new();
    if text.is_empty() {
        return pairs;
    }
    while let (Some(name), Some(value)) = (lines.next(), lines.next()) {
        pairs.push((name.to_string(), value.to_string()));
    }
    pairs
}

/// A call's status, headers and body (see `restqlSend`).
type AnsweredFn = dyn FnMut(u32, u16, String, Option<Vec<u8>>);

thread_local! {
    /// Calls sent and not yet taken by their future, by number.
    static CALLS: RefCell<Calls> = RefCell::new(Calls::default());
    /// The two callbacks every call settles through (no closure per call).
    static ON_ANSWERED: Closure<AnsweredFn> = Closure::new(on_answered);
    static ON_FAILED: Closure<dyn FnMut(u32, JsValue)> = Closure::new(on_failed);
}

#[derive(Default)]
struct Calls {
    next: u32,
    pending: FxHashMap<u32, CallState>,
}

enum CallState {
    Waiting(Option<Waker>),
    Settled(Result<Answered, JsValue>),
}

/// What a call's promise chain hands over: `body` is `None` when the declared length is past
/// the limit.
struct Answered {
    status: u16,
    headers: String,
    body: Option<Vec<u8>>,
}

fn on_answered(id: u32, status: u16, headers: String, body: Option<Vec<u8>>) {
    settle(
        id,
        Ok(Answered {
            status,
            headers,
            body,
        }),
    );
}

fn on_failed(id: u32, error: JsValue) {
    settle(id, Err(error));
}

fn settle(id: u32, result: Result<Answered, JsValue>) {
    let waker = CALLS.with(|calls| {
        let mut calls = calls.borrow_mut();
        // A call whose future was dropped (timed out, aborted) is no longer here.
        let state = calls.pending.get_mut(&id)?;
        if !matches!(state, CallState::Waiting(_)) {
            return None;
        }
        match std::mem::replace(state, CallState::Settled(result)) {
            CallState::Waiting(waker) => waker,
            CallState::Settled(_) => None,
        }
    });
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// The future of one call's JS promise chain; dropping it before the chain settled abandons
/// the call (its fetch is aborted).
struct PendingCall {
    id: u32,
}

impl PendingCall {
    fn start() -> PendingCall {
        CALLS.with(|calls| {
            let mut calls = calls.borrow_mut();
            calls.next = calls.next.wrapping_add(1);
            let id = calls.next;
            calls.pending.insert(id, CallState::Waiting(None));
            PendingCall { id }
        })
    }
}

impl Future for PendingCall {
    type Output = Result<Answered, JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        CALLS.with(|calls| {
            let mut calls = calls.borrow_mut();
            match calls.pending.get_mut(&self.id) {
                Some(CallState::Waiting(waker)) => {
                    *waker = Some(cx.waker().clone());
                    Poll::Pending
                }
                Some(CallState::Settled(_)) => match calls.pending.remove(&self.id) {
                    Some(CallState::Settled(result)) => Poll::Ready(result),
                    _ => Poll::Pending,
                },
                // Never: the entry lives as long as this future.
                None => Poll::Ready(Err(JsValue::from_str("call lost"))),
            }
        })
    }
}

impl Drop for PendingCall {
    fn drop(&mut self) {
        let state = CALLS.try_with(|calls| calls.borrow_mut().pending.remove(&self.id));
        if let Ok(Some(CallState::Waiting(_))) = state {
            abandon_request(self.id);
        }
    }
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

/// `Date.now`, and one `setTimeout` for all the sleeps of the module: sleeps wait in a queue
/// by deadline and the timer is set for the earliest. When the last sleep is dropped the timer
/// is unreferenced (kept for the next run) or cleared, so a finished run leaves nothing to
/// keep Node's event loop alive. Windows and idle moments have callbacks of their own
/// (`Deferred`), which leave that timer alone.
struct JsClock;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(timer: &JsValue);
}

thread_local! {
    static ORIGIN: f64 = js_sys::Date::now();
    static TIMERS: RefCell<Timers> = RefCell::new(Timers::default());
    /// The timer's callback, made once.
    static ON_TIMER: Closure<dyn FnMut()> = Closure::new(on_timer);
    /// Batch windows: the end of the current task (`restqlNextTask`).
    static DEFERRED: RefCell<Deferred> = RefCell::new(Deferred::default());
    static ON_DEFERRED: Closure<dyn FnMut()> = Closure::new(|| on_deferred(&DEFERRED));
    /// Batch windows of `microtask`: after the promise reactions already queued.
    static SOON: RefCell<Deferred> = RefCell::new(Deferred::default());
    static ON_SOON: Closure<dyn FnMut()> = Closure::new(|| on_deferred(&SOON));
    /// Runs' idle moments, when they hand out parts: a later task of their own.
    static IDLE: RefCell<Deferred> = RefCell::new(Deferred::default());
    static ON_IDLE: Closure<dyn FnMut()> = Closure::new(|| on_deferred(&IDLE));
}

type DeferredQueue = LocalKey<RefCell<Deferred>>;

/// Futures waiting for a later task: one callback for all of them.
#[derive(Default)]
struct Deferred {
    waiting: Vec<Waker>,
    /// Incremented each time the callback runs.
    round: u64,
    armed: bool,
    /// Arms the callback again once it has run, for a future made after it was armed that
    /// waits for the next one (`LaterTask::armed` with `join` false).
    again: Option<fn()>,
}

fn on_deferred(queue: &'static DeferredQueue) {
    let due = queue.with(|d| {
        let mut d = d.borrow_mut();
        d.round += 1;
        d.armed = false;
        if let Some(arm) = d.again.take() {
            d.armed = true;
            arm();
        }
        std::mem::take(&mut d.waiting)
    });
    due.into_iter().for_each(Waker::wake);
}

/// Ready once its queue's callback has run. It is armed when the future is made, not at its
/// first poll: a batch window opens while the task goes on sending (a full chunk leaves at
/// once), and the message is already on its way when the task ends. An armed callback is never
/// withdrawn: when the futures waiting for it are gone it wakes nothing.
struct LaterTask {
    queue: &'static DeferredQueue,
    /// The round from which it is ready.
    due: u64,
}

impl LaterTask {
    /// With `join`, a callback already armed (in an earlier task) will do; without, only one
    /// armed when the future is made, or after.
    fn armed(queue: &'static DeferredQueue, arm: fn(), join: bool) -> Self {
        queue.with(|d| {
            let mut d = d.borrow_mut();
            let due = if !d.armed {
                d.armed = true;
                arm();
                d.round + 1
            } else if join {
                d.round + 1
            } else {
                d.again = Some(arm);
                d.round + 2
            };
            LaterTask { queue, due }
        })
    }
}

impl Future for LaterTask {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.queue.with(|d| {
            let mut d = d.borrow_mut();
            if d.round >= self.due {
                return Poll::Ready(());
            }
            // A run polls its idle moment each time it is woken: its task is listed once.
            if !d.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                d.waiting.push(cx.waker().clone());
            }
            Poll::Pending
        })
    }
}

fn now_ms() -> u64 {
    // Relative to the first reading and through u32: wasm2js (the React Native build)
    // cannot lower a saturating f64 -> i64 conversion. u32 milliseconds last 49 days.
    ORIGIN.with(|origin| (js_sys::Date::now() - origin).max(0.0) as u32 as u64)
}

const MAX_TIMER_MS: u64 = (1 << 31) - 1;

/// Sleeps waiting, by (deadline, number), and the timer set for the earliest.
#[derive(Default)]
struct Timers {
    waiting: BTreeMap<(u64, u64), Waker>,
    next: u64,
    armed: Option<ArmedTimer>,
}

/// The JS timer: the deadline it is set for, its handle, and whether it holds the event loop.
/// Once nothing waits it is kept unreferenced where the runtime allows (Node), and the next
/// run that needs it no later than it fires takes the reference back instead of setting a
/// new one: a new timer after the network's wait costs 20 µs, the reference 2–3 µs.
struct ArmedTimer {
    at: u64,
    timer: JsValue,
    held: bool,
}

impl Timers {
    /// Makes sure the timer fires by the earliest deadline, and lets go of it (unreferenced
    /// or cleared) when nothing waits. A timer set earlier than needed is kept (it wakes
    /// nothing and is set again): a run whose calls end in turn then sets one timer, not one
    /// per call.
    fn arm(&mut self, now: u64) {
        let Some(&(earliest, _)) = self.waiting.keys().next() else {
            if let Some(armed) = &mut self.armed
                && armed.held
            {
                if release_timer(&armed.timer) {
                    armed.held = false;
                } else {
                    self.armed = None;
                }
            }
            return;
        };
        if let Some(armed) = &mut self.armed
            && armed.at <= earliest
        {
            if !armed.held {
                hold_timer(&armed.timer);
                armed.held = true;
            }
            return;
        }
        if let Some(armed) = self.armed.take() {
            clear_timeout(&armed.timer);
        }
        // Timers take at most 2^31 - 1 ms; a longer delay would fire at once. Firing early
        // only sets the timer again.
        let delay = earliest.saturating_sub(now).min(MAX_TIMER_MS) as f64;
        let timer = ON_TIMER.with(|f| set_timeout(f.as_ref().unchecked_ref(), delay));
        self.armed = Some(ArmedTimer {
            at: earliest,
            timer,
            held: true,
        });
    }
}

/// Wakes the sleeps that are due and sets the timer for the next one.
fn on_timer() {
    let now = now_ms();
    let due: Vec<Waker> = TIMERS.with(|timers| {
        let mut timers = timers.borrow_mut();
        timers.armed = None;
        let later = timers.waiting.split_off(&(now + 1, 0));
        let due = std::mem::replace(&mut timers.waiting, later);
        timers.arm(now);
        due.into_values().collect()
    });
    // Woken outside the borrow: a waker may poll at once and touch the queue.
    due.into_iter().for_each(Waker::wake);
}

/// A sleep until `deadline` (milliseconds on `now_ms`'s scale).
struct Sleep {
    deadline: u64,
    /// The clock when the sleep was made, standing for the clock at its first poll, which
    /// comes at once: a run makes a sleep per item and each `Date.now` crosses into JS.
    made_at: Option<u64>,
    /// Its place in the queue once polled.
    key: Option<(u64, u64)>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Queued already: the timer takes a sleep out of the queue when it is due, so a sleep
        // still queued is not due, and the clock need not be read (a statement's sleep is
        // polled by each of its calls that waits).
        if let Some(key) = self.key {
            let queued = TIMERS.with(|timers| match timers.borrow_mut().waiting.get_mut(&key) {
                Some(waker) => {
                    waker.clone_from(cx.waker());
                    true
                }
                None => false,
            });
            if queued {
                return Poll::Pending;
            }
            self.key = None;
            return Poll::Ready(());
        }
        let now = self.made_at.take().unwrap_or_else(now_ms);
        let deadline = self.deadline;
        if now >= deadline {
            return Poll::Ready(());
        }
        TIMERS.with(|timers| {
            let mut timers = timers.borrow_mut();
            timers.next += 1;
            let key = (deadline, timers.next);
            timers.waiting.insert(key, cx.waker().clone());
            timers.arm(now);
            self.key = Some(key);
        });
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            // The module may be torn down with the thread; then there is nothing to clear.
            let _ = TIMERS.try_with(|timers| {
                let mut timers = timers.borrow_mut();
                timers.waiting.remove(&key);
                // The timer stays set for a deadline that may now be earlier than needed
                // (when it fires it wakes nothing and is set again); only an empty queue
                // lets go of it.
                if timers.waiting.is_empty() {
                    timers.arm(0);
                }
            });
        }
    }
}

impl Clock for JsClock {
    fn now_ms(&self) -> u64 {
        now_ms()
    }

    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
        let now = now_ms();
        Box::pin(Sleep {
            deadline: now.saturating_add(ms),
            made_at: Some(now),
            key: None,
        })
    }

    fn defer(&self) -> LocalBoxFuture<'static, ()> {
        // Every key registered before the task ends is in the window, so a message already
        // on its way will do.
        Box::pin(LaterTask::armed(
            &DEFERRED,
            || ON_DEFERRED.with(|f| next_task(f.as_ref().unchecked_ref())),
            true,
        ))
    }

    fn soon(&self) -> LocalBoxFuture<'static, ()> {
        // As for `defer`: a callback already queued runs after every key registered so far.
        Box::pin(LaterTask::armed(
            &SOON,
            || ON_SOON.with(|f| microtask(f.as_ref().unchecked_ref())),
            true,
        ))
    }

    /// A later task of its own (`restqlLater`), not the sleeps' timer: a run's idle moment
    /// neither clears the statements' timer nor sets it again. Armed at its first poll, which
    /// a run makes after sending what it started, so it comes after that task's socket writes
    /// and window; one another run armed earlier will not do, as it may come before them.
    fn idle(&self) -> LocalBoxFuture<'static, ()> {
        Box::pin(async {
            LaterTask::armed(
                &IDLE,
                || ON_IDLE.with(|f| later(f.as_ref().unchecked_ref(), IDLE_AFTER_MS as f64)),
                false,
            )
            .await
        })
    }
}

#[wasm_bindgen]
extern "C" {
    /// The caller's `AbortSignal`.
    #[derive(Clone)]
    type AbortSignal;
    #[wasm_bindgen(method, getter)]
    fn aborted(this: &AbortSignal) -> bool;
    #[wasm_bindgen(method, getter)]
    fn reason(this: &AbortSignal) -> JsValue;
    #[wasm_bindgen(method, catch, js_name = addEventListener)]
    fn add_event_listener(
        this: &AbortSignal,
        kind: &str,
        listener: &JsValue,
        options: &JsValue,
    ) -> Result<(), JsValue>;
}

/// A future that resolves with the signal's reason once `signal` aborts (at once if it
/// already has); `None` without a signal.
fn abort_of(signal: &JsValue) -> Option<LocalBoxFuture<'static, JsValue>> {
    if signal.is_undefined() || signal.is_null() {
        return None;
    }
    let signal: AbortSignal = signal.clone().unchecked_into();
    let promise = Promise::new(&mut |resolve, _reject| {
        if signal.aborted() {
            let _ = resolve.call1(&JsValue::UNDEFINED, &signal.reason());
            return;
        }
        let target = signal.clone();
        let on_abort = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::UNDEFINED, &target.reason());
        });
        let once = Object::new();
        let _ = Reflect::set(&once, &"once".into(), &JsValue::TRUE);
        let _ = signal.add_event_listener("abort", &on_abort, &once);
    });
    Some(Box::pin(async move {
        JsFuture::from(promise)
            .await
            .unwrap_or_else(|reason| reason)
    }))
}
