//! plan + execute + response text over an in-memory transport (canned JSON, no sockets, no waiting) for the
//! scenarios of the benchmark design: (a) four independent resources, (b) a chain of three,
//! (c) search -> product per id -> price per product, 50 ids of which 35 are distinct.
//! (c) again with batch endpoints for products and prices (5 calls), both (c)s with the trace
//! off, and the growth of a batched fan-out from 10 to 5,000 items.
//! Run: `cargo bench --bench exec`.

mod scenarios;

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group};
use restql::testing::VirtualClock;
use restql::{Inputs, Mappings, Options, Response};
use scenarios::{
    A, B, C, InMemory, batched_upstream, plan_and_execute, plan_and_execute_with, upstream,
};
use serde_json::json;

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
    let traced = Options::default();
    let untraced = Options {
        trace: false,
        ..Options::default()
    };
    for (name, mappings, transport, options) in [
        ("plan+execute+write/(c)", &mappings, &transport, &traced),
        (
            "plan+execute+write batched/(c)",
            &batched_mappings,
            &batched_transport,
            &traced,
        ),
        (
            "plan+execute+write trace off/(c) batched",
            &batched_mappings,
            &batched_transport,
            &untraced,
        ),
    ] {
        let mut best = std::time::Duration::MAX;
        for _ in 0..40 {
            let started = std::time::Instant::now();
            for _ in 0..100 {
                black_box(plan_and_execute_with(
                    &query, C, mappings, &inputs, transport, options,
                ));
            }
            best = best.min(started.elapsed() / 100);
        }
        println!("{name} best batch mean: {best:?}");
    }
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

    // Without the trace, as the wasm package runs unless asked for it.
    let untraced = Options {
        trace: false,
        ..Options::default()
    };
    let (plain_mappings, plain_transport, _) = upstream();
    let mut group = c.benchmark_group("plan+execute+write trace off");
    for (name, mappings, transport) in [
        ("(c)", &plain_mappings, &plain_transport),
        ("(c) batched", &mappings, &transport),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                plan_and_execute_with(
                    black_box(&query),
                    C,
                    mappings,
                    &inputs,
                    transport,
                    &untraced,
                )
            })
        });
    }
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
