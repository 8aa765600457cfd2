//! The runtime scenarios of restQL (RT-01 .. RT-36) as executable tests: a fake upstream that
//! records calls, a virtual clock, and exact assertions on calls, their timing, the aggregated
//! status, Cache-Control and the body. Where we take a recommended fix over the reference's
//! behaviour the test says so.

use restql::testing::{FakeTransport, RecordedCall, Reply, VirtualClock};
use restql::{Inputs, Mappings, Options, Outcome, Request, TransportError};
use serde_json::{Value as Json, json};

const MAPPINGS: &[(&str, &str)] = &[
    ("planets", "http://u/api/planets/:id"),
    ("people", "http://u/api/people/:id"),
    ("starships", "http://u/api/starships?:id&:name"),
    ("hero", "http://u/hero/:id"),
    ("heroq", "http://u/heroq?:context&:page"),
    ("twop", "http://u/a/:x/b/:y"),
    ("sidekick", "http://u/sidekick/:id"),
    ("villain", "http://u/villain/:id"),
];

fn mappings() -> Mappings {
    let mut m = Mappings::new();
    for (resource, url) in MAPPINGS {
        m.insert(resource, url).expect("valid mapping");
    }
    m
}

/// A run: the query, the upstream routes (`"GET http://u/..."` -> reply; unknown -> 404) and
/// the inputs.
struct Run {
    inputs: Inputs,
    options: Options,
}

impl Run {
    fn new() -> Self {
        Run {
            inputs: Inputs::default(),
            options: Options::default(),
        }
    }

    fn var(mut self, name: &str, value: Json) -> Self {
        self.inputs.variables.insert(name.into(), value);
        self
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.inputs.headers.push((name.into(), value.into()));
        self
    }

    fn debug(mut self) -> Self {
        self.options.debug = true;
        self
    }

    fn go(self, query: &str, routes: &[(&str, Reply)]) -> (Outcome, Vec<RecordedCall>) {
        let routes: Vec<(String, Reply)> = routes
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        self.go_with(query, move |req| {
            let line = format!("{} {}", req.method, req.url);
            routes
                .iter()
                .find(|(k, _)| *k == line)
                .map(|(_, r)| r.clone())
                .unwrap_or_else(|| Reply::json(404, json!({"error": "no route", "line": line})))
        })
    }

    fn go_with(
        self,
        query: &str,
        handler: impl Fn(&Request) -> Reply + 'static,
    ) -> (Outcome, Vec<RecordedCall>) {
        let clock = VirtualClock::new();
        let transport = FakeTransport::new(&clock, handler);
        let mappings = mappings();
        let outcome = clock
            .run(restql::run(
                query,
                &mappings,
                &self.inputs,
                &self.options,
                &transport,
                &clock,
            ))
            .expect("the query ends");
        (outcome, transport.calls())
    }
}

fn d(status: u16) -> Json {
    json!({"status": status, "success": (200..400).contains(&status), "metadata": {}})
}

fn di(status: u16) -> Json {
    json!({"status": status, "success": (200..400).contains(&status),
        "metadata": {"ignore-errors": "ignore"}})
}

fn lines(calls: &[RecordedCall]) -> Vec<String> {
    calls.iter().map(RecordedCall::line).collect()
}

fn sorted_lines(calls: &[RecordedCall]) -> Vec<String> {
    let mut l = lines(calls);
    l.sort();
    l
}

fn ok(body: Json) -> Reply {
    Reply::json(200, body)
}

// ---- A. Basic requests ------------------------------------------------------------------------

#[test]
fn rt01_get_by_path_parameter() {
    let (out, calls) = Run::new().go(
        r#"from planets with id = "someplanet""#,
        &[(
            "GET http://u/api/planets/someplanet",
            ok(json!({"name": "planet"})),
        )],
    );
    assert_eq!(lines(&calls), ["GET http://u/api/planets/someplanet"]);
    assert_eq!(out.status, 200);
    assert_eq!(out.cache_control, None);
    assert_eq!(
        out.body,
        json!({"planets": {"details": d(200), "result": {"name": "planet"}}})
    );

    let (_, calls) = Run::new().go("from planets", &[]);
    assert_eq!(lines(&calls), ["GET http://u/api/planets/"]);
}

#[test]
fn rt02_methods_and_parameter_placement() {
    let params = r#"with name = "Yavin IV", population = 1000, rotation_period = 24.5, terrain = {"north":"jungle","south":"rainforests"}, residents = ["john","janne"] -> no-multiplex"#;
    let body = json!({"name": "Yavin IV", "population": 1000, "rotation_period": 24.5,
        "terrain": {"north": "jungle", "south": "rainforests"}, "residents": ["john", "janne"]});
    for (keyword, method) in [("to", "POST"), ("into", "PUT"), ("update", "PATCH")] {
        let line = format!("{method} http://u/api/planets/");
        let (out, calls) = Run::new().go(
            &format!("{keyword} planets {params}"),
            &[(line.as_str(), Reply::json(201, json!({"ok": true})))],
        );
        assert_eq!(lines(&calls), std::slice::from_ref(&line));
        assert_eq!(calls[0].json_body(), body);
        assert_eq!(out.status, 200, "201 counts as 200");
        assert_eq!(out.body.to_json()["planets"]["details"], d(201));
    }
    let (out, calls) = Run::new().go(&format!("delete planets {params}"), &[]);
    assert_eq!(
        lines(&calls),
        [
            "DELETE http://u/api/planets/?name=Yavin+IV&population=1000&rotation_period=24.5&terrain=%7B%22north%22%3A%22jungle%22%2C%22south%22%3A%22rainforests%22%7D&residents=john&residents=janne"
        ]
    );
    assert_eq!(calls[0].request.body, None);
    assert_eq!(out.status, 404);
}

#[test]
fn rt03_query_string_encodings_on_get() {
    let (out, calls) = Run::new().go(
        r#"from hero with a = null, b = "", c = true, d = 1.0, e = -3, f = 2.50, g = "é ü&=""#,
        &[],
    );
    assert_eq!(
        lines(&calls),
        ["GET http://u/hero/?c=true&d=1&e=-3&f=2.5&g=%C3%A9+%C3%BC%26%3D"]
    );
    assert_eq!(out.body.to_json()["hero"]["details"], d(404));
    let (_, calls) = Run::new().go(
        r#"from hero with terrain = {"north":"jungle","south":"rainforests"}"#,
        &[],
    );
    assert_eq!(
        lines(&calls),
        [
            "GET http://u/hero/?terrain=%7B%22north%22%3A%22jungle%22%2C%22south%22%3A%22rainforests%22%7D"
        ]
    );
}

#[test]
fn rt04_path_and_query_placeholders() {
    let (out, calls) = Run::new()
        .var("shipIds", json!("1"))
        .var("shipName", json!("X-wing"))
        .go(
            "to starships with id = $shipIds, name = $shipName",
            &[(
                "POST http://u/api/starships?id=1&name=X-wing",
                Reply::json(201, json!({})),
            )],
        );
    assert_eq!(
        lines(&calls),
        ["POST http://u/api/starships?id=1&name=X-wing"]
    );
    assert_eq!(calls[0].json_body(), json!({}));
    assert_eq!(out.status, 200);
    assert_eq!(out.body.to_json()["starships"]["details"], d(201));

    let (_, calls) = Run::new().go(r#"to heroq with context = "ctx", other = 1"#, &[]);
    assert_eq!(lines(&calls), ["POST http://u/heroq?context=ctx"]);
    assert_eq!(calls[0].json_body(), json!({"other": 1}));

    let (_, calls) = Run::new().go(
        r#"from heroq with context = "ctx", page = 2, other = 1"#,
        &[],
    );
    assert_eq!(
        lines(&calls),
        ["GET http://u/heroq?context=ctx&page=2&other=1"]
    );
}

// ---- B. Multiplexing --------------------------------------------------------------------------

fn yavin() -> Json {
    json!({"name": "Yavin"})
}

fn tatooine() -> Json {
    json!({"name": "Tatooine"})
}

#[test]
fn rt05_static_list() {
    let (out, calls) = Run::new().go(
        "from planets with id = [1, 2]",
        &[
            ("GET http://u/api/planets/1", ok(yavin())),
            ("GET http://u/api/planets/2", ok(tatooine())),
        ],
    );
    assert_eq!(
        lines(&calls),
        ["GET http://u/api/planets/1", "GET http://u/api/planets/2"]
    );
    assert_eq!(out.status, 200);
    assert_eq!(
        out.body,
        json!({"planets": {"details": [d(200), d(200)], "result": [yavin(), tatooine()]}})
    );
}

#[test]
fn rt06_nested_lists() {
    let routes = [
        ("GET http://u/api/planets/1", ok(yavin())),
        ("GET http://u/api/planets/2", ok(tatooine())),
    ];
    let (out, calls) = Run::new().go("from planets with id = [[1, 2]]", &routes);
    assert_eq!(calls.len(), 2);
    assert_eq!(
        out.body,
        json!({"planets": {"details": [[d(200), d(200)]], "result": [[yavin(), tatooine()]]}})
    );
    let (out, calls) = Run::new().go_with("from hero with id = [[1,2],[3]]", |r| {
        ok(json!({"url": r.url}))
    });
    assert_eq!(calls.len(), 3);
    assert_eq!(
        out.body.to_json()["hero"],
        json!({"details": [[d(200), d(200)], [d(200)]],
            "result": [[{"url": "http://u/hero/1"}, {"url": "http://u/hero/2"}], [{"url": "http://u/hero/3"}]]})
    );
}

#[test]
fn rt07_several_lists_are_zipped() {
    let (out, calls) = Run::new()
        .go_with(r#"from hero with id = [1,2], name = ["a","b","c"]"#, |_| {
            ok(json!({}))
        });
    assert_eq!(
        lines(&calls),
        ["GET http://u/hero/1?name=a", "GET http://u/hero/2?name=b"]
    );
    assert_eq!(out.status, 200);
    assert_eq!(
        out.body.to_json()["hero"]["details"],
        json!([d(200), d(200)])
    );

    let (_, calls) = Run::new().go_with(
        "from hero with x = [1,2] -> no-multiplex, y = [3,4]",
        |_| ok(json!({})),
    );
    assert_eq!(
        lines(&calls),
        [
            "GET http://u/hero/?x=1&x=2&y=3",
            "GET http://u/hero/?x=1&x=2&y=4"
        ]
    );
}

