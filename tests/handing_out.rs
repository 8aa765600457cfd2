//! A client run hands each statement's part of the body out once it is final, in the run's
//! idle time: after the calls its answers led to have gone out (at once when they led to
//! none), before the run ends; over the fake transport and the virtual clock.

use std::cell::RefCell;
use std::rc::Rc;

use restql::testing::{FakeTransport, Reply, VirtualClock};
use restql::{Client, ClientConfig, Clock, Inputs, Mappings, Options, Outcome, Request};
use serde_json::{Value as Json, json};

/// `product/:id` answers `{id, next}` after 20 ms, `slow/:id` `{id}` after 50 ms.
fn setup() -> (VirtualClock, Rc<FakeTransport>, Client) {
    let clock = VirtualClock::new();
    let transport = Rc::new(FakeTransport::new(&clock, |r: &Request| {
        let (route, id) = r
            .url
            .trim_start_matches("http://u/")
            .split_once('/')
            .unwrap_or(("", ""));
        let id: u64 = id.parse().unwrap_or(0);
        match route {
            "slow" => Reply::json(200, json!({"id": id})).after(50),
            _ => Reply::json(200, json!({"id": id, "next": id + 1})).after(20),
        }
    }));
    let mappings = Mappings::from_json_value(&json!({
        "product": "http://u/product/:id",
        "other": "http://u/product/:id",
        "slow": "http://u/slow/:id",
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let client = Client::new(
        transport.clone(),
        Rc::new(clock.clone()),
        mappings,
        Options::default(),
        ClientConfig::default(),
    );
    (clock, transport, client)
}

/// Each part handed out: the statement, its text, the virtual time, the calls sent by then and
/// its compact text.
type Handed = Vec<(String, String, u64, usize, String)>;

fn run(query: &str) -> (Outcome, Handed) {
    run_with(query, &Options::default())
}

fn run_with(query: &str, options: &Options) -> (Outcome, Handed) {
    let (clock, transport, client) = setup();
    let handed: RefCell<Handed> = RefCell::new(Vec::new());
    let sink = |id: &str, part: &restql::StatementPart<'_>| {
        handed.borrow_mut().push((
            id.to_string(),
            part.text(),
            clock.now_ms(),
            transport.calls().len(),
            part.compact_text(),
        ));
    };
    let query_ast = restql::check(query).unwrap_or_else(|e| panic!("{e:?}"));
    let outcome = clock
        .run(client.run_handing_out(&query_ast, query, &Inputs::default(), options, Some(&sink)))
        .unwrap_or_else(|| panic!("the run never ended"));
    (outcome, handed.into_inner())
}

fn part(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn a_chained_statement_is_handed_out_after_the_call_it_led_to_and_before_the_run_ends() {
    let (outcome, handed) = run("from product with id = 1\nfrom other with id = product.next");
    assert_eq!(outcome.status, 200);
    let names: Vec<&str> = handed.iter().map(|h| h.0.as_str()).collect();
    assert_eq!(names, vec!["product"], "the last statement ends the run");
    let (_, text, at, sent, _) = &handed[0];
    assert_eq!(
        *at, 21,
        "a millisecond after product's answer, the run idle"
    );
    assert_eq!(*sent, 2, "after other's call went out");
    let body = outcome.body.to_json();
    assert_eq!(
        part(text),
        body["product"],
        "the part is what the body holds"
    );
    assert_eq!(outcome.stats.duration_ms, 40);
}

#[test]
fn a_part_is_handed_out_while_a_parallel_statement_waits() {
    let (outcome, handed) = run("from product with id = [1, 2]\nfrom slow with id = 7");
    let names: Vec<&str> = handed.iter().map(|h| h.0.as_str()).collect();
    assert_eq!(names, vec!["product"]);
    assert_eq!(
        handed[0].2, 20,
        "at once: product's answers led to no call, and slow's answer is 30 ms away"
    );
    assert_eq!(
        part(&handed[0].1),
        json!({
            "details": [
                {"status": 200, "success": true, "metadata": {}},
                {"status": 200, "success": true, "metadata": {}}
            ],
            "result": [{"id": 1, "next": 2}, {"id": 2, "next": 3}]
        })
    );
    assert_eq!(outcome.body.to_json()["product"], part(&handed[0].1));
}

#[test]
fn the_body_without_the_parts_handed_out_holds_0_in_their_place() {
    let (outcome, handed) = run("from slow with id = 7\nfrom product with id = 1 only id");
    assert_eq!(handed.len(), 1);
    let skip = |id: &str| handed.iter().any(|h| h.0 == id);
    let text = serde_json::to_string(&outcome.body.without(&skip)).unwrap_or_default();
    assert_eq!(
        part(&text),
        json!({
            "product": 0,
            "slow": {"details": {"status": 200, "success": true, "metadata": {}},
                     "result": {"id": 7}}
        })
    );
    assert_eq!(
        part(&handed[0].1)["result"],
        json!({"id": 1}),
        "`only` applies"
    );
}

#[test]
fn hidden_statements_and_statements_in_an_in_are_not_handed_out() {
    let (outcome, handed) = run(
        "from product with id = 1 hidden\nfrom other in slow.more with id = 3\nfrom slow with id = 7",
    );
    assert!(handed.is_empty(), "{handed:?}");
    assert_eq!(
        outcome.body.to_json()["slow"]["result"],
        json!({"id": 7, "more": {"id": 3, "next": 4}})
    );
    // The target of an `in` ends first, and waits for what goes into it.
    let (outcome, handed) = run("from product with id = 1\nfrom slow in product.more with id = 7");
    assert!(handed.is_empty(), "{handed:?}");
    assert_eq!(
        outcome.body.to_json()["product"]["result"],
        json!({"id": 1, "next": 2, "more": {"id": 7}})
    );
}

#[test]
fn statements_ending_with_the_run_are_not_handed_out() {
    let (outcome, handed) = run("from product with id = 1\nfrom other with id = 2");
    assert!(handed.is_empty(), "{handed:?}");
    assert_eq!(
        outcome.body.to_json()["other"]["result"],
        json!({"id": 2, "next": 3})
    );
}

#[test]
fn a_run_past_its_deadline_answers_the_error_whatever_was_handed_out() {
    let options = Options {
        query_deadline_ms: 30,
        ..Options::default()
    };
    let (outcome, handed) = run_with("from product with id = 1\nfrom slow with id = 7", &options);
    assert_eq!(handed.len(), 1, "product's part went out at 21 ms");
    assert_eq!(
        outcome.error.map(|e| e.code.as_str()),
        Some("query-timeout")
    );
    let skip = |id: &str| handed.iter().any(|h| h.0 == id);
    let text = serde_json::to_string(&outcome.body.without(&skip)).unwrap_or_default();
    assert_eq!(part(&text), json!({"error": "timeout: query timed out"}));
}

#[test]
fn compact_details_are_statuses_plus_1000_under_ignore_errors_and_keep_debug_output_whole() {
    let (outcome, handed) =
        run("from product with id = [1, 2] ignore-errors\nfrom slow with id = 7");
    assert_eq!(handed.len(), 1);
    let result = json!([{"id": 1, "next": 2}, {"id": 2, "next": 3}]);
    assert_eq!(
        part(&handed[0].4),
        json!({"details": [1200, 1200], "result": result})
    );
    let ignored = json!({"status": 200, "success": true, "metadata": {"ignore-errors": "ignore"}});
    assert_eq!(part(&handed[0].1)["details"], json!([ignored, ignored]));
    let text = serde_json::to_string(&outcome.body.compact_without(&|_| false)).unwrap_or_default();
    assert_eq!(
        part(&text),
        json!({
            "product": {"details": [1200, 1200], "result": result},
            "slow": {"details": 200, "result": {"id": 7}}
        })
    );

    let debug = Options {
        debug: true,
        ..Options::default()
    };
    let (outcome, _) = run_with("from slow with id = 7", &debug);
    let text = serde_json::to_string(&outcome.body.compact_without(&|_| false)).unwrap_or_default();
    let details = &part(&text)["slow"]["details"];
    assert_eq!(details["status"], 200, "{details}");
    assert!(details["debug"].is_object(), "{details}");
}
