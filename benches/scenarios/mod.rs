//! The benchmark scenarios of the design, shared by the benchmarks: (a) four independent
//! resources, (b) a chain of three, (c) search -> product per id -> price per product, 50 ids
//! of which 35 are distinct, over an in-memory transport (canned JSON, no sockets, no waiting).

use std::collections::HashMap;
use std::hint::black_box;

use futures::FutureExt;
use futures::future::LocalBoxFuture;
use restql::testing::VirtualClock;
use restql::{Inputs, Mappings, Options, Request, Response, Transport, TransportError};
use serde_json::json;

pub(crate) const A: &str = "from customer with id = $id
from cart with id = $cart
from product with id = $product
from price with id = $product";

pub(crate) const B: &str = "from customer with id = $id
from cart with id = customer.cartId
from shipping with zip = customer.address.zip, items = cart.items.sku -> no-multiplex";

pub(crate) const C: &str = "from search with q = $q, n = 50, unique = 35
from product with id = search.ids
from price with id = product.sku";

/// Answers every call at once from a table keyed by URL (path and query).
pub(crate) struct InMemory {
    pub(crate) answers: HashMap<String, Response>,
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

pub(crate) fn upstream() -> (Mappings, InMemory, Inputs) {
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

/// (c)'s upstream with batch endpoints (`GET /products?id=..`, `GET /prices?id=..`, 25 keys
/// a call): the plain answers and the four chunk answers, by exact URL.
pub(crate) fn batched_upstream() -> (Mappings, InMemory) {
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
    for (kind, key) in [("products", ""), ("prices", "SKU")] {
        for ids in [0..25u32, 25..35] {
            let query: Vec<String> = ids.clone().map(|id| format!("id={key}{id}")).collect();
            let items: Vec<serde_json::Value> = ids
                .map(|id| match kind {
                    "products" => json!({"id": id, "sku": format!("SKU{id}"),
                        "name": format!("Product {id}"),
                        "images": [{"url": format!("http://img/{id}.jpg")}]}),
                    _ => json!({"id": format!("SKU{id}"), "value": 100 + id, "currency": "EUR"}),
                })
                .collect();
            answers.insert(
                format!("http://shop/{kind}?{}", query.join("&")),
                Response::json(200, &json!(items)),
            );
        }
    }
    (mappings, InMemory { answers })
}

/// Plan and execute an already parsed query and write the response text (what a handler
/// sends); returns (status, upstream calls).
pub(crate) fn plan_and_execute(
    query: &restql::Query,
    text: &str,
    mappings: &Mappings,
    inputs: &Inputs,
    transport: &InMemory,
) -> (u16, usize) {
    plan_and_execute_with(
        query,
        text,
        mappings,
        inputs,
        transport,
        &Options::default(),
    )
}

/// [`plan_and_execute`] with other options (the trace off).
pub(crate) fn plan_and_execute_with(
    query: &restql::Query,
    text: &str,
    mappings: &Mappings,
    inputs: &Inputs,
    transport: &InMemory,
    options: &Options,
) -> (u16, usize) {
    let clock = VirtualClock::new();
    let plan = restql::plan(query, text, mappings, inputs, options).expect("plans");
    let outcome = clock
        .run(restql::execute(&plan, transport, &clock))
        .expect("ends");
    black_box(outcome.body.to_text());
    (outcome.status, outcome.stats.calls)
}
