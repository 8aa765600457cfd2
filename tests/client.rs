//! A client's shared state across concurrent runs, over the fake transport and the virtual
//! clock: calls on the wire are joined, batch windows collect keys of several queries, a call is
//! aborted only when its last requester has gone, and the cache follows Cache-Control.

use std::rc::Rc;

use futures::future::{Either, join, select};
use restql::testing::{FakeTransport, Reply, VirtualClock};
use restql::{
    CacheConfig, Client, ClientConfig, Clock, Inputs, Mappings, Options, Outcome, Request,
};
use serde_json::{Value as Json, json};

fn query_ids(url: &str) -> Vec<u64> {
    url.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter_map(|p| p.strip_prefix("id="))
        .filter_map(|v| v.parse().ok())
        .collect()
}

/// Products by id (single and batch), 20 ms each, with the Cache-Control of `cache`.
fn upstream(cache: Option<&'static str>) -> impl Fn(&Request) -> Reply {
    move |r: &Request| {
        let url = r.url.as_str();
        let mut reply = if let Some(id) = url.strip_prefix("http://u/product/") {
            match id {
                "500" => Reply::json(500, json!({"error": "boom"})),
                _ => Reply::json(200, json!({"id": id.parse::<u64>().unwrap_or(0)})),
            }
        } else {
            let items: Vec<Json> = query_ids(url)
                .into_iter()
                .map(|id| json!({"id": id}))
                .collect();
            Reply::json(200, Json::Array(items))
        };
        if let Some(cc) = cache {
            reply = reply.header("Cache-Control", cc);
        }
        reply.after(20)
    }
}

fn mappings(window: Json) -> Mappings {
    mappings_with(json!({"window": window}))
}

