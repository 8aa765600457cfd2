//! Snapshots of the plan's text form (`restql explain --format text`) and checks of its JSON.

use restql::{Inputs, Mappings, Options};
use serde_json::json;

fn mappings() -> Mappings {
    Mappings::from_json(
        r#"{"search": "http://shop/search?:q", "product": "http://shop/product/:id",
            "price": "http://shop/price/:sku", "cart": "http://shop/cart/:id"}"#,
    )
    .expect("valid mappings")
}

fn explain(query: &str) -> serde_json::Value {
    let mut inputs = Inputs::default();
    inputs.variables.insert("q".into(), json!("tv"));
    match restql::explain(query, &mappings(), &inputs, &Options::default()) {
        Ok(plan) => plan,
        Err(e) => panic!("{e}"),
    }
}

fn text(query: &str) -> String {
    explain(query)["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn chained_statements_form_one_wave_each() {
    assert_eq!(
        text(
            "from search with q = $q\nfrom product with id = search.ids\nfrom price with sku = product.sku only amount"
        ),
        "\
plan: 3 statements, 3 waves, deadline 30000 ms
wave 0
  search = GET search http://shop/search?:q
    timeout 5000 ms
    single call (1 call)
      #6dd91610 GET http://shop/search?q=tv
wave 1
  product = GET product http://shop/product/:id
    timeout 5000 ms
    after search (chained into id)
    calls decided at run time by chained values:
      id = search.ids
wave 2
  price = GET price http://shop/price/:sku [only]
    timeout 5000 ms
    after product (chained into sku)
    item by item: each of its items starts when its item of product ends
    calls decided at run time by chained values:
      sku = product.sku
"
    );
}

#[test]
fn static_calls_show_request_keys_and_dedupe_groups() {
    assert_eq!(
        text(
            "use max-age 60\nfrom product as a with id = [1, 2, 1]\nfrom product as b with id = 2 hidden\nfrom cart depends-on a with id = 9 ignore-errors"
        ),
        "\
plan: 3 statements, 2 waves, deadline 30000 ms
wave 0
  a = GET product http://shop/product/:id
    timeout 5000 ms, cache max-age=60
    multiplexed 3 (3 calls)
      #e0670a3e GET http://shop/product/1 (shared)
      #da558062 GET http://shop/product/2 (shared)
      #e0670a3e GET http://shop/product/1 (shared)
  b = GET product http://shop/product/:id [hidden]
    timeout 5000 ms, cache max-age=60
    single call (1 call)
      #da558062 GET http://shop/product/2 (shared)
wave 1
  cart = GET cart http://shop/cart/:id [ignore-errors]
    timeout 5000 ms, cache max-age=60
    after a (depends-on)
    single call (1 call)
      #1bd1c9fc GET http://shop/cart/9
dedupe
  #da558062 one call for a[1], b
  #e0670a3e one call for a[0], a[2]
"
    );
}

#[test]
fn nested_multiplexing_bodies_and_deadlines() {
    assert_eq!(
        text("use timeout 800\nto cart timeout 100 with id = [[1, 2], [3]], n = 1"),
        "\
plan: 1 statement, 1 wave, deadline 800 ms
wave 0
  cart = POST cart http://shop/cart/:id
    timeout 100 ms
    multiplexed [2, 1] (3 calls)
      #5706bbd7 POST http://shop/cart/1 {\"n\":1}
      #980e2ec2 POST http://shop/cart/2 {\"n\":1}
      #22650ea6 POST http://shop/cart/3 {\"n\":1}
"
    );
}

#[test]
fn the_plan_is_deterministic() {
    let q =
        "from search with q = $q\nfrom product with id = [3, 1, 2]\nfrom cart with id = search.x";
    let first = explain(q);
    for _ in 0..10 {
        assert_eq!(explain(q), first);
    }
}

#[test]
fn json_form_lists_waves_dependencies_and_calls() {
    let plan = explain("from search with q = $q\nfrom product with id = search.ids");
    assert_eq!(plan["waves"], json!([["search"], ["product"]]));
    assert_eq!(
        plan["statements"][1]["dependsOn"],
        json!([{"target": "search", "param": "id"}])
    );
    assert_eq!(plan["statements"][1]["calls"], json!(null));
    assert_eq!(
        plan["statements"][0]["calls"],
        json!({"key": "6dd91610", "method": "GET", "url": "http://shop/search?q=tv", "body": null})
    );
}

#[test]
fn unknown_resources_are_reported_before_any_call_with_their_position() {
    let err = restql::explain(
        "from product\nfrom nowhere\nfrom elsewhere",
        &mappings(),
        &Inputs::default(),
        &Options::default(),
    )
    .expect_err("unknown resources");
    let found: Vec<(&str, usize, usize)> = err
        .iter()
        .map(|e| (e.code.as_str(), e.line, e.column))
        .collect();
    assert_eq!(
        found,
        [("unknown-resource", 2, 6), ("unknown-resource", 3, 6)]
    );
}

#[test]
fn an_invalid_regex_from_a_variable_is_a_plan_error() {
    let mut inputs = Inputs::default();
    inputs.variables.insert("re".into(), json!("(["));
    let err = restql::explain(
        "from product only name -> matches($re)",
        &mappings(),
        &inputs,
        &Options::default(),
    )
    .expect_err("bad regex");
    assert_eq!(err.first().map(|e| e.code.as_str()), Some("invalid-regex"));
    let err = restql::explain(
        "from product only name -> matches($missing)",
        &mappings(),
        &Inputs::default(),
        &Options::default(),
    )
    .expect_err("missing variable");
    assert_eq!(
        err.first().map(|e| e.code.as_str()),
        Some("missing-variable")
    );
}
