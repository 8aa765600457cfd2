//! Batch endpoints over the fake transport and the virtual clock: exact call counts, how keys
//! are encoded and chunked, how answers are split back per item, what missing keys and failed
//! chunks give, and that details stay aligned with the multiplexed input.

use restql::testing::{FakeTransport, RecordedCall, Reply, VirtualClock};
use restql::{Inputs, Mappings, Options, Outcome, Request, TransportError};
use serde_json::{Value as Json, json};

/// The values of `name` in a URL's query string (`id=1&id=2`, `id=1,2`), decoded simply.
fn query_values(url: &str, name: &str) -> Vec<String> {
    let Some((_, query)) = url.split_once('?') else {
        return Vec::new();
    };
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(k, _)| *k == name)
        .flat_map(|(_, v)| v.split(',').map(|s| s.replace("%20", " ")))
        .collect()
}

/// A products service: `GET http://u/products?id=..` answers the known ids, in reverse order;
/// `GET http://u/product/:id` answers one.
fn products(request: &Request) -> Reply {
    let url = request.url.as_str();
    if let Some(id) = url.strip_prefix("http://u/product/") {
        return Reply::json(
            200,
            json!({"id": id.parse::<u64>().unwrap_or(0), "name": format!("p{id}")}),
        );
    }
    if url.starts_with("http://u/products") {
        let mut items: Vec<Json> = query_values(url, "id")
            .into_iter()
            .filter_map(|id| id.parse::<u64>().ok())
            .filter(|id| *id < 100)
            .map(|id| json!({"id": id, "name": format!("p{id}")}))
            .collect();
        items.reverse();
        return Reply::json(200, Json::Array(items));
    }
    Reply::json(404, json!({"error": "no route"}))
}

