//! The wasm edge in real JS engines (wasm-bindgen-test): Node by default, headless Chromium
//! with `WASM_BINDGEN_USE_BROWSER=1`. The exports are called as Rust functions; `fetch` is a
//! JS function, as the package passes it.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Reflect};
use serde_json::Value;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

use restql::wasm::{
    RUN_BODY_TEXT, RUN_TRACE, client_free, client_new, client_run, explain_to_json, parse_to_json,
};

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A fetch written in JS: answers `{id, sidekick: id + 10}` for any `/:id`, with a
/// Cache-Control header, and records each call in `globalThis[log]`.
fn answering_fetch(log: &str) -> Function {
    Function::new_with_args(
        "url, init",
        &format!(
            r#"(globalThis["{log}"] ||= []).push(init.method + " " + url);
               const id = Number(url.split("/").pop());
               const body = new TextEncoder().encode(JSON.stringify({{ id, sidekick: id + 10 }}));
               return Promise.resolve({{
                 status: 200,
                 headers: [["cache-control", "max-age=9"]],
                 arrayBuffer: () => Promise.resolve(body.buffer),
               }});"#
        ),
    )
}

/// A fetch that never answers unless its signal aborts; then it notes `globalThis[flag]`.
fn hanging_fetch(flag: &str) -> Function {
    Function::new_with_args(
        "url, init",
        &format!(
            r#"return new Promise((resolve, reject) => {{
                 init.signal.addEventListener("abort", () => {{
                   globalThis["{flag}"] = true;
                   reject(new DOMException("aborted", "AbortError"));
                 }});
               }});"#
        ),
    )
}

