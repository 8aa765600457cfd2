//! parse + validate: one statement, and ten statements using most of the language.
//! Run: `cargo bench --bench parse`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const ONE_STATEMENT: &str = "from product with id = $id only name, price";

/// Shared with the wasm benchmark (`pkg/bench/parse-plan.mjs`).
const TEN_STATEMENTS: &str = include_str!("data/ten-statements.rql");

fn parse_and_validate(text: &str) -> restql::Query {
    let query = restql::parse(text).expect("bench query parses");
    restql::validate(&query, text).expect("bench query is valid");
    query
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse+validate");
    group.bench_function("1 statement", |b| {
        b.iter(|| parse_and_validate(black_box(ONE_STATEMENT)))
    });
    group.bench_function("10 statements", |b| {
        b.iter(|| parse_and_validate(black_box(TEN_STATEMENTS)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