fn mappings(batch: Json) -> Mappings {
    let mut product = json!({"url": "http://u/product/:id"});
    product["batch"] = batch;
    Mappings::from_json_value(&json!({
        "product": product,
        "search": "http://u/search?:q",
        "single": "http://u/product/:id",
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn default_batch() -> Json {
    json!({"on": "id", "request": "GET http://u/products"})
}

fn run_with(
    mappings: &Mappings,
    query: &str,
    inputs: &Inputs,
    handler: impl Fn(&Request) -> Reply + 'static,
) -> (Outcome, Vec<RecordedCall>) {
    let handler = std::rc::Rc::new(handler);
    let run_once = |options: &Options| {
        let clock = ReadsCounted::default();
        let handler = std::rc::Rc::clone(&handler);
        let transport = FakeTransport::new(&clock.clock, move |r: &Request| handler(r));
        let outcome = clock
            .clock
            .run(restql::run(
                query, mappings, inputs, options, &transport, &clock,
            ))
            .unwrap_or_else(|| panic!("the run never ended"));
        ((outcome, transport.calls()), clock.reads.get())
    };
    let ((outcome, calls), _) = run_once(&Options::default());
    // Without the trace (batched items planned without their own URL, fewer clock reads)
    // the run makes the same calls at the same times and answers the same, with no trace,
    // and reads the clock only for its duration.
    let (untraced, reads) = run_once(&Options {
        trace: false,
        ..Options::default()
    });
    assert_eq!(
        untraced,
        (
            Outcome {
                trace: Vec::new(),
                ..outcome.clone()
            },
            calls.clone()
        ),
        "the same run without the trace: {query}"
    );
    assert_eq!(reads, 2, "clock reads without the trace: {query}");
    (outcome, calls)
}

/// A virtual clock that counts how often the time is read.
#[derive(Default)]
struct ReadsCounted {
    clock: VirtualClock,
    reads: std::cell::Cell<usize>,
}

impl restql::Clock for ReadsCounted {
    fn now_ms(&self) -> u64 {
        self.reads.set(self.reads.get() + 1);
        self.clock.now_ms()
    }
    fn sleep(&self, ms: u64) -> futures::future::LocalBoxFuture<'static, ()> {
        self.clock.sleep(ms)
    }
    fn defer(&self) -> futures::future::LocalBoxFuture<'static, ()> {
        self.clock.defer()
    }
}

fn run(batch: Json, query: &str) -> (Outcome, Vec<String>) {
    let (o, calls) = run_with(&mappings(batch), query, &Inputs::default(), products);
    (o, calls.iter().map(RecordedCall::line).collect())
}

fn statuses(o: &Outcome, id: &str) -> Json {
    let body = o.body.to_json();
    fn walk(d: &Json) -> Json {
        match d {
            Json::Array(items) => Json::Array(items.iter().map(walk).collect()),
            other => other["status"].clone(),
        }
    }
    walk(&body[id]["details"])
}

#[test]
fn a_multiplexed_statement_becomes_one_batch_call_split_back_in_order() {
    let (o, lines) = run(default_batch(), "from product with id = [3, 1, 2]");
    assert_eq!(lines, vec!["GET http://u/products?id=3&id=1&id=2"]);
    assert_eq!(o.status, 200);
    assert_eq!(
        o.body.to_json()["product"]["result"],
        json!([{"id": 3, "name": "p3"}, {"id": 1, "name": "p1"}, {"id": 2, "name": "p2"}])
    );
    assert_eq!(statuses(&o, "product"), json!([200, 200, 200]));
    assert_eq!((o.stats.calls, o.stats.batched, o.stats.deduped), (1, 3, 0));
    // A single value goes through the batch endpoint too, and its result stays an object.
    let (o, lines) = run(default_batch(), "from product with id = 4");
    assert_eq!(lines, vec!["GET http://u/products?id=4"]);
    assert_eq!(
        o.body.to_json()["product"]["result"],
        json!({"id": 4, "name": "p4"})
    );
}

#[test]
fn duplicates_and_nested_lists_stay_aligned_with_the_input() {
    let (o, lines) = run(
        default_batch(),
        "from product with id = [[1, 2], [2, \"1\"], [7]]",
    );
    // 1 and "1" are one key; 2 repeats: three unique keys, one call.
    assert_eq!(lines, vec!["GET http://u/products?id=1&id=2&id=7"]);
    assert_eq!(
        o.body.to_json()["product"]["result"],
        json!([
            [{"id": 1, "name": "p1"}, {"id": 2, "name": "p2"}],
            [{"id": 2, "name": "p2"}, {"id": 1, "name": "p1"}],
            [{"id": 7, "name": "p7"}]
        ])
    );
    assert_eq!(
        statuses(&o, "product"),
        json!([[200, 200], [200, 200], [200]])
    );
    // The repeated 2 and "1" (the same request as 1) are deduped by the query.
    assert_eq!((o.stats.calls, o.stats.deduped, o.stats.batched), (1, 2, 3));
}

#[test]
fn chunks_follow_max_and_max_url() {
    let mut batch = default_batch();
    batch["max"] = json!(2);
    let (_, lines) = run(batch, "from product with id = [1, 2, 3, 4, 5]");
    assert_eq!(
        lines,
        vec![
            "GET http://u/products?id=1&id=2",
            "GET http://u/products?id=3&id=4",
            "GET http://u/products?id=5",
        ]
    );
    // "http://u/products?" is 18 bytes, each "id=NN" 5 and each "&" 1: 64 bytes hold 7 keys.
    let mut batch = default_batch();
    batch["max-url"] = json!(64);
    let ids: Vec<u64> = (10..30).collect();
    let (o, lines) = run(batch, &format!("from product with id = {}", json!(ids)));
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines.iter().all(|l| l.len() - "GET ".len() <= 64),
        "{lines:?}"
    );
    assert_eq!(
        lines[0],
        "GET http://u/products?id=10&id=11&id=12&id=13&id=14&id=15&id=16"
    );
    assert_eq!(o.stats.calls, 3);
    assert_eq!(
        o.body.to_json()["product"]["result"][19],
        json!({"id": 29, "name": "p29"})
    );
}

#[test]
fn every_encoder_places_the_keys() {
    let cases = [
        (
            json!({"ids": "$keys -> csv"}),
            "GET http://u/products?ids=1,a+b",
        ),
        (
            json!({"ids": "$keys -> brackets"}),
            "GET http://u/products?ids[]=1&ids[]=a+b",
        ),
        (
            json!({"ids": "$keys -> pipes"}),
            "GET http://u/products?ids=1|a+b",
        ),
        (
            json!({"ids": "$keys -> spaces"}),
            "GET http://u/products?ids=1%20a+b",
        ),
        (
            json!({"id": "$keys -> in", "select": "id,name"}),
            "GET http://u/products?id=in.(1,%22a+b%22)&select=id%2Cname",
        ),
        (
            json!({"ids": "$keys -> json"}),
            "GET http://u/products?ids=%5B1%2C%22a+b%22%5D",
        ),
        (
            json!({"id": "$keys -> repeat"}),
            "GET http://u/products?id=1&id=a+b",
        ),
    ];
    for (query, line) in cases {
        let mut batch = default_batch();
        batch["query"] = query.clone();
        let (_, lines) = run(batch, "from product with id = [1, \"a b\"]");
        assert_eq!(lines, vec![line.to_string()], "{query}");
    }
}

#[test]
fn a_post_search_endpoint_takes_the_keys_in_its_body_and_other_params_pass_through() {
    let m = mappings(json!({
        "on": "id", "request": "POST http://u/products/search", "safe": true,
        "body": {"ids": "$keys -> json", "v": "2"}, "items": "$.data"
    }));
    let (o, calls) = run_with(
        &m,
        "from product with id = [1, 2], lang = \"pt\"",
        &Inputs::default(),
        |r| {
            let body: Json =
                serde_json::from_str(r.body.as_deref().unwrap_or("null")).unwrap_or(Json::Null);
            let data: Vec<Json> = body["ids"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|id| json!({"id": id, "lang": body["lang"]}))
                .collect();
            Reply::json(200, json!({"data": data}))
        },
    );
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].line(), "POST http://u/products/search");
    assert_eq!(
        calls[0].json_body(),
        json!({"ids": [1, 2], "v": "2", "lang": "pt"})
    );
    assert_eq!(calls[0].header("content-type"), Some("application/json"));
    assert_eq!(
        o.body.to_json()["product"]["result"],
        json!([{"id": 1, "lang": "pt"}, {"id": 2, "lang": "pt"}])
    );
}