#[test]
fn zero_length_zip_does_not_hang() {
    // restQL never finishes (408 with `use timeout`, a hang without): no call, empty details.
    let (out, calls) = Run::new().go(
        "use timeout 2000\nfrom hero with id = [1,2], name = []",
        &[],
    );
    assert!(calls.is_empty());
    assert_eq!(out.status, 200);
    assert_eq!(out.body, json!({"hero": {"details": []}}));
}

#[test]
fn empty_list_param_does_not_hang() {
    let (out, calls) = Run::new().go(
        "from hero with id = []\nfrom sidekick with id = 1",
        &[("GET http://u/sidekick/1", ok(json!({"id": 1})))],
    );
    assert_eq!(lines(&calls), ["GET http://u/sidekick/1"]);
    assert_eq!(out.status, 200);
    assert_eq!(
        out.body,
        json!({"hero": {"details": []}, "sidekick": {"details": d(200), "result": {"id": 1}}})
    );
}

#[test]
fn rt08_list_from_a_chain() {
    let (out, calls) = Run::new().go(
        "from planets with id = 1\nfrom people with id = planets.residents",
        &[
            (
                "GET http://u/api/planets/1",
                ok(json!({"residents": [1, 2]})),
            ),
            ("GET http://u/api/people/1", ok(json!({"name": "john"}))),
            ("GET http://u/api/people/2", ok(json!({"name": "janne"}))),
        ],
    );
    assert_eq!(
        lines(&calls),
        [
            "GET http://u/api/planets/1",
            "GET http://u/api/people/1",
            "GET http://u/api/people/2"
        ]
    );
    assert_eq!(out.status, 200);
    assert_eq!(out.body.to_json()["planets"]["details"], d(200));
    assert_eq!(
        out.body.to_json()["people"]["details"],
        json!([d(200), d(200)])
    );
    assert_eq!(
        out.body.to_json()["people"]["result"],
        json!([{"name": "john"}, {"name": "janne"}])
    );

    let (_, calls) = Run::new().go(
        "from planets with id = 1\nfrom people with id = planets.residents.id",
        &[(
            "GET http://u/api/planets/1",
            ok(json!({"residents": [{"id": 1}, {"id": 2}]})),
        )],
    );
    assert_eq!(
        lines(&calls)[1..],
        ["GET http://u/api/people/1", "GET http://u/api/people/2"]
    );

    let (out, calls) = Run::new().go(
        "from planets with id = 1\nfrom people with id = planets.residents.tags",
        &[(
            "GET http://u/api/planets/1",
            ok(json!({"residents": [{"tags": ["a", "b"]}, {"tags": ["c"]}]})),
        )],
    );
    assert_eq!(
        lines(&calls)[1..],
        [
            "GET http://u/api/people/a",
            "GET http://u/api/people/b",
            "GET http://u/api/people/c"
        ]
    );
    assert_eq!(
        out.body.to_json()["people"]["details"],
        json!([[d(404), d(404)], [d(404)]])
    );
}

#[test]
fn rt09_no_multiplex_on_a_chained_list() {
    let planets = (
        "GET http://u/api/planets/1",
        ok(json!({"residents": ["john", "janne"]})),
    );
    let (out, calls) = Run::new().go(
        "from planets with id = 1\nfrom people with name = planets.residents -> no-multiplex",
        std::slice::from_ref(&planets),
    );
    assert_eq!(
        lines(&calls)[1..],
        ["GET http://u/api/people/?name=john&name=janne"]
    );
    assert_eq!(out.body.to_json()["people"]["details"], d(404));

    let tags = (
        "GET http://u/api/planets/1",
        ok(json!({"residents": [{"tags": ["a", "b"]}, {"tags": ["c"]}]})),
    );
    let (_, calls) = Run::new().go(
        "from planets with id = 1\nfrom people with t = planets.residents.tags -> no-multiplex",
        std::slice::from_ref(&tags),
    );
    assert_eq!(lines(&calls)[1..], ["GET http://u/api/people/?t=a&t=b&t=c"]);
    let (_, calls) = Run::new().go(
        "from planets with id = 1\nfrom people with t = planets.residents.tags -> flatten",
        &[tags],
    );
    assert_eq!(
        lines(&calls)[1..],
        [
            "GET http://u/api/people/?t=a",
            "GET http://u/api/people/?t=b",
            "GET http://u/api/people/?t=c"
        ]
    );
}

#[test]
fn rt10_list_inside_an_object_parameter() {
    let planets = (
        "GET http://u/api/planets/1",
        ok(json!({"residents": ["john", "janne"]})),
    );
    let (out, calls) = Run::new().go(
        "from planets with id = 1\nfrom people with profile = { name: planets.residents }",
        std::slice::from_ref(&planets),
    );
    assert_eq!(
        lines(&calls)[1..],
        [
            "GET http://u/api/people/?profile=%7B%22name%22%3A%22john%22%7D",
            "GET http://u/api/people/?profile=%7B%22name%22%3A%22janne%22%7D"
        ]
    );
    assert_eq!(
        out.body.to_json()["people"]["details"],
        json!([d(404), d(404)])
    );

    let (_, calls) = Run::new().go(
        "from planets with id = 1\nfrom people with profile = { name: planets.residents } -> no-multiplex",
        &[planets],
    );
    assert_eq!(
        lines(&calls)[1..],
        [
            "GET http://u/api/people/?profile=%7B%22name%22%3A%22john%22%7D&profile=%7B%22name%22%3A%22janne%22%7D"
        ]
    );

    let (_, calls) = Run::new().go(
        r#"to hero with profiles = {cities: ["Gotham","Metropoles"]}"#,
        &[],
    );
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0].json_body(),
        json!({"profiles": {"cities": "Gotham"}})
    );
    assert_eq!(
        calls[1].json_body(),
        json!({"profiles": {"cities": "Metropoles"}})
    );
}

#[test]
fn rt11_explosion_inside_a_no_multiplex_list() {
    let q = r#"to people with profiles = [{homeworld: "Yavin", friends: ["mark","janne"]}, {homeworld: "Yavin", friends: ["john","anne"]}] -> no-multiplex"#;
    let (_, calls) = Run::new().go(q, &[]);
    assert_eq!(lines(&calls), ["POST http://u/api/people/"]);
    assert_eq!(
        calls[0].json_body(),
        json!({"profiles": [
            [{"homeworld": "Yavin", "friends": "mark"}, {"homeworld": "Yavin", "friends": "janne"}],
            [{"homeworld": "Yavin", "friends": "john"}, {"homeworld": "Yavin", "friends": "anne"}]]})
    );
    let q = r#"to people with profiles = [{homeworld: "Yavin", friends: ["mark","janne"]}] -> no-explode -> no-multiplex"#;
    let (_, calls) = Run::new().go(q, &[]);
    assert_eq!(
        calls[0].json_body(),
        json!({"profiles": [{"homeworld": "Yavin", "friends": ["mark", "janne"]}]})
    );
    let (_, calls) = Run::new().go("to hero with x = {a:[1,2], b:[3,4,5]} -> no-multiplex", &[]);
    assert_eq!(
        calls[0].json_body(),
        json!({"x": [{"a": 1, "b": 3}, {"a": 2, "b": 4}]})
    );
}