fn global(name: &str) -> JsValue {
    Reflect::get(&js_sys::global(), &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// Runs `query` once on a client of its own and frees the client; what `clientRun` resolves to.
async fn run_once(config: &str, fetch: Function, query: &str, flags: u32) -> JsValue {
    let client = client_new(config, fetch).expect("a client");
    let run = client_run(
        client,
        query.into(),
        None,
        None,
        flags,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    );
    let out = JsFuture::from(run).await.expect("resolves");
    client_free(client);
    out
}

/// `run_once`, its answer read as JSON.
async fn run_to_json(config: &str, fetch: Function, query: &str, flags: u32) -> Value {
    json(
        &run_once(config, fetch, query, flags)
            .await
            .as_string()
            .expect("JSON text"),
    )
}

#[wasm_bindgen_test]
fn parse_returns_the_canonical_json() {
    let text = parse_to_json("from hero as h with id = $id").expect("parses");
    let query = json(&text);
    assert_eq!(query["statements"][0]["alias"], "h");
    assert_eq!(
        query["statements"][0]["with"]["params"][0]["value"]["var"],
        "id"
    );
}

#[wasm_bindgen_test]
fn errors_cross_as_a_report_with_positions() {
    let thrown = parse_to_json("from hero\nfrom villain with id = ,").expect_err("a syntax error");
    let report = json(&thrown.as_string().expect("the report is text"));
    assert_eq!(report["error"]["code"], "syntax");
    assert_eq!(report["error"]["line"], 2);
    assert_eq!(report["error"]["column"], 24);
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(1));
}

#[wasm_bindgen_test]
fn explain_returns_the_plan_with_its_text() {
    let plan = explain_to_json(
        "from hero with id = 1",
        r#"{"mappings": {"hero": "http://h.test/hero/:id"}}"#,
    )
    .expect("plans");
    let plan = json(&plan);
    assert!(
        plan["text"]
            .as_str()
            .is_some_and(|t| t.contains("GET http://h.test/hero/1"))
    );
}

#[wasm_bindgen_test]
async fn a_run_calls_fetch_once_per_distinct_request() {
    let out = run_to_json(
        r#"{"mappings": {"hero": "http://h.test/hero/:id"}}"#,
        answering_fetch("__restql_calls"),
        "from hero with id = [1, 2, 1]\nfrom hero as side with id = hero.sidekick",
        0,
    )
    .await;
    assert_eq!(out["status"], 200);
    assert_eq!(out["headers"]["cache-control"], "max-age=9");
    assert_eq!(
        out["body"]["side"]["result"],
        serde_json::json!([{"id": 11, "sidekick": 21}, {"id": 12, "sidekick": 22}, {"id": 11, "sidekick": 21}])
    );
    assert_eq!(out["stats"]["calls"], 4);
    assert_eq!(out["stats"]["deduped"], 2);
    assert!(out.get("trace").is_none(), "the trace is opt-in");
    let calls: Vec<String> = js_sys::Array::from(&global("__restql_calls"))
        .iter()
        .filter_map(|c| c.as_string())
        .collect();
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert!(calls.contains(&"GET http://h.test/hero/12".to_string()));
}

#[wasm_bindgen_test]
async fn a_run_asked_for_its_trace_lists_every_call() {
    let out = run_to_json(
        r#"{"mappings": {"hero": "http://h.test/hero/:id"}}"#,
        answering_fetch("__restql_traced_calls"),
        "from hero with id = [1, 2, 1]",
        RUN_TRACE,
    )
    .await;
    // By item, in multiplex order: the third item repeats the first.
    let mut entries: Vec<(u64, String, String)> = out["trace"]
        .as_array()
        .expect("a trace")
        .iter()
        .map(|t| {
            let text = |k: &str| t[k].as_str().unwrap_or_default().to_string();
            (
                t["item"].as_u64().unwrap_or(99),
                text("served"),
                text("url"),
            )
        })
        .collect();
    entries.sort();
    let hero = |id: u32| format!("http://h.test/hero/{id}");
    assert_eq!(
        entries,
        [
            (0, "sent".to_string(), hero(1)),
            (1, "sent".to_string(), hero(2)),
            (2, "deduped".to_string(), hero(1)),
        ]
    );
}

#[wasm_bindgen_test]
async fn a_run_asked_for_the_body_as_text_answers_it_apart() {
    let config = r#"{"mappings": {"hero": "http://h.test/hero/:id"}}"#;
    let query = "from hero with id = [1, 2]";
    let whole = run_to_json(config, answering_fetch("__restql_whole"), query, 0).await;
    let parts = run_once(
        config,
        answering_fetch("__restql_parts"),
        query,
        RUN_BODY_TEXT,
    )
    .await;
    let parts = js_sys::Array::from(&parts);
    assert_eq!(parts.length(), 2);
    let rest = json(&parts.get(0).as_string().expect("the rest as text"));
    let body = json(&parts.get(1).as_string().expect("the body as text"));
    assert!(rest.get("body").is_none(), "the body is not written twice");
    assert_eq!(rest["status"], whole["status"]);
    assert_eq!(rest["stats"]["calls"], 2);
    // The text is restQL's body; the whole run's body has its details compact, for the
    // package's JS to make.
    assert_eq!(body["hero"]["result"], whole["body"]["hero"]["result"]);
    assert_eq!(
        whole["body"]["hero"]["details"],
        serde_json::json!([200, 200])
    );
    let detail = serde_json::json!({"status": 200, "success": true, "metadata": {}});
    assert_eq!(body["hero"]["details"], serde_json::json!([detail, detail]));
}

#[wasm_bindgen_test]
async fn a_statement_timeout_answers_408_and_aborts_the_fetch() {
    let out = run_to_json(
        r#"{"mappings": {"slow": "http://s.test/slow/:id"}, "timeoutMs": 30}"#,
        hanging_fetch("__restql_timeout_aborted"),
        "from slow with id = 1",
        0,
    )
    .await;
    assert_eq!(out["status"], 408);
    assert_eq!(
        out["body"]["slow"]["details"], 408,
        "a compact detail: the status"
    );
    assert_eq!(global("__restql_timeout_aborted"), JsValue::TRUE);
}

/// A fetch that looks at `init.signal` only 60 ms after it was called, notes in
/// `globalThis[flag]` whether it was aborted by then, and never answers.
fn late_reading_fetch(flag: &str) -> Function {
    Function::new_with_args(
        "url, init",
        &format!(
            r#"return new Promise(() => {{
                 setTimeout(() => {{ globalThis["{flag}"] = init.signal.aborted; }}, 60);
               }});"#
        ),
    )
}