#[test]
fn map_keyed_answers_and_nested_item_paths_are_split_by_key() {
    let m = mappings(json!({
        "on": "id", "request": "GET http://u/products", "items": "$.byId", "key": "@key"
    }));
    let (o, _) = run_with(
        &m,
        "from product with id = [2, 1]",
        &Inputs::default(),
        |_| Reply::json(200, json!({"byId": {"1": {"n": "one"}, "2": {"n": "two"}}})),
    );
    assert_eq!(
        o.body.to_json()["product"]["result"],
        json!([{"n": "two"}, {"n": "one"}])
    );

    let m = mappings(json!({
        "on": "id", "request": "GET http://u/Patient", "query": {"_id": "$keys -> csv"},
        "items": "$.entry[*].resource", "key": "ref.code"
    }));
    let (o, calls) = run_with(
        &m,
        "from product with id = [\"a\", \"b\"]",
        &Inputs::default(),
        |_| {
            Reply::json(
                200,
                json!({"entry": [
                    {"resource": {"ref": {"code": "b"}, "n": 2}},
                    {"resource": {"ref": {"code": "a"}, "n": 1}}
                ]}),
            )
        },
    );
    assert_eq!(calls[0].line(), "GET http://u/Patient?_id=a,b");
    assert_eq!(
        o.body.to_json()["product"]["result"],
        json!([{"ref": {"code": "a"}, "n": 1}, {"ref": {"code": "b"}, "n": 2}])
    );
}

