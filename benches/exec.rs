//! plan + execute + response text over an in-memory transport (canned JSON, no sockets, no waiting) for the
//! scenarios of the benchmark design: (a) four independent resources, (b) a chain of three,
//! (c) search -> product per id -> price per product, 50 ids of which 35 are distinct.
//! (c) again with batch endpoints for products and prices (5 calls), and the growth of a
//! batched fan-out from 10 to 5,000 items.
//! Run: `cargo bench --bench exec`.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use restql::testing::VirtualClock;
use restql::{Inputs, Mappings, Options, Request, Response, Transport, TransportError};
use serde_json::json;

const A: &str = "from customer with id = $id
from cart with id = $cart
from product with id = $product
from price with id = $product";

const B: &str = "from customer with id = $id
from cart with id = customer.cartId
from shipping with zip = customer.address.zip, items = cart.items.sku -> no-multiplex";

const C: &str = "from search with q = $q, n = 50, unique = 35
from product with id = search.ids
from price with id = product.sku";

/// Answers every call at once from a table keyed by URL (path and query).
struct InMemory {
    answers: HashMap<String, Response>,
}

impl Transport for InMemory {
    fn send<'a>(
        &'a self,
        request: &'a Request,
    ) -> LocalBoxFuture<'a, Result<Response, TransportError>> {
        let answer = self
            .answers
            .get(&request.url)
            .cloned()
            .unwrap_or_else(|| Response::json(404, &json!({})));
        futures::future::ready(Ok(answer)).boxed_local()
    }
}

fn upstream() -> (Mappings, InMemory, Inputs) {
    let mappings = Mappings::from_json(
        r#"{"search": "http://shop/search?:q&:n&:unique", "product": "http://shop/product/:id",
            "price": "http://shop/price/:id", "customer": "http://shop/customer/:id",
            "cart": "http://shop/cart/:id", "shipping": "http://shop/shipping?:zip&:items"}"#,
    )
    .expect("bench mappings");
    let mut answers = HashMap::new();
    let mut add = |url: String, body: serde_json::Value| {
        answers.insert(url, Response::json(200, &body));
    };
    // 50 ids, 35 distinct: ids 0..35, then 0..15 again.
    let ids: Vec<u32> = (0..35).chain(0..15).collect();
    add(
        "http://shop/search?q=tv&n=50&unique=35".into(),
        json!({"total": 50, "ids": ids}),
    );
    for id in 0..35 {
        add(
            format!("http://shop/product/{id}"),
            json!({"id": id, "sku": format!("SKU{id}"), "name": format!("Product {id}"),
                "images": [{"url": format!("http://img/{id}.jpg")}]}),
        );
        add(
            format!("http://shop/price/SKU{id}"),
            json!({"sku": format!("SKU{id}"), "value": 100 + id, "currency": "EUR"}),
        );
    }
    add(
        "http://shop/customer/7".into(),
        json!({"id": 7, "cartId": 70, "address": {"zip": "10115"}}),
    );
    add(
        "http://shop/cart/70".into(),
        json!({"id": 70, "items": [{"sku": "SKU1"}, {"sku": "SKU2"}]}),
    );
    add(
        "http://shop/shipping?zip=10115&items=SKU1&items=SKU2".into(),
        json!({"cost": 5}),
    );
    add(
        "http://shop/product/3".into(),
        json!({"id": 3, "sku": "SKU3"}),
    );
    add("http://shop/price/3".into(), json!({"value": 103}));
    let mut inputs = Inputs::default();
    for (k, v) in [("id", "7"), ("cart", "70"), ("product", "3"), ("q", "tv")] {
        inputs.variables.insert(k.into(), json!(v));
    }
    (mappings, InMemory { answers }, inputs)
}

/// Plan and execute an already parsed query and write the response text (what a handler
/// sends); returns (status, upstream calls).
fn plan_and_execute(
    query: &restql::Query,
    text: &str,
    mappings: &Mappings,
    inputs: &Inputs,
    transport: &InMemory,
) -> (u16, usize) {
    let clock = VirtualClock::new();
    let plan = restql::plan(query, text, mappings, inputs, &Options::default()).expect("plans");
    let outcome = clock
        .run(restql::execute(&plan, transport, &clock))
        .expect("ends");
    black_box(outcome.body.to_text());
    (outcome.status, outcome.stats.calls)
}