#[test]
fn rt12_multiplexed_dynamic_body_zipped_with_a_path_list() {
    let yavin_json = r#"{"name":"Yavin"}"#;
    let tatooine_json = r#"{"name":"Tatooine"}"#;
    let (out, calls) = Run::new()
        .var("planet", json!([yavin_json, tatooine_json]))
        .go_with(
            r#"to planets with $planet, id = ["Yavin","Tatooine"]"#,
            |_| Reply::json(201, json!({})),
        );
    assert_eq!(
        lines(&calls),
        [
            "POST http://u/api/planets/Yavin",
            "POST http://u/api/planets/Tatooine"
        ]
    );
    assert_eq!(calls[0].json_body(), yavin());
    assert_eq!(calls[1].json_body(), tatooine());
    assert_eq!(out.status, 200);
    assert_eq!(
        out.body.to_json()["planets"]["details"],
        json!([d(201), d(201)])
    );

    let (_, calls) = Run::new()
        .var("planet", json!([yavin_json, tatooine_json]))
        .go_with("to planets with $planet", |_| Reply::json(201, json!({})));
    assert_eq!(
        lines(&calls),
        ["POST http://u/api/planets/", "POST http://u/api/planets/"]
    );
    assert_eq!(calls[1].json_body(), tatooine());

    let (_, calls) = Run::new()
        .var("planet", json!([yavin_json, tatooine_json]))
        .go_with("to planets with $planet -> no-multiplex", |_| {
            Reply::json(201, json!({}))
        });
    assert_eq!(lines(&calls), ["POST http://u/api/planets/"]);
    assert_eq!(calls[0].json_body(), json!([yavin(), tatooine()]));
}

// ---- C. Functions -----------------------------------------------------------------------------

#[test]
fn rt13_encoders() {
    let (_, calls) = Run::new().go(
        r#"from planets with name = "Yavin IV" -> base64, population = 1000, leaders = [["King","Queen"],["Governor"]] -> flatten -> no-multiplex, residents = ["john","janne"] -> json"#,
        &[],
    );
    assert_eq!(
        lines(&calls),
        [
            "GET http://u/api/planets/?name=WWF2aW4gSVY%3D&population=1000&leaders=King&leaders=Queen&leaders=Governor&residents=%5B%22john%22%2C%22janne%22%5D"
        ]
    );
    // Deviation: base64 of an object encodes its JSON (restQL encodes Go's `map[k:v]`).
    let (_, calls) = Run::new().go(
        r#"from hero with c = {k: "v"} -> base64, d = {k: "v"} -> json -> base64, f = "s" -> json"#,
        &[],
    );
    assert_eq!(
        lines(&calls),
        ["GET http://u/hero/?c=eyJrIjoidiJ9&d=eyJrIjoidiJ9&f=%22s%22"]
    );
    let (_, calls) = Run::new()
        .var("planet", json!({"name": "Yavin"}))
        .go("to planets with $planet -> base64", &[]);
    assert_eq!(
        calls[0].request.body.as_deref(),
        Some("eyJuYW1lIjoiWWF2aW4ifQ==")
    );
}

#[test]
fn rt14_as_body_and_as_query() {
    let (out, calls) = Run::new().go(
        r#"to planets with body = [{"north":"jungle","south":"rainforests"}] -> as-body, id = 1"#,
        &[("POST http://u/api/planets/1", Reply::json(201, json!({})))],
    );
    assert_eq!(lines(&calls), ["POST http://u/api/planets/1"]);
    assert_eq!(
        calls[0].json_body(),
        json!([{"north": "jungle", "south": "rainforests"}])
    );
    assert_eq!(out.status, 200);

    let (_, calls) = Run::new().go(
        r#"to hero with id = 4, ctx = "c" -> as-query, tags = ["t1","t2"] -> as-query"#,
        &[],
    );
    assert_eq!(
        lines(&calls),
        [
            "POST http://u/hero/4?ctx=c&tags=t1",
            "POST http://u/hero/4?ctx=c&tags=t2"
        ]
    );
    assert_eq!(calls[0].json_body(), json!({}));

    let (_, calls) = Run::new().go(
        r#"to hero with ctx = ["t1","t2"] -> as-query -> no-multiplex"#,
        &[],
    );
    assert_eq!(lines(&calls), ["POST http://u/hero/?ctx=t1&ctx=t2"]);
    // Fixed: restQL drops the param when `no-multiplex` comes before `as-query`.
    let (_, calls) = Run::new().go(
        r#"to hero with ctx = ["t1","t2"] -> no-multiplex -> as-query"#,
        &[],
    );
    assert_eq!(lines(&calls), ["POST http://u/hero/?ctx=t1&ctx=t2"]);

    let (_, calls) = Run::new().go("from hero with a = [{x: 1}] -> as-body", &[]);
    assert_eq!(lines(&calls), ["GET http://u/hero/"]);
}

#[test]
fn rt15_json_looking_strings_in_bodies() {
    let (_, calls) = Run::new().go(
        r#"to hero with n = "123", b = "true", s = "abc", q = "[1,2]""#,
        &[],
    );
    assert_eq!(
        calls[0].json_body(),
        json!({"n": 123, "b": true, "s": "abc", "q": [1, 2]})
    );
}

// ---- D. Chains and dependencies ---------------------------------------------------------------

#[test]
fn rt16_simple_chain() {
    let planets = (
        "GET http://u/api/planets/?name=Yavin",
        ok(json!({"leader": "Yavin King"})).after(10),
    );
    let (out, calls) = Run::new().go(
        r#"from planets with name = "Yavin"
from people with name = planets.leader"#,
        &[
            planets.clone(),
            (
                "GET http://u/api/people/?name=Yavin+King",
                ok(json!({"n": 1})),
            ),
        ],
    );
    assert_eq!(
        lines(&calls),
        [
            "GET http://u/api/planets/?name=Yavin",
            "GET http://u/api/people/?name=Yavin+King"
        ]
    );
    assert_eq!(
        (calls[0].at_ms, calls[1].at_ms),
        (0, 10),
        "people waits for planets"
    );
    assert_eq!(out.status, 200);
    assert_eq!(
        out.body,
        json!({"planets": {"details": d(200), "result": {"leader": "Yavin King"}},
            "people": {"details": d(200), "result": {"n": 1}}})
    );

    let (_, calls) = Run::new().go(
        "from planets with name = \"Yavin\"\nto people with name = planets.leader",
        std::slice::from_ref(&planets),
    );
    assert_eq!(lines(&calls)[1], "POST http://u/api/people/");
    assert_eq!(calls[1].json_body(), json!({"name": "Yavin King"}));
    let (_, calls) = Run::new().go(
        "from planets with name = \"Yavin\"\ndelete people with id = planets.leader",
        &[planets],
    );
    assert_eq!(lines(&calls)[1], "DELETE http://u/api/people/Yavin%20King");
}

const SKIPPED_NAME: &str = "The request was skipped due to missing { :name } param value";

#[test]
fn rt17_chain_interruption_on_failure() {
    let failing = [("GET http://u/api/planets/", Reply::json(500, json!({})))];
    let (out, calls) = Run::new().go(
        "from planets\nfrom people with name = planets.leader",
        &failing,
    );
    assert_eq!(lines(&calls), ["GET http://u/api/planets/"]);
    assert_eq!(out.status, 500);
    assert_eq!(out.cache_control, None);
    assert_eq!(
        out.body,
        json!({"planets": {"details": d(500), "result": {}},
            "people": {"details": d(400), "result": SKIPPED_NAME}})
    );

    let (out, _) = Run::new().go(
        "from planets\nfrom people with name = planets.leader ignore-errors",
        &failing,
    );
    assert_eq!(out.body.to_json()["people"]["details"], di(400));
    assert_eq!(out.status, 500);

    let (out, _) = Run::new().go(
        "from planets ignore-errors\nfrom people with name = planets.leader",
        &failing,
    );
    assert_eq!(out.status, 400, "the skip counts");

    let (out, calls) = Run::new().go(
        "from planets timeout 100\nfrom people with name = planets.leader",
        &[(
            "GET http://u/api/planets/",
            ok(json!({"leader": "x"})).after(400),
        )],
    );
    assert_eq!(calls.len(), 1);
    assert_eq!(out.status, 408);
    assert_eq!(
        out.body,
        json!({"planets": {"details": d(408), "result": "request timed out"},
            "people": {"details": d(400), "result": SKIPPED_NAME}})
    );
}