#[test]
fn a_missing_key_gives_its_items_a_404_and_null_or_an_error() {
    let (o, _) = run(default_batch(), "from product with id = [1, 500, 2, 500]");
    assert_eq!(statuses(&o, "product"), json!([200, 404, 200, 404]));
    assert_eq!(
        o.body.to_json()["product"]["result"],
        json!([{"id": 1, "name": "p1"}, null, {"id": 2, "name": "p2"}, null])
    );
    assert_eq!(o.status, 404);

    let mut batch = default_batch();
    batch["missing"] = json!("error");
    let (o, _) = run(batch, "from product with id = [1, 500] ignore-errors");
    assert_eq!(statuses(&o, "product"), json!([200, 404]));
    assert_eq!(
        o.body.to_json()["product"]["result"][1],
        json!("the batch answer has no item for the key '500'")
    );
    assert_eq!(o.status, 200, "ignore-errors keeps the query's status");
}

#[test]
fn an_item_error_marker_fails_that_item_alone() {
    let mut batch = default_batch();
    batch["item-error"] = json!("error");
    let m = mappings(batch);
    let (o, _) = run_with(
        &m,
        "from product with id = [1, 2, 3]",
        &Inputs::default(),
        |_| {
            Reply::json(
                200,
                json!([
                    {"id": 1, "name": "p1"},
                    {"id": 2, "error": {"status": 403, "message": "forbidden"}},
                    {"id": 3, "error": "gone"}
                ]),
            )
        },
    );
    assert_eq!(statuses(&o, "product"), json!([200, 403, 500]));
    assert_eq!(
        o.body.to_json()["product"]["result"][1]["error"]["message"],
        json!("forbidden")
    );
    assert_eq!(o.status, 500);
}

#[test]
fn a_failed_chunk_fails_only_its_items() {
    let mut batch = default_batch();
    batch["max"] = json!(2);
    let m = mappings(batch);
    let handler = |r: &Request| {
        if r.url.contains("id=3") {
            Reply::json(503, json!({"error": "overloaded"}))
        } else if r.url.contains("id=5") {
            Reply::error(TransportError::Connection("reset".into()))
        } else {
            products(r)
        }
    };
    let query = "from product with id = [1, 2, 3, 4, 5]";
    let (o, calls) = run_with(&m, query, &Inputs::default(), handler);
    assert_eq!(calls.len(), 3);
    assert_eq!(statuses(&o, "product"), json!([200, 200, 503, 503, 502]));
    let result = &o.body.to_json()["product"]["result"];
    assert_eq!(result[0], json!({"id": 1, "name": "p1"}));
    assert_eq!(result[2], json!({"error": "overloaded"}));
    assert_eq!(result[4], json!("connection error: reset"));
    assert_eq!(o.status, 503);

    let (o, _) = run_with(
        &m,
        &format!("{query} ignore-errors"),
        &Inputs::default(),
        handler,
    );
    assert_eq!(statuses(&o, "product"), json!([200, 200, 503, 503, 502]));
    assert_eq!(o.status, 200);

    // A chunk answering what is not JSON, or JSON without items where `items` points, fails
    // its items with 502.
    let (o, _) = run_with(&m, "from product with id = [1]", &Inputs::default(), |_| {
        Reply::text(200, "<html>")
    });
    assert_eq!(statuses(&o, "product"), json!([502]));
    let (o, _) = run_with(&m, "from product with id = [1]", &Inputs::default(), |_| {
        Reply::json(200, json!("no items"))
    });
    assert_eq!(statuses(&o, "product"), json!([502]));
    // An array cut short is not JSON either; blanks before a whole one are.
    let (o, _) = run_with(&m, "from product with id = [1]", &Inputs::default(), |_| {
        Reply::text(200, "[{\"id\": 1}, ")
    });
    assert_eq!(statuses(&o, "product"), json!([502]));
    let (o, _) = run_with(&m, "from product with id = [1]", &Inputs::default(), |_| {
        Reply::text(200, " \n [{\"id\": 1}]")
    });
    assert_eq!(statuses(&o, "product"), json!([200]));
    // An empty array is an answer: every key is missing.
    let (o, _) = run_with(&m, "from product with id = [1]", &Inputs::default(), |_| {
        Reply::json(200, json!([]))
    });
    assert_eq!(statuses(&o, "product"), json!([404]));
}

