//! parse + validate: one statement, and ten statements using most of the language.
//! Run: `cargo bench --bench parse`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const ONE_STATEMENT: &str = "from product with id = $id only name, price";

const TEN_STATEMENTS: &str = r#"use timeout 3000
use max-age 60

from search with q = $q, page = 1, limit = 50 only ids, total
from product with id = search.ids -> flatten only name, sku, images.url
from price with sku = product.sku only value, currency
from customer as me headers Authorization = $token with id = $customer
from cart timeout 800 with id = me.cartId
from shipping with zip = me.address.zip, items = cart.items.sku -> no-multiplex
from reviews with product = product.sku, sort = "recent" only rating, text -> matches("^[a-z ]+$") ignore-errors
from stock depends-on cart with skus = cart.items.sku -> json
to events with $event -> as-body
from recommendations in me.recommendations with user = me.id, filters = {kind: "tv", max: 20.5} hidden
"#;

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