#[test]
fn rt18_chain_to_missing_field_non_json_and_headers() {
    let planets = (
        "GET http://u/api/planets/",
        ok(json!({"leader": "Yavin King"})),
    );
    let (out, calls) = Run::new().debug().go(
        "from planets\nfrom people with name = planets.leader, foo = planets.foo",
        &[planets],
    );
    assert_eq!(lines(&calls)[1], "GET http://u/api/people/?name=Yavin+King");
    assert_eq!(
        out.body.to_json()["people"]["details"]["debug"]["params"],
        json!({"name": "Yavin King"})
    );

    let (out, calls) = Run::new().go(
        "from planets\nfrom people with name = planets.leader",
        &[("GET http://u/api/planets/", Reply::text(200, "<planet/>"))],
    );
    assert_eq!(lines(&calls)[1], "GET http://u/api/people/");
    assert_eq!(out.body.to_json()["planets"]["result"], json!("<planet/>"));

    let (out, calls) = Run::new().go(
        "from planets\nfrom people with name = planets.leader",
        &[("GET http://u/api/planets/", Reply::text(200, ""))],
    );
    assert_eq!(lines(&calls)[1], "GET http://u/api/people/");
    assert_eq!(out.body.to_json()["planets"], json!({"details": d(200)}));

    let (_, calls) = Run::new().go(
        "from planets\nfrom people with name = planets.Location",
        &[(
            "GET http://u/api/planets/",
            ok(json!({"x": 1})).header("Location", "/x/9"),
        )],
    );
    assert_eq!(lines(&calls)[1], "GET http://u/api/people/?name=%2Fx%2F9");
}

#[test]
fn missing_chain_value_never_reaches_the_path() {
    // restQL calls `/api/people/%5Bplanets%20missing%20field%5D` and `/sidekick/%3Cnil%3E`.
    let (out, calls) = Run::new().go(
        "from planets\nfrom people with id = planets.missing",
        &[("GET http://u/api/planets/", ok(json!({"x": 1})))],
    );
    assert_eq!(lines(&calls), ["GET http://u/api/planets/"]);
    assert_eq!(out.status, 400);
    assert_eq!(
        out.body.to_json()["people"],
        json!({"details": d(400),
            "result": "The request was skipped due to missing { :id } param value"})
    );

    let (out, calls) = Run::new().go(
        "from hero\nfrom sidekick with id = hero.layers.dataset",
        &[
            (
                "GET http://u/hero/",
                ok(json!({"layers": [{"dataset": "loc"}, {"name": "x"}]})),
            ),
            ("GET http://u/sidekick/loc", ok(json!({"ok": 1}))),
        ],
    );
    assert_eq!(
        lines(&calls),
        ["GET http://u/hero/", "GET http://u/sidekick/loc"]
    );
    assert_eq!(
        out.body.to_json()["sidekick"]["details"],
        json!([d(200), d(400)])
    );
}

#[test]
fn rt19_chain_with_path_variable() {
    let (_, calls) = Run::new().var("direction", json!("north")).go(
        "from planets\nfrom people with name = planets.leader, favoriteLandscape = planets.terrain[$direction]",
        &[(
            "GET http://u/api/planets/",
            ok(json!({"leader": "Yavin King", "terrain": {"north": "jungle", "south": "r"}})),
        )],
    );
    assert_eq!(
        lines(&calls)[1],
        "GET http://u/api/people/?name=Yavin+King&favoriteLandscape=jungle"
    );
}

#[test]
fn rt20_whole_result_reference() {
    let hero = json!({"id": 1, "name": "Batman"});
    let (_, calls) = Run::new().go(
        "from hero with id = 1\nto sidekick with x = hero, y = [hero, hero] -> no-multiplex",
        &[("GET http://u/hero/1", ok(hero.clone()))],
    );
    assert_eq!(lines(&calls)[1], "POST http://u/sidekick/");
    assert_eq!(calls[1].json_body(), json!({"x": hero, "y": [hero, hero]}));
}

#[test]
fn rt21_depends_on() {
    let (out, calls) = Run::new().go(
        "from planets as first with id = 1\nfrom planets as second depends-on first with id = 2",
        &[
            ("GET http://u/api/planets/1", ok(yavin()).after(30)),
            ("GET http://u/api/planets/2", ok(tatooine())),
        ],
    );
    assert_eq!(
        lines(&calls),
        ["GET http://u/api/planets/1", "GET http://u/api/planets/2"]
    );
    assert_eq!(calls[1].at_ms, 30);
    assert_eq!(out.status, 200);

    let slow = [("GET http://u/api/planets/1", ok(yavin()).after(500))];
    let (out, calls) = Run::new().go(
        "from planets as first timeout 100 with id = 1\nfrom planets as second depends-on first with id = 2",
        &slow,
    );
    assert_eq!(calls.len(), 1);
    assert_eq!(out.status, 408);
    assert_eq!(
        out.body.to_json()["second"],
        json!({"details": d(400), "result": "The request was skipped due to unresolved dependency { first }"})
    );

    let (out, calls) = Run::new().go(
        "from planets as first timeout 100 with id = 1 ignore-errors\nfrom planets as second depends-on first with id = 2",
        &[
            slow[0].clone(),
            ("GET http://u/api/planets/2", ok(tatooine())),
        ],
    );
    assert_eq!(calls.len(), 2);
    assert_eq!(out.body.to_json()["first"]["details"], di(408));
    assert_eq!(out.status, 200);

    let (_, calls) = Run::new().go_with(
        "from planets as first with id = [1,2,3]\nfrom planets as second depends-on first with id = 9",
        |r| {
            let ms = if r.url.ends_with("/3") { 50 } else { 10 };
            if r.url.ends_with("/9") { ok(json!({})) } else { Reply::json(500, json!({})).after(ms) }
        },
    );
    // Every target item failed: skipped. Waited for all three first.
    assert_eq!(calls.len(), 3);

    let (out, calls) = Run::new().go_with(
        "from planets as first with id = [1,2,3]\nfrom planets as second depends-on first with id = 9",
        |r| {
            if r.url.ends_with("/3") {
                ok(json!({})).after(50)
            } else {
                Reply::json(500, json!({})).after(10)
            }
        },
    );
    assert_eq!(calls.len(), 4, "one target item succeeded");
    assert_eq!(calls[3].at_ms, 50);
    assert_eq!(out.status, 500);

    let (out, calls) = Run::new().go(
        "from hero\nfrom sidekick depends-on hero\nfrom villain depends-on sidekick",
        &[("GET http://u/hero/", Reply::json(503, json!({})))],
    );
    assert_eq!(calls.len(), 1);
    assert_eq!(out.status, 503);
    assert_eq!(out.body.to_json()["villain"]["details"], d(400));
}

// ---- E. Status codes, errors, timeouts --------------------------------------------------------

#[test]
fn rt22_max_status_and_ignore_errors() {
    let (out, _) = Run::new().go(
        "from planets as yavin with id = 1\nfrom planets as tatooine with id = 2\nfrom planets as alderaan with id = 3 ignore-errors",
        &[
            ("GET http://u/api/planets/1", Reply::json(404, json!({"e": 1}))),
            ("GET http://u/api/planets/2", Reply::json(500, json!({"e": 2}))),
            ("GET http://u/api/planets/3", Reply::json(503, json!({"e": 3}))),
        ],
    );
    assert_eq!(out.status, 500);
    assert_eq!(
        out.body,
        json!({"yavin": {"details": d(404), "result": {"e": 1}},
            "tatooine": {"details": d(500), "result": {"e": 2}},
            "alderaan": {"details": di(503), "result": {"e": 3}}})
    );
}

#[test]
fn rt23_normalisation() {
    let (out, _) = Run::new().go(
        "from planets with id = 3",
        &[("GET http://u/api/planets/3", Reply::text(204, ""))],
    );
    assert_eq!(out.status, 200);
    assert_eq!(out.body, json!({"planets": {"details": d(204)}}));
    let (out, _) = Run::new().go(
        "to planets\nfrom hero",
        &[
            ("POST http://u/api/planets/", Reply::json(201, json!({}))),
            ("GET http://u/hero/", Reply::json(302, json!({}))),
        ],
    );
    assert_eq!(out.status, 302);
}

#[test]
fn connection_error_is_reported_as_502() {
    // restQL reports status 200 with success false, which hides the failure.
    let (out, _) = Run::new().go_with("from hero", |_| {
        Reply::error(TransportError::Connection("connection refused".into()))
    });
    assert_eq!(out.status, 502);
    assert_eq!(
        out.body,
        json!({"hero": {"details": d(502), "result": "connection error: connection refused"}})
    );
}