#[wasm_bindgen_test]
async fn a_signal_read_after_the_call_timed_out_comes_aborted() {
    let out = run_to_json(
        r#"{"mappings": {"slow": "http://s.test/slow/:id"}, "timeoutMs": 20}"#,
        late_reading_fetch("__restql_late_signal_aborted"),
        "from slow with id = 1",
        0,
    )
    .await;
    assert_eq!(out["status"], 408);
    let wait = Function::new_no_args("return new Promise((resolve) => setTimeout(resolve, 100))")
        .call0(&JsValue::UNDEFINED)
        .expect("a promise");
    JsFuture::from(js_sys::Promise::from(wait))
        .await
        .expect("waits");
    assert_eq!(global("__restql_late_signal_aborted"), JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn an_aborted_signal_rejects_the_run_and_aborts_its_calls() {
    let client = client_new(
        r#"{"mappings": {"slow": "http://s.test/slow/:id"}}"#,
        hanging_fetch("__restql_signal_aborted"),
    )
    .expect("a client");
    let controller = Function::new_no_args("return new AbortController()")
        .call0(&JsValue::UNDEFINED)
        .expect("an AbortController");
    let signal = Reflect::get(&controller, &"signal".into()).expect("its signal");
    let run = client_run(
        client,
        "from slow with id = 2".into(),
        None,
        None,
        0,
        signal,
        JsValue::UNDEFINED,
    );
    // Abort once the call is on the wire (a signal aborted before the run starts sends nothing).
    let wait = Function::new_no_args("return new Promise((resolve) => setTimeout(resolve, 20))")
        .call0(&JsValue::UNDEFINED)
        .expect("a promise");
    JsFuture::from(js_sys::Promise::from(wait))
        .await
        .expect("waits");
    let abort: Function = Reflect::get(&controller, &"abort".into())
        .expect("abort")
        .into();
    abort.call0(&controller).expect("aborts");
    let reason = JsFuture::from(run).await.expect_err("rejects");
    client_free(client);
    assert_eq!(
        Reflect::get(&reason, &"name".into())
            .ok()
            .and_then(|n| n.as_string()),
        Some("AbortError".to_string())
    );
    assert_eq!(global("__restql_signal_aborted"), JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn a_client_reuses_parsed_queries_by_text_and_never_caches_errors() {
    let client = client_new(
        r#"{"mappings": {"hero": "http://h.test/hero/:id"}}"#,
        answering_fetch("__restql_cache_calls"),
    )
    .expect("a client");
    let run = |text: &str| {
        JsFuture::from(client_run(
            client,
            text.into(),
            None,
            None,
            0,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
        ))
    };
    for (text, id) in [
        ("from hero with id = 1", 1),
        ("from hero with id = 2", 2),
        ("from hero with id = 1", 1),
    ] {
        let out = json(
            &run(text)
                .await
                .expect("resolves")
                .as_string()
                .expect("text"),
        );
        assert_eq!(out["body"]["hero"]["result"]["id"], id, "{text}");
    }
    for _ in 0..2 {
        let out = json(
            &run("from hero with")
                .await
                .expect("resolves")
                .as_string()
                .expect("text"),
        );
        assert_eq!(out["error"]["code"], "syntax");
        assert_eq!(out["status"], 400);
    }
    client_free(client);
}

#[wasm_bindgen_test]
async fn a_statement_part_goes_to_on_statement_while_the_run_waits_and_the_body_holds_0() {
    // `hero` answers at once, `slow` 50 ms later.
    let fetch = Function::new_with_args(
        "url, init",
        r#"const slow = url.includes("/slow/");
           const body = new TextEncoder().encode(JSON.stringify({ slow }));
           const answer = { status: 200, headers: [], arrayBuffer: () => Promise.resolve(body.buffer) };
           return new Promise((resolve) => setTimeout(resolve, slow ? 50 : 0, answer));"#,
    );
    let client = client_new(
        r#"{"mappings": {"hero": "http://h.test/hero/:id", "slow": "http://h.test/slow/:id"}}"#,
        fetch,
    )
    .expect("a client");
    let on_statement = Function::new_with_args(
        "name, text",
        r#"(globalThis.__restql_parts ||= []).push([name, text]);"#,
    );
    let run = client_run(
        client,
        "from hero with id = 1\nfrom slow with id = 2".into(),
        None,
        None,
        0,
        JsValue::UNDEFINED,
        on_statement.into(),
    );
    let out = json(
        &JsFuture::from(run)
            .await
            .expect("resolves")
            .as_string()
            .expect("text"),
    );
    client_free(client);
    let parts: Vec<(String, String)> = parts_of(&global("__restql_parts")).unwrap_or_default();
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert_eq!(parts[0].0, "hero");
    assert_eq!(
        json(&parts[0].1),
        serde_json::json!({"details": 200, "result": {"slow": false}})
    );
    assert_eq!(out["body"]["hero"], 0, "{out}");
    assert_eq!(out["body"]["slow"]["result"]["slow"], true);
}

/// `[[name, text], ...]` from JS.
fn parts_of(list: &JsValue) -> Option<Vec<(String, String)>> {
    let list: &js_sys::Array = wasm_bindgen::JsCast::dyn_ref(list)?;
    list.iter()
        .map(|pair| {
            let pair: &js_sys::Array = wasm_bindgen::JsCast::dyn_ref(&pair)?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}