#[test]
fn no_batch_forces_one_call_per_item() {
    let (o, lines) = run(default_batch(), "from product with id = [1, 2] -> no-batch");
    assert_eq!(
        lines,
        vec!["GET http://u/product/1", "GET http://u/product/2"]
    );
    assert_eq!(
        o.body.to_json()["product"]["result"][1],
        json!({"id": 2, "name": "p2"})
    );
    assert_eq!((o.stats.calls, o.stats.batched), (2, 0));
    // `no-multiplex` keeps restQL's meaning: one call with the list, not a batch.
    let (_, lines) = run(
        default_batch(),
        "from product with id = [1, 2] -> no-multiplex",
    );
    assert_eq!(lines, vec!["GET http://u/product/%5B1%2C2%5D"]);
}

#[test]
fn statements_of_one_wave_share_a_batch_and_later_ones_reuse_its_answers() {
    let (o, lines) = run(
        default_batch(),
        "from product as a with id = [1, 2]\nfrom product as b with id = [2, 3]\nfrom product as c with id = a.id",
    );
    assert_eq!(lines, vec!["GET http://u/products?id=1&id=2&id=3"]);
    assert_eq!(
        o.body.to_json()["c"]["result"],
        json!([{"id": 1, "name": "p1"}, {"id": 2, "name": "p2"}])
    );
    // b's 2 and both of c's keys are answers the query already has.
    assert_eq!((o.stats.calls, o.stats.deduped, o.stats.batched), (1, 3, 3));
}

#[test]
fn chained_keys_of_a_later_wave_form_their_own_batch() {
    let m = mappings(default_batch());
    let mut inputs = Inputs::default();
    inputs.variables.insert("q".into(), json!("tv"));
    let (o, calls) = run_with(
        &m,
        "from search with q = $q\nfrom product with id = search.ids",
        &inputs,
        |r| {
            if r.url.starts_with("http://u/search") {
                Reply::json(200, json!({"ids": [5, 6, 5]})).after(10)
            } else {
                products(r).after(10)
            }
        },
    );
    let lines: Vec<String> = calls.iter().map(RecordedCall::line).collect();
    assert_eq!(
        lines,
        vec![
            "GET http://u/search?q=tv",
            "GET http://u/products?id=5&id=6"
        ]
    );
    assert_eq!(calls[1].at_ms, 10);
    assert_eq!(
        o.body.to_json()["product"]["result"][2],
        json!({"id": 5, "name": "p5"})
    );
}

