//! Property tests of execution: whatever the upstream answers (any JSON, any text, any status,
//! any latency), every query ends, every statement gets a status, and nothing panics.

use proptest::prelude::*;
use restql::testing::{FakeTransport, Reply, VirtualClock};
use restql::{Inputs, Mappings, Options};
use serde_json::{Value as Json, json};

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        "[a-z0-9 ]{0,6}".prop_map(Json::String),
        Just(json!("__proto__")),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::vec(
                (
                    prop_oneof![Just("a".to_string()), Just("b".to_string()), "[a-z]{1,3}"],
                    inner
                ),
                0..4
            )
            .prop_map(|entries| Json::Object(entries.into_iter().collect())),
        ]
    })
}

/// What one upstream answers: a JSON body or raw text, a status, a latency.
fn reply() -> impl Strategy<Value = Reply> {
    (
        prop_oneof![
            json_value().prop_map(|j| j.to_string()),
            "[^\"]{0,12}",
            Just(String::new()),
        ],
        prop_oneof![
            Just(200u16),
            Just(201),
            Just(204),
            Just(404),
            Just(500),
            Just(503)
        ],
        0u64..300,
    )
        .prop_map(|(body, status, latency)| Reply::text(status, &body).after(latency))
}

const QUERIES: &[&str] = &[
    "from hero\nfrom sidekick with id = hero.a, x = hero.b.a -> no-multiplex",
    "from hero\nfrom sidekick with id = hero.a -> flatten only a, b.a -> matches(\"1\")",
    "from hero timeout 100\nfrom sidekick depends-on hero with id = hero\nfrom villain in hero.a with id = sidekick.b",
    "use timeout 250\nfrom hero with id = [1, 2]\nto sidekick with x = hero.a, y = {k: hero.b}",
    "from hero hidden ignore-errors\nfrom sidekick headers X = hero.a with id = hero.b -> json -> base64",
    "from hero only *, a -> filterByRegex(\"a\", \"x\")\nfrom villain in hero with id = hero.b.b",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn every_query_ends_and_every_statement_gets_a_status(
        query in prop::sample::select(QUERIES),
        hero in reply(),
        others in reply(),
    ) {
        let mappings = Mappings::new()
            .with("hero", "http://u/hero/:id").expect("valid")
            .with("sidekick", "http://u/sidekick/:id").expect("valid")
            .with("villain", "http://u/villain/:id").expect("valid");
        let clock = VirtualClock::new();
        let transport = FakeTransport::new(&clock, move |r| {
            if r.url.contains("/hero/") { hero.clone() } else { others.clone() }
        });
        prop_assert!(restql::check(query).is_ok(), "{query}");
        let options = Options {
            max_calls: 200,
            ..Options::default()
        };
        let outcome = clock.run(restql::run(
            query, &mappings, &Inputs::default(), &options, &transport, &clock,
        ));
        let outcome = outcome.expect("the query ends");
        prop_assert!((200..600).contains(&outcome.status), "status {}", outcome.status);
        let body = outcome.body.to_json();
        if outcome.error.is_none() {
            let object = body.as_object().expect("an object");
            for (id, entry) in object {
                prop_assert!(entry.get("details").is_some(), "{id} has details");
            }
        } else {
            // Only the deadline of the `use timeout 250` query can fail a whole run here.
            let code = outcome.error.as_ref().map(|e| e.code.as_str());
            prop_assert_eq!(code, Some("query-timeout"));
            prop_assert!(body.get("error").is_some());
        }
        // The text form is the same JSON.
        let text: Json = serde_json::from_str(&outcome.body.to_text()).expect("valid JSON text");
        prop_assert_eq!(text, body);
    }
}