#[test]
fn rt24_statement_timeout() {
    let slow = ("GET http://u/api/planets/", ok(json!({})).after(200));
    let (out, _) = Run::new().go("from planets timeout 100", std::slice::from_ref(&slow));
    assert_eq!(out.status, 408);
    assert_eq!(
        out.body,
        json!({"planets": {"details": d(408), "result": "request timed out"}})
    );
    let (out, _) = Run::new().go(
        "from planets timeout 100 ignore-errors\nfrom hero",
        &[slow, ("GET http://u/hero/", ok(json!({})))],
    );
    assert_eq!(out.status, 200);
    let (out, _) = Run::new().go(
        "from planets timeout 100 with id = [1,2]",
        &[
            ("GET http://u/api/planets/1", ok(json!({})).after(200)),
            ("GET http://u/api/planets/2", ok(yavin())),
        ],
    );
    assert_eq!(out.status, 408);
    assert_eq!(
        out.body.to_json()["planets"],
        json!({"details": [d(408), d(200)], "result": ["request timed out", yavin()]})
    );
}

#[test]
fn rt25_query_timeout() {
    let (out, calls) = Run::new().go(
        "use timeout 500\nfrom planets\nfrom people with name = planets.leader",
        &[
            (
                "GET http://u/api/planets/",
                ok(json!({"leader": "x"})).after(300),
            ),
            ("GET http://u/api/people/?name=x", ok(json!({})).after(400)),
        ],
    );
    assert_eq!(calls.len(), 2);
    assert_eq!(out.status, 408);
    assert_eq!(out.body, json!({"error": "timeout: query timed out"}));
    assert_eq!(out.error.map(|e| e.code.as_str()), Some("query-timeout"));
}

#[test]
fn query_has_a_default_deadline() {
    // restQL arms no deadline without `use timeout`; ours defaults to 30 s.
    let (out, _) = Run::new().go(
        "from planets timeout 60000",
        &[("GET http://u/api/planets/", ok(json!({})).after(45_000))],
    );
    assert_eq!(out.status, 408);
    assert_eq!(out.body, json!({"error": "timeout: query timed out"}));
}

#[test]
fn rt26_validation_errors() {
    let (out, calls) = Run::new().go("from planets\nfrom people with name = foo.leader", &[]);
    assert!(calls.is_empty());
    assert_eq!(out.status, 400);
    assert_eq!(
        out.error.map(|e| e.code.as_str()),
        Some("unknown-chain-target")
    );
    let (out, _) = Run::new().go("from planets depends-on nope", &[]);
    assert_eq!(out.status, 400);
    assert_eq!(
        out.error.map(|e| e.code.as_str()),
        Some("unknown-depends-on-target")
    );
    let (out, calls) = Run::new().go("from planets\nfrom nowhere", &[]);
    assert!(
        calls.is_empty(),
        "no call before the unknown resource is reported"
    );
    assert_eq!(out.status, 500);
    let error = out.error.expect("an error");
    assert_eq!(error.code.as_str(), "unknown-resource");
    assert_eq!((error.line, error.column), (2, 6));
    let (out, _) = Run::new().go("from planets with id = ,", &[]);
    assert_eq!(out.status, 400);
    assert_eq!(out.error.map(|e| e.phase.as_str()), Some("parse"));
}

#[test]
fn header_chain_to_unknown_statement_is_rejected() {
    // restQL hangs until the query timeout.
    let (out, calls) = Run::new().go("from planets headers X-TID = nope.name", &[]);
    assert!(calls.is_empty());
    assert_eq!(out.status, 400);
    assert_eq!(
        out.error.map(|e| e.code.as_str()),
        Some("unknown-chain-target")
    );
}

// ---- F. Headers, variables, debug -------------------------------------------------------------