fn bench(c: &mut Criterion) {
    let (mappings, transport, inputs) = upstream();
    let mut group = c.benchmark_group("plan+execute+write");
    for (name, text, calls) in [("a", A, 4), ("b", B, 3), ("c", C, 71)] {
        let query = restql::check(text).expect("bench query is valid");
        // The scenario does what it claims before it is timed.
        assert_eq!(
            plan_and_execute(&query, text, &mappings, &inputs, &transport),
            (200, calls),
            "scenario ({name})"
        );
        group.bench_function(format!("({name})"), |b| {
            b.iter(|| plan_and_execute(black_box(&query), text, &mappings, &inputs, &transport))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("parse+plan+execute+write");
    let clock = VirtualClock::new();
    group.bench_function("(c)", |b| {
        b.iter(|| {
            clock
                .run(restql::run(
                    black_box(C),
                    &mappings,
                    &inputs,
                    &Options::default(),
                    &transport,
                    &clock,
                ))
                .map(|outcome| outcome.body.to_text())
        })
    });
    group.finish();
}

/// The best mean over 40 batches of 100 runs of (c), per id and with batch endpoints: a
/// figure that other processes on a shared machine disturb less than criterion's median.
/// Only under `cargo bench`.
fn best_batch_of_c() {
    let (mappings, transport, inputs) = upstream();
    let (batched_mappings, batched_transport) = batched_upstream();
    let query = restql::check(C).expect("bench query is valid");
    for (name, mappings, transport) in [
        ("plan+execute+write/(c)", &mappings, &transport),
        (
            "plan+execute+write batched/(c)",
            &batched_mappings,
            &batched_transport,
        ),
    ] {
        let mut best = std::time::Duration::MAX;
        for _ in 0..40 {
            let started = std::time::Instant::now();
            for _ in 0..100 {
                black_box(plan_and_execute(&query, C, mappings, &inputs, transport));
            }
            best = best.min(started.elapsed() / 100);
        }
        println!("{name} best batch mean: {best:?}");
    }
}

/// (c)'s upstream with batch endpoints (`GET /products?id=..`, `GET /prices?id=..`, 25 keys
/// a call): the four chunk answers, by exact URL.
fn batched_upstream() -> (Mappings, InMemory) {
    let mappings = Mappings::from_json_value(&json!({
        "search": "http://shop/search?:q&:n&:unique",
        "product": {"url": "http://shop/product/:id",
                    "batch": {"on": "id", "request": "GET http://shop/products", "max": 25}},
        "price": {"url": "http://shop/price/:id",
                  "batch": {"on": "id", "request": "GET http://shop/prices", "max": 25}},
    }))
    .expect("bench mappings");
    let (_, plain, _) = upstream();
    let mut answers = plain.answers;
    let chunk = |kind: &str, ids: std::ops::Range<u32>| {
        let query: Vec<String> = ids
            .clone()
            .map(|id| match kind {
                "products" => format!("id={id}"),
                _ => format!("id=SKU{id}"),
            })
            .collect();
        let items: Vec<serde_json::Value> = ids
            .map(|id| match kind {
                "products" => {
                    json!({"id": id, "sku": format!("SKU{id}"), "name": format!("Product {id}"),
                    "images": [{"url": format!("http://img/{id}.jpg")}]})
                }
                _ => json!({"id": format!("SKU{id}"), "value": 100 + id, "currency": "EUR"}),
            })
            .collect();
        (
            format!("http://shop/{kind}?{}", query.join("&")),
            Response::json(200, &json!(items)),
        )
    };
    for kind in ["products", "prices"] {
        for ids in [0..25, 25..35] {
            let (url, answer) = chunk(kind, ids);
            answers.insert(url, answer);
        }
    }
    (mappings, InMemory { answers })
}

fn bench_batched(c: &mut Criterion) {
    let (mappings, transport) = batched_upstream();
    let (_, _, inputs) = upstream();
    let query = restql::check(C).expect("bench query is valid");
    assert_eq!(
        plan_and_execute(&query, C, &mappings, &inputs, &transport),
        (200, 5),
        "scenario (c) with batch endpoints"
    );
    let mut group = c.benchmark_group("plan+execute+write batched");
    group.bench_function("(c)", |b| {
        b.iter(|| plan_and_execute(black_box(&query), C, &mappings, &inputs, &transport))
    });
    group.finish();
}

/// A batched fan-out of n distinct ids (100 keys a call): calls grow as 1 + ceil(n / 100),
/// time per item should stay flat. Best mean of 10 batches.
fn growth() {
    let mappings = Mappings::from_json_value(&json!({
        "search": "http://shop/search?:n",
        "product": {"url": "http://shop/product/:id",
                    "batch": {"on": "id", "request": "GET http://shop/products", "max": 100}},
    }))
    .expect("bench mappings");
    let options = Options {
        max_calls: 10_000,
        ..Options::default()
    };
    println!("batched fan-out growth: n, upstream calls, best mean per query, per item");
    for n in [10u32, 100, 1_000, 5_000] {
        let mut answers = HashMap::new();
        answers.insert(
            format!("http://shop/search?n={n}"),
            Response::json(200, &json!({"ids": (0..n).collect::<Vec<_>>()})),
        );
        for start in (0..n).step_by(100) {
            let ids = start..(start + 100).min(n);
            let query: Vec<String> = ids.clone().map(|id| format!("id={id}")).collect();
            let items: Vec<serde_json::Value> = ids
                .map(|id| json!({"id": id, "name": format!("Product {id}")}))
                .collect();
            answers.insert(
                format!("http://shop/products?{}", query.join("&")),
                Response::json(200, &json!(items)),
            );
        }
        let transport = InMemory { answers };
        let text = "from search with n = $n\nfrom product with id = search.ids";
        let query = restql::check(text).expect("valid");
        let mut inputs = Inputs::default();
        inputs.variables.insert("n".into(), json!(n));
        let once = || {
            let clock = VirtualClock::new();
            let plan = restql::plan(&query, text, &mappings, &inputs, &options).expect("plans");
            let outcome = clock
                .run(restql::execute(&plan, &transport, &clock))
                .expect("ends");
            black_box(outcome.body.to_text());
            (outcome.status, outcome.stats.calls)
        };
        assert_eq!(once(), (200, 1 + n.div_ceil(100) as usize), "n = {n}");
        let reps = (20_000 / n).max(2);
        let mut best = std::time::Duration::MAX;
        for _ in 0..10 {
            let started = std::time::Instant::now();
            for _ in 0..reps {
                black_box(once());
            }
            best = best.min(started.elapsed() / reps);
        }
        println!(
            "  n = {n:>5}: {:>3} calls, {:>10.1?}, {:>6.2?} per item, peak RSS so far {}",
            once().1,
            best,
            best / n,
            peak_rss()
        );
    }
}

/// The process's peak resident memory (Linux), to see memory grow with n.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

criterion_group!(benches, bench, bench_batched);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().any(|a| a == "--bench") {
        best_batch_of_c();
        growth();
    }
}