#[test]
fn groups_keep_different_credentials_and_other_params_apart() {
    let m = mappings(default_batch());
    let query = "from product as a headers Authorization = \"t1\" with id = [1, 2]\n\
                 from product as b headers Authorization = \"t2\" with id = [3]\n\
                 from product as c headers Cookie = \"s=1\" with id = [4]\n\
                 from product as d headers Authorization = \"t1\" with id = [5], lang = \"pt\"\n\
                 from product as e headers Authorization = \"t1\" with id = [6]";
    let (_, calls) = run_with(&m, query, &Inputs::default(), products);
    let mut seen: Vec<(String, Option<String>, Option<String>)> = calls
        .iter()
        .map(|c| {
            (
                c.line(),
                c.header("authorization").map(str::to_string),
                c.header("cookie").map(str::to_string),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (
                "GET http://u/products?id=1&id=2&id=6".into(),
                Some("t1".into()),
                None
            ),
            ("GET http://u/products?id=3".into(), Some("t2".into()), None),
            (
                "GET http://u/products?id=4".into(),
                None,
                Some("s=1".into())
            ),
            (
                "GET http://u/products?id=5&lang=pt".into(),
                Some("t1".into()),
                None
            ),
        ]
    );
}

#[test]
fn scenario_c_takes_five_calls_with_batch_endpoints() {
    let (o, calls) = scenario_c(25, 20);
    assert_eq!(calls.len(), 5);
    assert_eq!(
        calls.iter().map(|c| c.at_ms).collect::<Vec<_>>(),
        vec![0, 20, 20, 40, 40],
        "three hops: the critical path"
    );
    assert_eq!(o.status, 200);
    let body = o.body.to_json();
    assert_eq!(body["product"]["result"].as_array().map(Vec::len), Some(50));
    assert_eq!(
        body["price"]["result"][49],
        json!({"id": "s14", "amount": 10})
    );
    assert_eq!(o.stats.calls, 5);
    assert_eq!(o.stats.duration_ms, 60);
}

#[test]
fn scenarios_a_and_b_take_four_and_three_calls() {
    let m = Mappings::from_json(
        r#"{"customer": "http://shop/customer/:id", "cart": "http://shop/cart/:id",
            "product": "http://shop/product/:id", "price": "http://shop/price/:id",
            "shipping": "http://shop/shipping?:zip&:items"}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let handler = |r: &Request| {
        Reply::json(
            200,
            json!({"cartId": 7, "address": {"zip": "01"}, "items": [{"sku": "a"}, {"sku": "b"}]}),
        )
        .after(if r.url.contains("customer") { 20 } else { 10 })
    };
    let mut inputs = Inputs::default();
    for (k, v) in [("id", json!(1)), ("cart", json!(2)), ("product", json!(3))] {
        inputs.variables.insert(k.into(), v);
    }
    let (o, calls) = run_with(
        &m,
        "from customer with id = $id\nfrom cart with id = $cart\nfrom product with id = $product\nfrom price with id = $product",
        &inputs,
        handler,
    );
    assert_eq!((calls.len(), o.stats.calls), (4, 4));
    let (o, calls) = run_with(
        &m,
        "from customer with id = $id\nfrom cart with id = customer.cartId\nfrom shipping with zip = customer.address.zip, items = cart.items.sku -> no-multiplex",
        &inputs,
        handler,
    );
    assert_eq!((calls.len(), o.stats.calls), (3, 3));
}

#[test]
fn the_trace_shows_each_item_and_the_batch_call_that_served_it() {
    let mut batch = default_batch();
    batch["max"] = json!(2);
    let m = mappings(batch);
    let (o, _) = run_with(
        &m,
        "from product with id = [1, 2, 1, 3]",
        &Inputs::default(),
        |r| products(r).after(15),
    );
    let trace: Vec<Json> = o
        .trace
        .iter()
        .map(|t| serde_json::to_value(t).unwrap_or(Json::Null))
        .collect();
    assert_eq!(trace.len(), 4);
    let by_item = |i: u64| {
        trace
            .iter()
            .find(|t| t["item"] == json!(i))
            .cloned()
            .unwrap_or(Json::Null)
    };
    assert_eq!(
        by_item(0),
        json!({"statement": "product", "item": 0, "method": "GET", "url": "http://u/product/1",
               "batch": "GET http://u/products?id=1&id=2", "startMs": 0, "endMs": 15,
               "status": 200, "served": "batched", "chunk": 0})
    );
    assert_eq!(by_item(2)["served"], json!("deduped"));
    assert_eq!(by_item(3)["batch"], json!("GET http://u/products?id=3"));
    assert_eq!(by_item(3)["chunk"], json!(1));
    assert_eq!((o.stats.calls, o.stats.batched, o.stats.deduped), (2, 3, 1));
}

#[test]
fn explain_shows_batch_groups_their_keys_and_chunks() {
    let mut batch = default_batch();
    batch["max"] = json!(2);
    let m = mappings(batch);
    let plan = restql::explain(
        "from product with id = [1, 2, 1, 3]\nfrom single with id = 9",
        &m,
        &Inputs::default(),
        &Options::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let text = plan["text"].as_str().unwrap_or_default();
    let batch_part = &text[text.find("batch\n").unwrap_or(0)..];
    assert_eq!(
        batch_part,
        "\
batch
  product via GET http://u/products: 4 items, 3 unique keys, 2 calls (max 2, max-url 4096)
    chunk 0: GET http://u/products?id=1&id=2 (2 keys)
    chunk 1: GET http://u/products?id=3 (1 key)
"
    );
    assert_eq!(
        plan["batches"],
        json!([{
            "resource": "product",
            "request": "GET http://u/products",
            "keys": [
                {"key": 1, "items": ["product[0]", "product[2]"]},
                {"key": 2, "items": ["product[1]"]},
                {"key": 3, "items": ["product[3]"]}
            ],
            "chunks": [
                {"method": "GET", "url": "http://u/products?id=1&id=2", "body": null, "keys": [1, 2]},
                {"method": "GET", "url": "http://u/products?id=3", "body": null, "keys": [3]}
            ]
        }])
    );
}

#[test]
fn explain_shows_the_same_plan_whether_or_not_items_urls_were_written() {
    let m = mappings(default_batch());
    let text = "from product with id = [1, 2, 1, \"1\", 3], lang = \"pt\"\n\
                from product as again with id = [3, 4] -> no-batch\n\
                from single with id = 9";
    let explain = |options: &Options| {
        restql::explain(text, &m, &Inputs::default(), options).unwrap_or_else(|e| panic!("{e}"))
    };
    let written = explain(&Options::default());
    assert_eq!(
        written["statements"][0]["calls"][3],
        json!({"key": written["statements"][0]["calls"][0]["key"], "method": "GET",
               "url": "http://u/product/1?lang=pt", "body": null, "batchKey": "1"})
    );
    let untraced = Options {
        trace: false,
        ..Options::default()
    };
    assert_eq!(explain(&untraced), written);
}

#[test]
fn where_a_batch_costs_per_item_fan_out_can_be_chosen_per_resource() {
    // A batch endpoint that costs 10 ms plus 2 ms per key, next to a single-item endpoint of
    // 20 ms: for 35 keys in chunks of 25 the batch takes 60 ms, the parallel fan-out 20 ms.
    let mut batch = default_batch();
    batch["max"] = json!(25);
    let m = mappings(batch);
    let handler = |r: &Request| {
        let keys = query_values(&r.url, "id").len() as u64;
        if keys > 0 {
            products(r).after(10 + 2 * keys)
        } else {
            products(r).after(20)
        }
    };
    let ids: Vec<u64> = (0..35).collect();
    let batched = format!("from product with id = {}", json!(ids));
    let (o, calls) = run_with(&m, &batched, &Inputs::default(), handler);
    assert_eq!((calls.len(), o.stats.duration_ms), (2, 60));
    let (o, calls) = run_with(
        &m,
        &format!("{batched} -> no-batch"),
        &Inputs::default(),
        handler,
    );
    assert_eq!((calls.len(), o.stats.duration_ms), (35, 20));
    assert_eq!(
        o.body.to_json()["product"]["result"][34],
        json!({"id": 34, "name": "p34"})
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Any list of keys, any chunk size, any answer order and any missing keys: calls are
        /// ceil(unique / max), and every item gets its own key's item, or null with a 404.
        #[test]
        fn every_item_gets_its_own_answer(
            ids in prop::collection::vec(0u64..40, 0..60),
            max in 1usize..12,
            reverse in any::<bool>(),
            absent in 0u64..5,
        ) {
            let mut batch = default_batch();
            batch["max"] = json!(max);
            let m = mappings(batch);
            let (o, calls) = run_with(
                &m,
                &format!("from product with id = {}", json!(ids)),
                &Inputs::default(),
                move |r| {
                    let mut items: Vec<Json> = query_values(&r.url, "id")
                        .into_iter()
                        .filter_map(|id| id.parse::<u64>().ok())
                        .filter(|id| id % 5 != absent)
                        .map(|id| json!({"id": id}))
                        .collect();
                    if reverse {
                        items.reverse();
                    }
                    Reply::json(200, Json::Array(items)).after(5)
                },
            );
            let mut unique = ids.clone();
            unique.sort_unstable();
            unique.dedup();
            prop_assert_eq!(calls.len(), unique.len().div_ceil(max));
            let body = o.body.to_json();
            for (i, id) in ids.iter().enumerate() {
                let (status, result) = (&body["product"]["details"][i]["status"], &body["product"]["result"][i]);
                if id % 5 == absent {
                    prop_assert_eq!(status, &json!(404));
                    prop_assert_eq!(result, &Json::Null);
                } else {
                    prop_assert_eq!(status, &json!(200));
                    prop_assert_eq!(result, &json!({"id": id}));
                }
            }
        }
    }
}

/// Scenario (c): search (50 ids, 35 distinct) -> products -> prices by sku, every call 20 ms
/// but the second product chunk, `second_chunk_ms`; prices take `price_max` keys a call.
fn scenario_c(price_max: u64, second_chunk_ms: u64) -> (Outcome, Vec<RecordedCall>) {
    let m = Mappings::from_json_value(&json!({
        "search": "http://shop/search?:q",
        "product": {"url": "http://shop/product/:id", "batch": {"on": "id", "request": "GET http://shop/products", "max": 25}},
        "price": {"url": "http://shop/price/:id", "batch": {"on": "id", "request": "GET http://shop/prices", "max": price_max}},
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<u64> = (0..35).chain(0..15).collect();
    let handler = move |r: &Request| {
        let url = r.url.as_str();
        if url.starts_with("http://shop/search") {
            return Reply::json(200, json!({"ids": ids})).after(20);
        }
        let keys = query_values(url, "id");
        if url.starts_with("http://shop/products") {
            let items: Vec<Json> = keys
                .iter()
                .map(|id| json!({"id": id.parse::<u64>().unwrap_or(0), "sku": format!("s{id}")}))
                .collect();
            let late = !keys.iter().any(|k| k == "0");
            return Reply::json(200, Json::Array(items)).after(if late {
                second_chunk_ms
            } else {
                20
            });
        }
        let items: Vec<Json> = keys
            .iter()
            .map(|id| json!({"id": id, "amount": 10}))
            .collect();
        Reply::json(200, Json::Array(items)).after(20)
    };
    let mut inputs = Inputs::default();
    inputs.variables.insert("q".into(), json!("tv"));
    run_with(
        &m,
        "from search with q = $q\nfrom product with id = search.ids\nfrom price with id = product.sku",
        &inputs,
        handler,
    )
}

#[test]
fn a_full_chunk_of_chained_keys_goes_out_before_the_rest_of_its_statement() {
    // The first product chunk's 25 skus fill a price chunk: it goes at 40 ms, the second
    // product chunk's 10 when that chunk is there (55 ms). Five calls, as when prices wait.
    let (o, calls) = scenario_c(25, 35);
    let started: Vec<(String, u64)> = calls
        .iter()
        .map(|c| {
            (
                c.line().split('?').next().unwrap_or("").to_string(),
                c.at_ms,
            )
        })
        .collect();
    let at = |prefix: &str| -> Vec<u64> {
        started
            .iter()
            .filter(|(l, _)| l.ends_with(prefix))
            .map(|(_, t)| *t)
            .collect()
    };
    assert_eq!(at("/search"), [0]);
    assert_eq!(at("/products"), [20, 20]);
    assert_eq!(at("/prices"), [40, 55]);
    let first = calls
        .iter()
        .find(|c| c.line().contains("/prices") && c.at_ms == 40);
    assert_eq!(first.map(|c| query_values(&c.line(), "id").len()), Some(25));
    assert_eq!(o.stats.calls, 5);
    assert_eq!(o.stats.duration_ms, 75);
    let body = o.body.to_json();
    assert_eq!(
        body["price"]["result"][49],
        json!({"id": "s14", "amount": 10})
    );
    assert_eq!(
        body["price"]["result"][30],
        json!({"id": "s30", "amount": 10})
    );
    assert_eq!(statuses(&o, "price").as_array().map(Vec::len), Some(50));
}

#[test]
fn chained_keys_that_do_not_fill_a_chunk_wait_for_their_statement() {
    // With room for 100 prices a call, the first 25 wait for the other 10: one price call.
    let (o, calls) = scenario_c(100, 35);
    let prices: Vec<&RecordedCall> = calls
        .iter()
        .filter(|c| c.line().contains("/prices"))
        .collect();
    assert_eq!(prices.len(), 1);
    assert_eq!(prices[0].at_ms, 55);
    assert_eq!(query_values(&prices[0].line(), "id").len(), 35);
    assert_eq!(o.stats.calls, 4);
    assert_eq!(o.stats.duration_ms, 75);
}