#[test]
fn rt27_headers() {
    let (_, calls) = Run::new()
        .header("X-Custom", "98765")
        .header("Accept", "text/html")
        .header("Host", "client")
        .header("Content-Length", "3")
        .go(
            r#"from planets headers X-TID = "abcdef-12345", accept = "application/json""#,
            &[],
        );
    let c = &calls[0];
    assert_eq!(c.header("X-TID"), Some("abcdef-12345"));
    assert_eq!(c.header("X-Custom"), Some("98765"));
    assert_eq!(c.header("Accept"), Some("application/json"));
    assert_eq!(c.header("Host"), None);
    assert_eq!(c.header("Content-Length"), None);
    // Only calls with a body get a default Content-Type (a GET with one costs browsers a
    // CORS preflight); restQL adds it everywhere.
    assert_eq!(c.header("Content-Type"), None);

    let (_, calls) = Run::new()
        .var("xtid", json!("abcdef-12345"))
        .go("from planets headers X-TID = $xtid", &[]);
    assert_eq!(calls[0].header("X-TID"), Some("abcdef-12345"));

    let (_, calls) = Run::new().go(
        "from planets as first with id = 1\nfrom planets headers X-TID = first.name, X-O = first.obj with id = 2",
        &[(
            "GET http://u/api/planets/1",
            ok(json!({"name": "Yavin IV", "obj": {"token": "abc"}})).after(5),
        )],
    );
    assert_eq!(calls[1].at_ms, 5);
    assert_eq!(calls[1].header("X-TID"), Some("Yavin IV"));
    assert_eq!(calls[1].header("X-O"), Some(r#"{"token":"abc"}"#));
}

#[test]
fn rt28_variables() {
    let (_, calls) = Run::new()
        .var("name", json!("Yavin"))
        .var("residents", json!(["john", "janne"]))
        .go(
            "from planets with name = $name, residents = $residents -> no-multiplex",
            &[],
        );
    assert_eq!(
        lines(&calls),
        ["GET http://u/api/planets/?name=Yavin&residents=john&residents=janne"]
    );
    let (_, calls) = Run::new()
        .var("ids", json!(["1", "2"]))
        .go("from hero with ids = $ids", &[]);
    assert_eq!(calls.len(), 2);
    let (_, calls) = Run::new()
        .var("body", json!(r#"[{"name": "Yavin"}]"#))
        .var("climate", json!("temperate"))
        .go(
            "to planets with planets = $body -> no-multiplex, climate = $climate",
            &[],
        );
    assert_eq!(
        calls[0].json_body(),
        json!({"planets": [{"name": "Yavin"}], "climate": "temperate"})
    );
    let (_, calls) = Run::new().go("from hero with id = $nope, x = [1, $nope]", &[]);
    assert_eq!(lines(&calls), ["GET http://u/hero/?x=1"]);
}

#[test]
fn rt29_debug() {
    let (out, _) = Run::new().debug().go(
        r#"from hero with id = 1, q = "x y""#,
        &[(
            "GET http://u/hero/1?q=x+y",
            ok(json!({})).header("X-Up", "1").after(3),
        )],
    );
    assert_eq!(
        out.body.to_json()["hero"]["details"]["debug"],
        json!({"method": "GET", "url": "http://u/hero/1?q=x+y",
            "response-headers": {"X-Up": "1"},
            "params": {"q": "x y"}, "response-time": 3})
    );
}

#[test]
fn content_type_is_sent_only_with_a_body() {
    let (_, calls) = Run::new().go(
        "from hero with id = 1\nto hero as saved with name = \"x\"\ndelete hero as gone with id = 2",
        &[],
    );
    let content_type = |method: &str| {
        calls
            .iter()
            .find(|c| c.request.method == method)
            .map(|c| c.header("Content-Type"))
    };
    assert_eq!(content_type("GET"), Some(None));
    assert_eq!(content_type("DELETE"), Some(None));
    assert_eq!(content_type("POST"), Some(Some("application/json")));
}

// ---- G. only / hidden / in --------------------------------------------------------------------

#[test]
fn rt30_only_with_nested_path_and_matches() {
    let body = json!({"id": 1, "name": "Yavin IV", "gravity": "1 standard", "x": 0,
        "terrain": {"north": "jungle", "south": "rainforests"}, "residents": ["john", "janne", "kyle"]});
    let expected = json!({"id": 1, "name": "Yavin IV", "gravity": "1 standard",
        "terrain": {"north": "jungle"}, "residents": ["john", "janne"]});
    let (out, _) = Run::new().go(
        r#"from planets with id = 1 only id, name, gravity, terrain.north, residents -> matches("^j")"#,
        &[("GET http://u/api/planets/1", ok(body.clone()))],
    );
    assert_eq!(out.body.to_json()["planets"]["result"], expected);
    let (out, _) = Run::new().var("filter", json!("^j")).go(
        "from planets with id = 1 only id, name, gravity, terrain.north, residents -> matches($filter)",
        &[("GET http://u/api/planets/1", ok(body))],
    );
    assert_eq!(out.body.to_json()["planets"]["result"], expected);
}

#[test]
fn rt31_only_details() {
    let (out, _) = Run::new().go(
        "from hero only name",
        &[(
            "GET http://u/hero/",
            ok(json!([{"name": "Batman", "x": 1}, {"name": "Robin"}])),
        )],
    );
    assert_eq!(
        out.body.to_json()["hero"]["result"],
        json!([{"name": "Batman"}, {"name": "Robin"}])
    );
    let (out, _) = Run::new().go(
        r#"from hero only nick -> matches("^zz"), name"#,
        &[(
            "GET http://u/hero/",
            ok(json!({"nick": ["a"], "name": "b"})),
        )],
    );
    assert_eq!(out.body.to_json()["hero"]["result"], json!({"name": "b"}));
    let (out, _) = Run::new().go(
        r#"from hero only skills -> filterByRegex("name", "^f")"#,
        &[(
            "GET http://u/hero/",
            ok(json!({"skills": [{"name": "fly"}, {"name": "punch"}]})),
        )],
    );
    assert_eq!(
        out.body.to_json()["hero"]["result"],
        json!({"skills": [{"name": "fly"}]})
    );
    let (out, _) = Run::new().go(
        "from hero only missing",
        &[("GET http://u/hero/", ok(json!({"a": 1})))],
    );
    assert_eq!(out.body.to_json()["hero"]["result"], json!({}));
}

#[test]
fn rt32_hidden() {
    let (out, calls) = Run::new().go(
        "from planets with id = 1 hidden\nfrom people with name = planets.leader",
        &[(
            "GET http://u/api/planets/1",
            ok(json!({"leader": "L"})).after(1),
        )],
    );
    assert_eq!(
        lines(&calls),
        [
            "GET http://u/api/planets/1",
            "GET http://u/api/people/?name=L"
        ]
    );
    assert_eq!(out.body.to_json().as_object().map(|o| o.len()), Some(1));
    assert!(out.body.to_json().get("people").is_some());

    let (out, _) = Run::new().go("from hero hidden", &[]);
    assert_eq!(out.status, 200);
    assert_eq!(out.body, json!({}));

    let (out, _) = Run::new().go(
        "from hero hidden\nfrom sidekick",
        &[
            (
                "GET http://u/hero/",
                ok(json!({})).header("Cache-Control", "no-cache"),
            ),
            (
                "GET http://u/sidekick/",
                ok(json!({})).header("Cache-Control", "max-age=60"),
            ),
        ],
    );
    assert_eq!(out.cache_control.as_deref(), Some("max-age=60"));
}

#[test]
fn rt33_in() {
    let routes = [
        (
            "GET http://u/api/planets/Yavin",
            ok(json!({"name": "Yavin", "satellites": ["Havoc"]})),
        ),
        (
            "GET http://u/api/planets/Havoc",
            ok(json!({"name": "Havoc", "size": 1})),
        ),
    ];
    let (out, calls) = Run::new().go(
        "from planets with id = \"Yavin\"\nfrom planets as sats in planets.sats with id = planets.satellites",
        &routes,
    );
    assert_eq!(calls.len(), 2);
    assert_eq!(
        out.body,
        json!({"planets": {"details": d(200), "result": {"name": "Yavin", "satellites": ["Havoc"],
            "sats": [{"name": "Havoc", "size": 1}]}},
            "sats": {"details": [d(200)]}})
    );
    let (out, _) = Run::new().go(
        "from planets with id = \"Yavin\"\nfrom planets as sats in planets.sats with id = planets.satellites only name",
        &routes,
    );
    assert_eq!(
        out.body.to_json()["planets"]["result"]["sats"],
        json!([{"name": "Havoc"}])
    );
    let (out, _) = Run::new().go(
        "from planets with id = \"Yavin\"\nfrom planets as sats in planets.sats with id = planets.satellites hidden",
        &routes,
    );
    assert_eq!(
        out.body.to_json()["planets"]["result"]["sats"],
        json!([{"name": "Havoc", "size": 1}])
    );
    assert!(out.body.to_json().get("sats").is_none());

    let (out, _) = Run::new().go(
        "from hero\nfrom sidekick in hero.sidekick",
        &[
            (
                "GET http://u/hero/",
                ok(json!({"sidekick": {"old": true, "name": "x"}})),
            ),
            (
                "GET http://u/sidekick/",
                ok(json!({"id": 10, "name": "Robin"})),
            ),
        ],
    );
    assert_eq!(
        out.body.to_json()["hero"]["result"],
        json!({"sidekick": {"old": true, "name": "Robin", "id": 10}})
    );
    let (out, _) = Run::new().go(
        "from hero with id = [1, 2]\nfrom sidekick in hero.sidekick with id = hero.sk",
        &[
            ("GET http://u/hero/1", ok(json!({"id": 1, "sk": 5}))),
            ("GET http://u/hero/2", ok(json!({"id": 2, "sk": 6}))),
            ("GET http://u/sidekick/5", ok(json!({"n": 5}))),
            ("GET http://u/sidekick/6", ok(json!({"n": 6}))),
        ],
    );
    assert_eq!(
        out.body.to_json()["hero"]["result"],
        json!([{"id": 1, "sk": 5, "sidekick": {"n": 5}}, {"id": 2, "sk": 6, "sidekick": {"n": 6}}])
    );
}

// ---- H. Cache-Control -------------------------------------------------------------------------

fn cache_of(query: &str, routes: &[(&str, Reply)]) -> Option<String> {
    Run::new().go(query, routes).0.cache_control
}

#[test]
fn rt34_minimum_rule() {
    let plain = [("GET http://u/api/planets/Yavin", ok(json!({})))];
    assert_eq!(
        cache_of("use max-age 60\nfrom planets with id = \"Yavin\"", &plain).as_deref(),
        Some("max-age=60")
    );
    assert_eq!(
        cache_of("from planets max-age 60 with id = \"Yavin\"", &plain).as_deref(),
        Some("max-age=60")
    );
    let with = |cc: &str| {
        [(
            "GET http://u/api/planets/Yavin",
            ok(json!({})).header("Cache-Control", cc),
        )]
    };
    let q = "use max-age 80\nfrom planets max-age 40 with id = \"Yavin\"";
    assert_eq!(cache_of(q, &plain).as_deref(), Some("max-age=40"));
    assert_eq!(
        cache_of(q, &with("max-age=10")).as_deref(),
        Some("max-age=10")
    );
    assert_eq!(cache_of(q, &with("no-cache")).as_deref(), Some("no-cache"));
}

#[test]
fn rt35_combination_details() {
    let routes = |a: &str, b: &str| {
        [
            (
                "GET http://u/hero/",
                ok(json!({})).header("Cache-Control", a),
            ),
            (
                "GET http://u/sidekick/",
                ok(json!({})).header("cache-control", b),
            ),
        ]
    };
    assert_eq!(
        cache_of(
            "from hero\nfrom sidekick",
            &routes("max-age=60", "max-age=30, s-maxage=100, private")
        )
        .as_deref(),
        Some("max-age=30, s-maxage=100")
    );
    let hero = |cc: &str| {
        [(
            "GET http://u/hero/",
            ok(json!({})).header("Cache-Control", cc),
        )]
    };
    assert_eq!(
        cache_of("from hero as a max-age 10", &hero("max-age=60")).as_deref(),
        Some("max-age=10")
    );
    assert_eq!(
        cache_of("from hero as a max-age 100", &hero("max-age=60")).as_deref(),
        Some("max-age=60")
    );
    assert_eq!(
        cache_of(
            "from hero as c max-age 10 s-max-age 20",
            &[("GET http://u/hero/", ok(json!({})))]
        )
        .as_deref(),
        Some("max-age=10, s-maxage=20")
    );
    assert_eq!(
        cache_of(
            "use s-max-age 5\nfrom hero",
            &hero("max-age=30, s-maxage=100")
        )
        .as_deref(),
        Some("max-age=30, s-maxage=5")
    );
    assert_eq!(
        cache_of(
            "use max-age 10\nfrom hero max-age 40\nfrom sidekick max-age 50",
            &routes("max-age=60", "max-age=30")
        )
        .as_deref(),
        Some("max-age=30")
    );
    assert_eq!(
        cache_of(
            "use max-age 100\nuse s-max-age 7\nfrom hero s-max-age 9",
            &[("GET http://u/hero/", ok(json!({})))]
        )
        .as_deref(),
        Some("max-age=100, s-maxage=9")
    );
    // Recommended fix: no Cache-Control on an error response.
    assert_eq!(
        cache_of(
            "from hero",
            &[(
                "GET http://u/hero/",
                Reply::json(500, json!({})).header("Cache-Control", "max-age=5")
            )]
        ),
        None
    );
}

#[test]
fn cache_control_is_stable_across_runs() {
    // restQL's merge depends on Go map order when a statement has no directive.
    for _ in 0..20 {
        assert_eq!(
            cache_of(
                "from hero\nfrom sidekick\nfrom villain",
                &[
                    (
                        "GET http://u/hero/",
                        ok(json!({})).header("Cache-Control", "max-age=60")
                    ),
                    ("GET http://u/sidekick/", ok(json!({}))),
                    ("GET http://u/villain/", ok(json!({}))),
                ]
            )
            .as_deref(),
            Some("max-age=60")
        );
    }
}

#[test]
fn response_headers_of_single_successful_statements_are_copied() {
    let (out, _) = Run::new().go(
        "from hero\nfrom sidekick with id = [1]",
        &[
            (
                "GET http://u/hero/",
                ok(json!({})).header("Location", "/h/1"),
            ),
            (
                "GET http://u/sidekick/1",
                ok(json!({})).header("Location", "/s/1"),
            ),
        ],
    );
    assert!(
        out.headers
            .contains(&("hero-Location".into(), "/h/1".into()))
    );
    assert!(!out.headers.iter().any(|(k, _)| k.starts_with("sidekick-")));
}

// ---- I. Identifiers ---------------------------------------------------------------------------

#[test]
fn rt36_duplicate_identifiers_are_rejected() {
    // restQL silently runs only the last one; validation reports it instead.
    let (out, calls) = Run::new().go("from hero with id = 1\nfrom hero with id = 2", &[]);
    assert!(calls.is_empty());
    assert_eq!(out.status, 400);
    assert_eq!(
        out.error.map(|e| e.code.as_str()),
        Some("duplicate-identifier")
    );
}

// ---- Dedupe and limits ------------------------------------------------------------------------

#[test]
fn identical_requests_go_out_once() {
    let (out, calls) = Run::new().go(
        "from hero with id = [1, 2, 1, 1]\nfrom hero as again with id = 2",
        &[
            ("GET http://u/hero/1", ok(json!({"id": 1})).after(10)),
            ("GET http://u/hero/2", ok(json!({"id": 2})).after(10)),
        ],
    );
    assert_eq!(
        sorted_lines(&calls),
        ["GET http://u/hero/1", "GET http://u/hero/2"]
    );
    assert_eq!(out.stats.calls, 2);
    assert_eq!(out.stats.deduped, 3);
    assert_eq!(
        out.body.to_json()["hero"]["result"],
        json!([{"id": 1}, {"id": 2}, {"id": 1}, {"id": 1}])
    );
    assert_eq!(out.body.to_json()["again"]["result"], json!({"id": 2}));
}

#[test]
fn later_statements_reuse_answers_already_received() {
    let (out, calls) = Run::new().go(
        "from hero with id = 1\nfrom sidekick with id = hero.id\nfrom hero as h2 depends-on sidekick with id = 1",
        &[
            ("GET http://u/hero/1", ok(json!({"id": 1}))),
            ("GET http://u/sidekick/1", ok(json!({"s": 1}))),
        ],
    );
    assert_eq!(
        lines(&calls),
        ["GET http://u/hero/1", "GET http://u/sidekick/1"]
    );
    assert_eq!(out.body.to_json()["h2"]["result"], json!({"id": 1}));
}

#[test]
fn fan_out_beyond_the_call_limit_is_an_error() {
    let mut run = Run::new();
    run.options.max_calls = 3;
    let (out, calls) = run.go("from hero with id = [1, 2, 3, 4]", &[]);
    assert!(calls.is_empty());
    assert_eq!(out.error.map(|e| e.code.as_str()), Some("too-many-calls"));

    let mut run = Run::new();
    run.options.max_calls = 3;
    let (out, calls) = run.go(
        "from hero\nfrom sidekick with id = hero.ids",
        &[("GET http://u/hero/", ok(json!({"ids": [1, 2, 3]})))],
    );
    assert_eq!(calls.len(), 1);
    assert_eq!(out.status, 400);
    assert_eq!(out.error.map(|e| e.code.as_str()), Some("too-many-calls"));
}

#[test]
fn statements_beyond_the_limit_are_an_error() {
    let mut run = Run::new();
    run.options.max_statements = 2;
    let (out, calls) = run.go("from hero\nfrom sidekick\nfrom villain", &[]);
    assert!(calls.is_empty());
    assert_eq!(
        out.error.map(|e| e.code.as_str()),
        Some("too-many-statements")
    );
}

#[test]
fn responses_beyond_the_byte_limit_fail_the_call() {
    let mut run = Run::new();
    run.options.max_response_bytes = 10;
    let (out, _) = run.go(
        "from hero",
        &[(
            "GET http://u/hero/",
            ok(json!({"long": "xxxxxxxxxxxxxxxxxxxx"})),
        )],
    );
    assert_eq!(out.status, 502);
    assert_eq!(
        out.body.to_json()["hero"]["result"],
        json!("response-too-large: the upstream answer exceeds the limit of 10 bytes")
    );
}

#[test]
fn upstream_data_never_panics() {
    for body in [
        "{\"__proto__\": {\"a\": 1}}",
        "1e999999",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "\u{0}\u{1}binary",
        "123456789012345678901234567890",
    ] {
        let body = body.to_string();
        let (out, calls) = Run::new().go_with(
            "from hero only __proto__.a, x\nfrom sidekick with id = hero.__proto__.a",
            move |r| {
                if r.url.contains("hero") {
                    Reply::text(200, &body)
                } else {
                    ok(json!({}))
                }
            },
        );
        assert!(out.status == 200 || out.status == 400, "{}", out.status);
        assert!(!calls.is_empty());
    }
}

#[test]
fn statements_start_when_their_own_dependencies_end() {
    // Waves are the static view; at run time `fast2` does not wait for `slow`.
    let (out, calls) = Run::new().go(
        "from hero as slow\nfrom hero as fast with id = 1\nfrom sidekick as fast2 with id = fast.id\nfrom villain with id = slow.id",
        &[
            ("GET http://u/hero/", ok(json!({"id": 9})).after(100)),
            ("GET http://u/hero/1", ok(json!({"id": 2})).after(10)),
            ("GET http://u/sidekick/2", ok(json!({})).after(10)),
            ("GET http://u/villain/9", ok(json!({}))),
        ],
    );
    let started: Vec<(String, u64)> = calls.iter().map(|c| (c.line(), c.at_ms)).collect();
    assert_eq!(
        started,
        [
            ("GET http://u/hero/".to_string(), 0),
            ("GET http://u/hero/1".to_string(), 0),
            ("GET http://u/sidekick/2".to_string(), 10),
            ("GET http://u/villain/9".to_string(), 100),
        ]
    );
    assert_eq!(out.status, 200);
    assert_eq!(out.stats.duration_ms, 100);
}

#[test]
fn a_query_deadline_cancels_calls_still_in_flight() {
    let (out, calls) = Run::new().go(
        "use timeout 50\nfrom hero timeout 1000\nfrom sidekick with id = hero.id",
        &[("GET http://u/hero/", ok(json!({"id": 1})).after(500))],
    );
    assert_eq!(lines(&calls), ["GET http://u/hero/"]);
    assert_eq!(out.status, 408);
    assert_eq!(out.stats.duration_ms, 50);
}

// ---- The rest of spec §25, one test each ------------------------------------------------------

#[test]
fn no_multiplex_before_as_query_keeps_the_param() {
    let (_, calls) = Run::new().go(
        r#"to hero with ctx = ["a","b"] -> no-multiplex -> as-query"#,
        &[],
    );
    assert_eq!(lines(&calls), ["POST http://u/hero/?ctx=a&ctx=b"]);
}

#[test]
fn base64_of_an_object_encodes_its_json() {
    let (_, calls) = Run::new().go(
        r#"from hero with c = {k: "v"} -> base64, l = [1, "a"] -> base64"#,
        &[],
    );
    // base64('{"k":"v"}') and base64('[1,"a"]'); restQL encodes Go's `map[k:v]` and `[1 a]`.
    assert_eq!(
        lines(&calls),
        ["GET http://u/hero/?c=eyJrIjoidiJ9&l=WzEsImEiXQ%3D%3D"]
    );
}

#[test]
fn one_segment_in_merges_into_the_whole_result() {
    // restQL answers 500 with an empty body.
    let (out, _) = Run::new().go(
        "from hero\nfrom sidekick in hero",
        &[
            ("GET http://u/hero/", ok(json!({"a": 1}))),
            ("GET http://u/sidekick/", ok(json!({"b": 2}))),
        ],
    );
    assert_eq!(out.status, 200);
    assert_eq!(
        out.body,
        json!({"hero": {"details": d(200), "result": {"a": 1, "b": 2}},
            "sidekick": {"details": d(200)}})
    );
}

#[test]
fn json_strings_in_body_can_be_turned_off() {
    let mut run = Run::new();
    run.options.json_strings_in_body = false;
    let (_, calls) = run.go(r#"to hero with n = "123", q = "[1,2]""#, &[]);
    assert_eq!(calls[0].json_body(), json!({"n": "123", "q": "[1,2]"}));
}

#[test]
fn an_invalid_regex_literal_is_rejected_before_any_call() {
    // restQL silently filters everything out.
    let (out, calls) = Run::new().go(r#"from hero only name -> matches("([")"#, &[]);
    assert!(calls.is_empty());
    assert_eq!(out.error.map(|e| e.code.as_str()), Some("invalid-regex"));
}

#[test]
fn bodies_nobody_reads_pass_through_unchanged() {
    // Not chained, filtered or aggregated: checked, not parsed, written as they came.
    let (out, _) = Run::new().go_with("from hero", |_| {
        Reply::text(
            200,
            r#"{"n": 123456789012345678901234567890, "z": 1, "a": [1.50]}"#,
        )
    });
    assert_eq!(
        out.body.to_text(),
        r#"{"hero":{"details":{"status":200,"success":true,"metadata":{}},"result":{"n": 123456789012345678901234567890, "z": 1, "a": [1.50]}}}"#
    );
}

#[test]
fn a_shared_answer_is_parsed_for_the_statement_that_chains_from_it() {
    let (out, calls) = Run::new().go(
        "from hero with id = 1\nfrom hero as h2 with id = 1\nfrom sidekick with id = h2.sk",
        &[
            ("GET http://u/hero/1", ok(json!({"sk": 7}))),
            ("GET http://u/sidekick/7", ok(json!({"s": 1}))),
        ],
    );
    assert_eq!(
        lines(&calls),
        ["GET http://u/hero/1", "GET http://u/sidekick/7"]
    );
    assert_eq!(out.body.to_json()["hero"]["result"], json!({"sk": 7}));
    assert_eq!(out.body.to_json()["sidekick"]["result"], json!({"s": 1}));
}

// ---- Item by item: a chained fan-out's next hop starts with each item -------------------------

/// Three heroes answering at 10, 50 and 30 ms; each sidekick answers after 5 ms.
fn heroes_at_different_speeds() -> Vec<(&'static str, Reply)> {
    vec![
        ("GET http://u/hero/1", ok(json!({"sk": 11})).after(10)),
        ("GET http://u/hero/2", ok(json!({"sk": 12})).after(50)),
        ("GET http://u/hero/3", ok(json!({"sk": 13})).after(30)),
        ("GET http://u/sidekick/11", ok(json!({"v": 21})).after(5)),
        ("GET http://u/sidekick/12", ok(json!({"v": 22})).after(5)),
        ("GET http://u/sidekick/13", ok(json!({"v": 23})).after(5)),
        ("GET http://u/villain/21", ok(json!({"n": 1}))),
        ("GET http://u/villain/22", ok(json!({"n": 2}))),
        ("GET http://u/villain/23", ok(json!({"n": 3}))),
    ]
}

fn started(calls: &[RecordedCall]) -> Vec<(String, u64)> {
    let mut s: Vec<(String, u64)> = calls.iter().map(|c| (c.line(), c.at_ms)).collect();
    s.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    s
}

#[test]
fn a_chained_fan_out_starts_each_item_when_its_own_item_ends() {
    let (out, calls) = Run::new().go(
        "from hero with id = [1, 2, 3]\nfrom sidekick with id = hero.sk\nfrom villain with id = sidekick.v",
        &heroes_at_different_speeds(),
    );
    let at = |line: &str| {
        started(&calls)
            .into_iter()
            .find(|(l, _)| l == line)
            .map(|(_, t)| t)
    };
    // Each sidekick starts when its hero is there, each villain when its sidekick is.
    assert_eq!(at("GET http://u/sidekick/11"), Some(10));
    assert_eq!(at("GET http://u/sidekick/13"), Some(30));
    assert_eq!(at("GET http://u/sidekick/12"), Some(50));
    assert_eq!(at("GET http://u/villain/21"), Some(15));
    assert_eq!(at("GET http://u/villain/23"), Some(35));
    assert_eq!(at("GET http://u/villain/22"), Some(55));
    assert_eq!(calls.len(), 9);
    assert_eq!(out.stats.duration_ms, 55);
    // The answer is aligned with the heroes, as when every hop waits for the whole statement.
    let body = out.body.to_json();
    assert_eq!(
        body["sidekick"]["result"],
        json!([{"v": 21}, {"v": 22}, {"v": 23}])
    );
    assert_eq!(
        body["villain"]["result"],
        json!([{"n": 1}, {"n": 2}, {"n": 3}])
    );
    assert_eq!(body["villain"]["details"], json!([d(200), d(200), d(200)]));
    assert_eq!(out.status, 200);
}

#[test]
fn a_failed_item_skips_only_what_follows_it() {
    let mut routes = heroes_at_different_speeds();
    routes[1] = ("GET http://u/hero/2", Reply::json(503, json!({})).after(20));
    let (out, calls) = Run::new().go(
        "from hero with id = [1, 2, 3]\nfrom sidekick with id = hero.sk",
        &routes,
    );
    assert_eq!(
        started(&calls),
        [
            ("GET http://u/hero/1".to_string(), 0),
            ("GET http://u/hero/2".to_string(), 0),
            ("GET http://u/hero/3".to_string(), 0),
            ("GET http://u/sidekick/11".to_string(), 10),
            ("GET http://u/sidekick/13".to_string(), 30),
        ]
    );
    let body = out.body.to_json();
    assert_eq!(body["sidekick"]["details"], json!([d(200), d(400), d(200)]));
    assert_eq!(
        body["sidekick"]["result"][1],
        json!("The request was skipped due to missing { :id } param value")
    );
    assert_eq!(out.status, 503);
}

#[test]
fn an_item_started_late_gets_its_whole_timeout() {
    // A sleep shared from the first sidekick's start would time the last one out at 40 ms.
    let mut routes = heroes_at_different_speeds();
    routes[4] = ("GET http://u/sidekick/11", ok(json!({"v": 21})).after(25));
    routes[5] = ("GET http://u/sidekick/12", ok(json!({"v": 22})).after(25));
    routes[6] = ("GET http://u/sidekick/13", ok(json!({"v": 23})).after(25));
    let (out, _) = Run::new().go(
        "from hero with id = [1, 2, 3]\nfrom sidekick timeout 30 with id = hero.sk",
        &routes,
    );
    assert_eq!(
        out.body.to_json()["sidekick"]["details"],
        json!([d(200), d(200), d(200)])
    );
    assert_eq!(out.stats.duration_ms, 75);
    // And a call that outlives its own timeout still times out.
    routes[5] = ("GET http://u/sidekick/12", ok(json!({"v": 22})).after(35));
    let (out, _) = Run::new().go(
        "from hero with id = [1, 2, 3]\nfrom sidekick timeout 30 with id = hero.sk",
        &routes,
    );
    assert_eq!(
        out.body.to_json()["sidekick"]["details"],
        json!([d(200), d(408), d(200)])
    );
    assert_eq!(out.stats.duration_ms, 80);
}

#[test]
fn what_reads_the_whole_list_waits_for_the_whole_statement() {
    // A list that pairs with the chained one, a function over the whole value, a second
    // target: the statement starts when everything it chains from has ended.
    for query in [
        "from hero with id = [1, 2, 3]\nfrom sidekick with id = hero.sk, x = [1, 2, 3]",
        "from hero with id = [1, 2, 3]\nfrom sidekick with id = hero.sk -> flatten",
        "from hero with id = [1, 2, 3]\nfrom hero as h2 with id = 1\nfrom sidekick with id = hero.sk, x = h2.sk",
        "from hero with id = [1, 2, 3]\nfrom sidekick depends-on hero with id = hero.sk",
    ] {
        let routes = heroes_at_different_speeds();
        let (out, calls) = Run::new().go_with(query, move |req| {
            let line = format!("{} {}", req.method, req.url.split('?').next().unwrap_or(""));
            routes
                .iter()
                .find(|(k, _)| *k == line)
                .map(|(_, r)| r.clone())
                .unwrap_or_else(|| Reply::json(404, json!({})))
        });
        let sidekicks: Vec<u64> = calls
            .iter()
            .filter(|c| c.line().contains("sidekick"))
            .map(|c| c.at_ms)
            .collect();
        assert_eq!(sidekicks, [50, 50, 50], "{query}");
        assert_eq!(out.status, 200, "{query}");
    }
}

#[test]
fn explain_says_which_statements_go_item_by_item() {
    let inputs = Inputs::default();
    let plan = restql::explain(
        "from hero with id = [1, 2]\nfrom sidekick with id = hero.sk\nfrom villain with id = sidekick.v, x = [1, 2]",
        &mappings(),
        &inputs,
        &Options::default(),
    )
    .expect("plans");
    let by_item: Vec<&Json> = plan["statements"]
        .as_array()
        .map(|s| s.iter().map(|s| &s["itemByItem"]).collect())
        .unwrap_or_default();
    assert_eq!(by_item, [&Json::Null, &json!("hero"), &Json::Null]);
    assert!(plan["text"].as_str().is_some_and(|t| {
        t.contains("item by item: each of its items starts when its item of hero ends")
    }));
}