/// `batch`: the product batch's fields besides its key and request.
fn mappings_with(batch: Json) -> Mappings {
    let mut spec = json!({"on": "id", "request": "GET http://u/products"});
    if let (Some(spec), Some(batch)) = (spec.as_object_mut(), batch.as_object()) {
        spec.extend(batch.clone());
    }
    Mappings::from_json_value(&json!({
        "single": "http://u/product/:id",
        "product": {"url": "http://u/product/:id", "batch": spec},
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

struct Setup {
    clock: VirtualClock,
    transport: Rc<FakeTransport>,
    client: Client,
}

fn setup(window: Json, cache: Option<CacheConfig>, cache_control: Option<&'static str>) -> Setup {
    setup_with(window, cache, cache_control, Options::default())
}

fn setup_with(
    window: Json,
    cache: Option<CacheConfig>,
    cache_control: Option<&'static str>,
    options: Options,
) -> Setup {
    setup_mapped(mappings(window), cache, cache_control, options)
}

/// A client without a cache whose product batch has the fields of `batch`.
fn setup_batch(batch: Json) -> Setup {
    setup_mapped(mappings_with(batch), None, None, Options::default())
}

fn setup_mapped(
    mappings: Mappings,
    cache: Option<CacheConfig>,
    cache_control: Option<&'static str>,
    options: Options,
) -> Setup {
    let clock = VirtualClock::new();
    let transport = Rc::new(FakeTransport::new(&clock, upstream(cache_control)));
    let client = Client::new(
        transport.clone(),
        Rc::new(clock.clone()),
        mappings,
        options,
        ClientConfig { cache },
    );
    Setup {
        clock,
        transport,
        client,
    }
}

impl Setup {
    fn run(&self, query: &str) -> Outcome {
        self.clock
            .run(self.client.run_text(query, &Inputs::default()))
            .unwrap_or_else(|| panic!("the run never ended"))
    }

    fn both(&self, a: &str, b: &str) -> (Outcome, Outcome) {
        let inputs = Inputs::default();
        self.clock
            .run(join(
                self.client.run_text(a, &inputs),
                self.client.run_text(b, &inputs),
            ))
            .unwrap_or_else(|| panic!("the runs never ended"))
    }

    /// `b` starts `delay` ms after `a`.
    fn staggered(&self, a: &str, b: &str, delay: u64) -> (Outcome, Outcome) {
        let inputs = Inputs::default();
        let later = async {
            self.clock.sleep(delay).await;
            self.client.run_text(b, &inputs).await
        };
        self.clock
            .run(join(self.client.run_text(a, &inputs), later))
            .unwrap_or_else(|| panic!("the runs never ended"))
    }

    fn lines(&self) -> Vec<String> {
        self.transport.lines()
    }
}

fn served(o: &Outcome) -> Vec<&'static str> {
    o.trace.iter().map(|t| t.served.as_str()).collect()
}

#[test]
fn concurrent_runs_join_a_call_on_the_wire() {
    let s = setup(json!("task"), None, None);
    let (a, b) = s.both("from single with id = 1", "from single with id = 1");
    assert_eq!(s.lines(), vec!["GET http://u/product/1"]);
    assert_eq!((a.stats.calls, a.stats.deduped), (1, 0));
    assert_eq!((b.stats.calls, b.stats.deduped), (0, 1));
    assert_eq!((served(&a), served(&b)), (vec!["sent"], vec!["joined"]));
    assert_eq!(b.body.to_json()["single"]["result"], json!({"id": 1}));
    // A call that has ended is not joined: without a cache the next run calls again.
    s.run("from single with id = 1");
    assert_eq!(s.lines().len(), 2);
    assert_eq!(
        s.client.totals(),
        restql::ClientTotals {
            calls: 2,
            joined: 1,
            batched: 0,
            cache_hits: 0
        }
    );
}

#[test]
fn concurrent_runs_share_a_batch_window() {
    // A `microtask` window holds the keys of runs started together too (the virtual clock has
    // no promise reactions: only the JS tests tell it from `task`).
    for window in ["task", "microtask"] {
        let s = setup(json!(window), None, None);
        let (a, b) = s.both(
            "from product with id = [1, 2]",
            "from product with id = [2, 3]",
        );
        assert_eq!(s.lines(), vec!["GET http://u/products?id=1&id=2&id=3"]);
        assert_eq!((a.stats.calls, a.stats.batched), (1, 2));
        assert_eq!((b.stats.calls, b.stats.batched), (0, 2));
        assert_eq!(
            b.body.to_json()["product"]["result"],
            json!([{"id": 2}, {"id": 3}])
        );
        assert_eq!(
            b.trace[0].batch.as_deref(),
            Some("GET http://u/products?id=1&id=2&id=3")
        );
    }
}

#[test]
fn a_window_in_milliseconds_collects_keys_of_runs_started_within_it() {
    let s = setup(json!(10), None, None);
    let (a, b) = s.staggered(
        "from product with id = [1]",
        "from product with id = [2]",
        5,
    );
    assert_eq!(s.lines(), vec!["GET http://u/products?id=1&id=2"]);
    assert_eq!(s.transport.calls()[0].at_ms, 10);
    assert_eq!(a.stats.duration_ms, 30);
    assert_eq!(b.body.to_json()["product"]["result"], json!([{"id": 2}]));
}

#[test]
fn a_full_chunk_goes_out_at_once_and_the_window_collects_the_rest() {
    let s = setup_batch(json!({"window": 10, "max": 2}));
    let (a, b) = s.staggered(
        "from product with id = [1, 2, 3]",
        "from product with id = [2, 4]",
        5,
    );
    let sent: Vec<(String, u64)> = s
        .transport
        .calls()
        .iter()
        .map(|c| (c.line(), c.at_ms))
        .collect();
    assert_eq!(
        sent,
        vec![
            ("GET http://u/products?id=1&id=2".to_string(), 0),
            ("GET http://u/products?id=3&id=4".to_string(), 5),
        ],
        "1 and 2 fill a chunk; 3 waits in the window until the other run's 4 fills the next"
    );
    assert_eq!(a.stats.duration_ms, 25);
    assert_eq!(
        b.body.to_json()["product"]["result"],
        json!([{"id": 2}, {"id": 4}])
    );
    let mut b_served = served(&b);
    b_served.sort();
    assert_eq!(
        b_served,
        vec!["batched", "joined"],
        "2 joins the full chunk on the wire"
    );
}

#[test]
fn keys_short_of_a_full_chunk_wait_for_the_window() {
    let s = setup_batch(json!({"window": 10, "max": 2}));
    let (_, b) = s.staggered(
        "from product with id = [1, 2, 3]",
        "from product with id = [2]",
        5,
    );
    let at: Vec<u64> = s.transport.calls().iter().map(|c| c.at_ms).collect();
    assert_eq!(
        s.lines(),
        vec![
            "GET http://u/products?id=1&id=2",
            "GET http://u/products?id=3"
        ]
    );
    assert_eq!(at, vec![0, 10]);
    assert_eq!(served(&b), vec!["joined"]);
}

#[test]
fn a_chunk_cut_by_the_url_limit_waits_for_the_window() {
    // Two keys reach `max`, but not within the URL limit: the window decides the chunks.
    let s = setup_batch(json!({"window": 10, "max": 2, "max-url": 64}));
    let long = "k".repeat(20);
    s.run(&format!(r#"from product with id = ["{long}1", "{long}2"]"#));
    let at: Vec<u64> = s.transport.calls().iter().map(|c| c.at_ms).collect();
    assert_eq!(at, vec![10, 10]);
}

#[test]
fn without_a_window_each_run_sends_its_own_batch_and_joins_keys_on_the_wire() {
    let s = setup(json!("off"), None, None);
    let (a, b) = s.both(
        "from product with id = [1, 2]",
        "from product with id = [2, 3]",
    );
    assert_eq!(
        s.lines(),
        vec![
            "GET http://u/products?id=1&id=2",
            "GET http://u/products?id=3"
        ]
    );
    assert_eq!(served(&a), vec!["batched", "batched"]);
    let mut b_served = served(&b);
    b_served.sort();
    assert_eq!(b_served, vec!["batched", "joined"]);
    assert_eq!((b.stats.calls, b.stats.deduped, b.stats.batched), (1, 1, 1));
}

#[test]
fn keys_already_in_a_chunk_on_the_wire_join_it_and_only_the_rest_is_sent() {
    let s = setup(json!("task"), None, None);
    let (_, b) = s.staggered(
        "from product with id = [1, 2]",
        "from product with id = [2, 3]",
        5,
    );
    assert_eq!(
        s.lines(),
        vec![
            "GET http://u/products?id=1&id=2",
            "GET http://u/products?id=3"
        ]
    );
    assert_eq!(s.transport.calls()[1].at_ms, 5);
    assert_eq!(
        b.body.to_json()["product"]["result"],
        json!([{"id": 2}, {"id": 3}])
    );
    let joined = b.trace.iter().find(|t| t.served.as_str() == "joined");
    assert!(
        joined.is_some_and(|t| t.end_ms == 15 && t.served.chunk() == Some(0)),
        "{:?}",
        b.trace
    );
}

#[test]
fn a_dropped_run_leaves_the_call_to_the_others_and_the_last_one_aborts_it() {
    let s = setup(json!("task"), None, None);
    let inputs = Inputs::default();
    // a is dropped at 10 ms; b still waits, so the call goes on.
    let a = async {
        let run = std::pin::pin!(s.client.run_text("from single with id = 1", &inputs));
        match select(run, s.clock.sleep(10)).await {
            Either::Left(_) => "finished",
            Either::Right(_) => "dropped",
        }
    };
    let b = s.client.run_text("from single with id = 1", &inputs);
    let (a, b) = s.clock.run(join(a, b)).unwrap_or_else(|| panic!("hang"));
    assert_eq!(a, "dropped");
    assert_eq!(b.status, 200);
    assert_eq!(s.lines(), vec!["GET http://u/product/1"]);
    assert!(s.transport.aborted().is_empty());

    // Both gone: the call is aborted.
    let gone = async {
        let both = join(
            s.client.run_text("from single with id = 2", &inputs),
            s.client.run_text("from single with id = 2", &inputs),
        );
        let both = std::pin::pin!(both);
        matches!(select(both, s.clock.sleep(10)).await, Either::Right(_))
    };
    assert_eq!(s.clock.run(gone), Some(true));
    assert_eq!(s.transport.aborted(), vec!["GET http://u/product/2"]);
}

#[test]
fn a_batch_chunk_is_aborted_only_when_every_key_has_lost_its_requesters() {
    let s = setup(json!("task"), None, None);
    let inputs = Inputs::default();
    let dropped_at_10 = |q: &'static str| {
        let client = &s.client;
        let clock = &s.clock;
        let inputs = &inputs;
        async move {
            let run = std::pin::pin!(client.run_text(q, inputs));
            matches!(select(run, clock.sleep(10)).await, Either::Right(_))
        }
    };
    let kept = s.client.run_text("from product with id = [2]", &inputs);
    let (dropped, kept) = s
        .clock
        .run(join(dropped_at_10("from product with id = [1, 2]"), kept))
        .unwrap_or_else(|| panic!("hang"));
    assert!(dropped);
    assert_eq!(kept.body.to_json()["product"]["result"], json!([{"id": 2}]));
    assert!(s.transport.aborted().is_empty());

    assert_eq!(
        s.clock.run(dropped_at_10("from product with id = [7, 8]")),
        Some(true)
    );
    assert_eq!(
        s.transport.aborted(),
        vec!["GET http://u/products?id=7&id=8"]
    );
}

#[test]
fn each_requester_keeps_its_own_timeout() {
    let s = setup(json!("task"), None, None);
    let (a, b) = s.both(
        "from single timeout 10 with id = 1",
        "from single with id = 1",
    );
    assert_eq!(a.status, 408);
    assert_eq!(a.trace[0].failure, Some("timeout"));
    assert_eq!(b.status, 200);
    assert_eq!(s.lines().len(), 1);
    assert!(s.transport.aborted().is_empty());
}

fn cache(shared: bool) -> Option<CacheConfig> {
    Some(CacheConfig {
        shared,
        ..CacheConfig::default()
    })
}

#[test]
fn the_cache_serves_fresh_answers_until_max_age_passes() {
    let s = setup(json!("task"), cache(false), Some("max-age=10"));
    s.run("from single with id = 1");
    let hit = s.run("from single with id = 1");
    assert_eq!((hit.stats.calls, hit.stats.cache_hits), (0, 1));
    assert_eq!(served(&hit), vec!["cached"]);
    assert_eq!(hit.body.to_json()["single"]["result"], json!({"id": 1}));
    assert_eq!(hit.cache_control.as_deref(), Some("max-age=10"));
    let explained = s
        .client
        .explain("from single with id = 1", &Inputs::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(explained["live"][0]["state"], json!("cached"));
    s.clock.run(s.clock.sleep(10_000));
    let expired = s.run("from single with id = 1");
    assert_eq!((expired.stats.calls, expired.stats.cache_hits), (1, 0));
    assert_eq!(s.lines().len(), 2);
}

#[test]
fn without_the_trace_runs_share_windows_calls_on_the_wire_and_the_cache_alike() {
    let steps = |s: &Setup| {
        let (a, b) = s.both(
            "from product with id = [1, 2, 1]",
            "from product with id = [2, \"3\"]\nfrom single as again with id = [2, 5]",
        );
        let (c, d) = s.staggered(
            "from product with id = [3, 4, 6]",
            "from product with id = [4, 7]",
            5,
        );
        let explained = s
            .client
            .explain("from product with id = [6, 8, 6]", &Inputs::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut outcomes = [a, b, c, d];
        for o in &mut outcomes {
            o.trace.clear();
        }
        (outcomes, explained, s.lines(), s.client.totals())
    };
    let traced = setup(json!(10), cache(false), Some("max-age=60"));
    let untraced = setup_with(
        json!(10),
        cache(false),
        Some("max-age=60"),
        Options {
            trace: false,
            ..Options::default()
        },
    );
    let (traced, untraced) = (steps(&traced), steps(&untraced));
    assert_eq!(untraced, traced);
    assert_eq!(
        traced.1["live"],
        json!([
            {"statement": "product", "item": 0, "url": "http://u/product/6", "key": 6, "state": "cached"},
            {"statement": "product", "item": 2, "url": "http://u/product/6", "key": 6, "state": "cached"}
        ])
    );
}

#[test]
fn batch_items_are_cached_one_by_one() {
    let s = setup(json!("task"), cache(false), Some("max-age=60"));
    s.run("from product with id = [1, 2]");
    let o = s.run("from product with id = [2, 3]");
    assert_eq!(
        s.lines(),
        vec![
            "GET http://u/products?id=1&id=2",
            "GET http://u/products?id=3"
        ]
    );
    assert_eq!(
        (o.stats.calls, o.stats.cache_hits, o.stats.batched),
        (1, 1, 1)
    );
    assert_eq!(
        o.body.to_json()["product"]["result"],
        json!([{"id": 2}, {"id": 3}])
    );
    let explained = s
        .client
        .explain("from product with id = [3, 4]", &Inputs::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        explained["live"],
        json!([{"statement": "product", "item": 0, "url": "http://u/product/3", "key": 3, "state": "cached"}])
    );
}

#[test]
fn no_store_no_cache_and_errors_are_never_stored() {
    for cc in ["no-store", "no-cache, max-age=60", "max-age=0"] {
        let s = setup(
            json!("task"),
            cache(false),
            Some(Box::leak(cc.to_string().into_boxed_str())),
        );
        s.run("from single with id = 1");
        s.run("from single with id = 1");
        assert_eq!(s.lines().len(), 2, "{cc}");
    }
    let s = setup(json!("task"), cache(false), Some("max-age=60"));
    s.run("from single with id = 500");
    let again = s.run("from single with id = 500");
    assert_eq!((again.stats.calls, again.stats.cache_hits), (1, 0));
}

#[test]
fn private_answers_stay_out_of_a_shared_cache() {
    let private = setup(json!("task"), cache(false), Some("private, max-age=60"));
    private.run("from single with id = 1");
    private.run("from single with id = 1");
    assert_eq!(private.lines().len(), 1);
    let shared = setup(json!("task"), cache(true), Some("private, max-age=60"));
    shared.run("from single with id = 1");
    shared.run("from single with id = 1");
    assert_eq!(shared.lines().len(), 2);
    // A shared cache takes s-maxage over max-age.
    let edge = setup(json!("task"), cache(true), Some("max-age=60, s-maxage=1"));
    edge.run("from single with id = 1");
    edge.clock.run(edge.clock.sleep(1_000));
    edge.run("from single with id = 1");
    assert_eq!(edge.lines().len(), 2);
}

#[test]
fn the_cache_is_bounded_by_entries_and_bytes() {
    let small = Some(CacheConfig {
        max_entries: 1,
        ..CacheConfig::default()
    });
    let s = setup(json!("task"), small, Some("max-age=60"));
    for id in [1, 2, 1] {
        s.run(&format!("from single with id = {id}"));
    }
    assert_eq!(s.lines().len(), 3);
    let tiny = Some(CacheConfig {
        max_bytes: 10,
        ..CacheConfig::default()
    });
    let s = setup(json!("task"), tiny, Some("max-age=60"));
    s.run("from single with id = 1");
    s.run("from single with id = 1");
    assert_eq!(s.lines().len(), 2);
}

#[test]
fn different_credentials_never_share_calls_or_cache_entries() {
    let s = setup(json!("task"), cache(false), Some("max-age=60"));
    let (a, b) = s.both(
        "from product headers Authorization = \"alice\" with id = [1]",
        "from product headers Authorization = \"bob\" with id = [1]",
    );
    assert_eq!(s.lines().len(), 2);
    assert_eq!((a.stats.calls, b.stats.calls), (1, 1));
    let again = s.run("from product headers Authorization = \"carol\" with id = [1]");
    assert_eq!(again.stats.cache_hits, 0);
    let alice = s.run("from product headers Authorization = \"alice\" with id = [1]");
    assert_eq!(alice.stats.cache_hits, 1);
}

#[test]
fn a_client_keeps_the_plan_of_a_query_it_ran() {
    let s = setup(json!("task"), None, None);
    let inputs = Inputs::default();
    let options = Options::default();
    let text = "from single with id = $id";
    let with_id = |id: u64| Inputs {
        variables: json!({ "id": id }).as_object().cloned().unwrap_or_default(),
        headers: Vec::new(),
    };
    let first = s.client.prepare(text, &with_id(1), &options);
    let again = s.client.prepare(text, &with_id(1), &options);
    let (Ok(first), Ok(again)) = (first, again) else {
        panic!("the query did not plan");
    };
    assert!(
        Rc::ptr_eq(&first, &again),
        "the same text and inputs share a plan"
    );
    // Other inputs or options get a plan of their own, with their own calls.
    let other = s
        .client
        .prepare(text, &with_id(2), &options)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!Rc::ptr_eq(&first, &other));
    let traced = Options {
        trace: false,
        ..Options::default()
    };
    let untraced = s
        .client
        .prepare(text, &with_id(1), &traced)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!Rc::ptr_eq(&first, &untraced));
    for (prepared, id) in [(&first, 1), (&other, 2), (&first, 1)] {
        let outcome = s
            .clock
            .run(s.client.run_prepared(prepared, None))
            .unwrap_or_else(|| panic!("the run never ended"));
        assert_eq!(
            outcome.body.to_json()["single"]["result"],
            json!({ "id": id })
        );
    }
    assert_eq!(
        s.lines(),
        vec![
            "GET http://u/product/1",
            "GET http://u/product/2",
            "GET http://u/product/1"
        ]
    );
    // A query that does not plan is not kept: its error comes each time.
    for _ in 0..2 {
        let error = s
            .client
            .prepare("from nowhere with id = 1", &inputs, &options)
            .err()
            .map(|e| e.0[0].code.as_str());
        assert_eq!(error, Some("unknown-resource"));
    }
}

#[test]
fn a_kept_plan_with_chained_calls_runs_again_from_fresh_answers() {
    // The single resource answers with another `next` each time: the kept plan's chained
    // statement must follow this run's answer, not the one its plan was made with.
    let clock = VirtualClock::new();
    let answered = std::cell::Cell::new(0);
    let transport = Rc::new(FakeTransport::new(&clock, move |r: &Request| {
        if r.url.starts_with("http://u/product/") {
            answered.set(answered.get() + 1);
            return Reply::json(200, json!({"next": 10 + answered.get()})).after(20);
        }
        let items: Vec<Json> = query_ids(&r.url)
            .into_iter()
            .map(|id| json!({"id": id}))
            .collect();
        Reply::json(200, Json::Array(items)).after(20)
    }));
    let client = Client::new(
        transport.clone(),
        Rc::new(clock.clone()),
        mappings(json!("task")),
        Options::default(),
        ClientConfig::default(),
    );
    let text = "from single with id = 1\nfrom product with id = single.next";
    let run = || {
        clock
            .run(client.run_text(text, &Inputs::default()))
            .unwrap_or_else(|| panic!("the run never ended"))
    };
    let (first, second) = (run(), run());
    assert_eq!(first.body.to_json()["product"]["result"], json!({"id": 11}));
    assert_eq!(
        second.body.to_json()["product"]["result"],
        json!({"id": 12})
    );
    assert_eq!(
        transport.lines(),
        vec![
            "GET http://u/product/1",
            "GET http://u/products?id=11",
            "GET http://u/product/1",
            "GET http://u/products?id=12",
        ]
    );
}

#[test]
fn concurrent_runs_of_one_kept_plan_share_its_batch_and_each_get_their_answers() {
    let s = setup(json!("task"), None, None);
    let text = "from product with id = [1, 2]\nfrom single with id = 3";
    let (a, b) = s.both(text, text);
    let mut lines = s.lines();
    lines.sort();
    assert_eq!(
        lines,
        vec!["GET http://u/product/3", "GET http://u/products?id=1&id=2"]
    );
    for outcome in [&a, &b] {
        assert_eq!(outcome.status, 200);
        let body = outcome.body.to_json();
        assert_eq!(body["product"]["result"], json!([{"id": 1}, {"id": 2}]));
        assert_eq!(body["single"]["result"], json!({"id": 3}));
    }
}

#[test]
fn kept_plans_hold_a_bounded_number_of_calls() {
    let s = setup(json!("task"), None, None);
    let options = Options {
        max_calls: 10_000,
        ..Options::default()
    };
    let ids = |from: u64, n: u64| Inputs {
        variables: json!({ "ids": (from..from + n).collect::<Vec<_>>() })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        headers: Vec::new(),
    };
    let text = "from single with id = $ids";
    let prepare = |inputs: &Inputs| {
        s.client
            .prepare(text, inputs, &options)
            .unwrap_or_else(|e| panic!("{e:?}"))
    };
    // A fan-out of 5,000 calls built at plan time is planned each run, not kept.
    let huge = ids(0, 5000);
    assert!(!Rc::ptr_eq(&prepare(&huge), &prepare(&huge)));
    // Two of 3,000 do not fit together: keeping the second lets go of the first.
    let (a, b) = (ids(0, 3000), ids(10_000, 3000));
    let first_a = prepare(&a);
    assert!(Rc::ptr_eq(&first_a, &prepare(&a)), "3,000 calls are kept");
    let first_b = prepare(&b);
    assert!(Rc::ptr_eq(&first_b, &prepare(&b)));
    assert!(!Rc::ptr_eq(&first_a, &prepare(&a)), "a was let go for b");
}
