//! Parser diagnostics and edge cases the conformance corpus does not cover.
//!
//! `tests/data/parse-errors.json` pins code, position and exact message of each error; the
//! tests below pin the accepted extensions (grammar.md section 5), limits and odd input.

use restql::{ErrorCode, ParseOptions, parse, parse_with};
use serde_json::{Value as Json, json};

#[test]
fn error_corpus_matches_code_position_and_message() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/parse-errors.json"
    ))
    .expect("the error corpus is in tests/data");
    let corpus: Json = serde_json::from_str(&text).expect("valid JSON");
    let cases = corpus["cases"].as_array().expect("a cases array");
    assert!(cases.len() >= 40);
    let mut failures = Vec::new();
    for case in cases {
        let query = case["query"].as_str().expect("a query");
        let err = match parse(query) {
            Ok(q) => {
                failures.push(format!("{query:?}: parsed {}", q.to_canonical_json()));
                continue;
            }
            Err(e) => e,
        };
        let column_utf16 = case.get("column_utf16").unwrap_or(&case["column"]);
        let got = json!({
            "code": err.code.as_str(),
            "line": err.line,
            "column": err.column,
            "column_utf16": err.column_utf16,
            "message": err.message,
        });
        let want = json!({
            "code": case["code"],
            "line": case["line"],
            "column": case["column"],
            "column_utf16": column_utf16,
            "message": case["message"],
        });
        if got != want {
            failures.push(format!("{query:?}:\n  got  {got}\n  want {want}"));
        }
        // Every diagnostic says what was found, and its span lies on char boundaries.
        if err.found.is_none() || !query.is_char_boundary(err.span.start.min(query.len())) {
            failures.push(format!(
                "{query:?}: missing found or bad span {:?}",
                err.span
            ));
        }
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(failures.is_empty(), "{} error cases failed", failures.len());
}

fn canonical(query: &str) -> Json {
    match parse(query) {
        Ok(q) => q.to_canonical_json(),
        Err(e) => panic!("{query:?} should parse:\n{}", e.render()),
    }
}

fn params(query: &str) -> Json {
    canonical(query)["statements"][0]["with"]["params"].clone()
}

#[test]
fn crlf_line_endings_everywhere() {
    let q = "use timeout 10\r\n\r\nfrom hero\r\n  headers A = \"x\"\r\n  with\r\n    id = 1,\r\n    \
             name = \"n\"\r\n  only\r\n    name\r\n\r\nfrom villain\r\n";
    let j = canonical(q);
    assert_eq!(j["statements"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        j["statements"][0]["with"]["params"][1]["value"],
        json!({"str": "n"})
    );
    assert_eq!(
        j["statements"][0]["only"],
        json!([{"path": ["name"], "fns": []}])
    );
}

#[test]
fn lists_may_span_lines() {
    let expected = json!([{"key": "ids", "value": {"list": [{"int": 1}, {"int": 2}, {"list": [{"int": 3}]}]}, "fns": []}]);
    assert_eq!(
        params("from hero with ids = [\n  1,\n  2,\n  [\n 3\n ]\n]"),
        expected
    );
    assert_eq!(
        params("from hero with ids = [ // first\n  1\n  2 // two\n  [3]\n]"),
        expected
    );
    assert_eq!(
        params("from hero with ids = [\r\n 1, 2, [3]\r\n]"),
        expected
    );
}

#[test]
fn escaped_quote_inside_strings() {
    assert_eq!(
        params(r#"from hero with a = "say \"hi\"", b = "\\""#),
        json!([
            {"key": "a", "value": {"str": "say \"hi\""}, "fns": []},
            {"key": "b", "value": {"str": "\\"}, "fns": []}
        ])
    );
}

#[test]
fn blank_lines_between_headers() {
    let j = canonical("from hero\n  headers\n    A = \"1\"\n\n    B = $b\n\n  with id = 1");
    assert_eq!(
        j["statements"][0]["headers"],
        json!([{"name": "A", "value": {"str": "1"}}, {"name": "B", "value": {"var": "b"}}])
    );
}

#[test]
fn newline_separated_object_entries() {
    assert_eq!(
        params("from hero with a = {\n  x: 1\n  \"y z\": [2]\n\n  w: {v: null}\n}")[0]["value"],
        json!({"object": [
            ["x", {"int": 1}],
            ["y z", {"list": [{"int": 2}]}],
            ["w", {"object": [["v", {"null": true}]]}]
        ]})
    );
}

#[test]
fn comments_everywhere() {
    let q = "// leading\nuse max-age 5 // after use\n// between\nfrom hero as h // after action\n  \
             headers A = \"x\" // after header\n  timeout 10 // after timeout\n  with // after with\n    \
             a = 1 // after param\n    b = [1, // inside list\n      2] // after list\n  only // after only\n    \
             name // after filter\n    x -> matches(\"y\") // after fn\n  ignore-errors // after flag\n\
             // between statements\nfrom villain // last\n// trailing";
    let j = canonical(q);
    assert_eq!(j["statements"].as_array().map(Vec::len), Some(2));
    let st = &j["statements"][0];
    assert_eq!(
        st["with"]["params"][1]["value"],
        json!({"list": [{"int": 1}, {"int": 2}]})
    );
    assert_eq!(st["only"].as_array().map(Vec::len), Some(2));
    assert_eq!(st["ignore_errors"], json!(true));
}

#[test]
fn comments_take_their_newline_where_a_token_must_follow() {
    // The reference's comments swallow their newline, so these parse there too.
    assert_eq!(
        params("from hero with a = // note\n 1, b = [1 // c\n]")[1]["value"],
        json!({"list": [{"int": 1}]})
    );
}

#[test]
fn blanks_inside_regex_function_parens() {
    let j = canonical("from hero only a -> matches( \"x\" ), b -> filterByRegex( $p , \"y\" )");
    assert_eq!(
        j["statements"][0]["only"],
        json!([
            {"path": ["a"], "fns": [{"matches": {"str": "x"}}]},
            {"path": ["b"], "fns": [{"filterByRegex": {"path": {"var": "p"}, "regex": {"str": "y"}}}]}
        ])
    );
}

#[test]
fn unicode_strings_and_utf16_columns_after_them() {
    assert_eq!(
        params("from hero with a = \"héros 😀 \\u00e9\\U0001F600\"")[0]["value"],
        json!({"str": "héros 😀 é😀"})
    );
    let err = parse("from hero with a = \"😀é\", b = ,").expect_err("a value is missing");
    assert_eq!((err.line, err.column, err.column_utf16), (1, 30, 31));
    assert_eq!(err.message, "expected a value after '=', found ','");
    assert_eq!(
        err.snippet,
        "  |\n1 | from hero with a = \"😀é\", b = ,\n  |                              ^"
    );
}

#[test]
fn reference_quirks_that_are_kept() {
    // Keywords are not reserved.
    let j = canonical("from with as from in to.only\n  with from = 1\n  only to");
    assert_eq!(j["statements"][0]["resource"], json!("with"));
    assert_eq!(j["statements"][0]["alias"], json!("from"));
    // `[1 2]` and `[1,,2]`: list separators are optional and repeatable.
    assert_eq!(
        params("from hero with a = [1 2], b = [1,,2]")[1]["value"],
        json!({"list": [{"int": 1}, {"int": 2}]})
    );
    // `$a.b:c` is one variable; `h[$x].y` is a chain with a path variable.
    assert_eq!(
        params("from hero with a = $a.b:c, b = h[$x].y"),
        json!([
            {"key": "a", "value": {"var": "a.b:c"}, "fns": []},
            {"key": "b", "value": {"chain": ["h", {"var": "x"}, "y"]}, "fns": []}
        ])
    );
    // Functions apply left to right, even without a blank after a number.
    assert_eq!(
        params("from hero with a = 1->json -> base64")[0]["fns"],
        json!(["json", "base64"])
    );
    // An `ignore-errors` line after at least one field is the flag.
    let j = canonical("from hero\n  only\n    ignore-errors\n    name\n  ignore-errors");
    assert_eq!(j["statements"][0]["only"].as_array().map(Vec::len), Some(2));
    assert_eq!(j["statements"][0]["ignore_errors"], json!(true));
}

#[test]
fn nesting_at_the_limit_parses_and_one_more_is_too_deep() {
    let options = ParseOptions {
        max_depth: 8,
        ..ParseOptions::default()
    };
    let nested = |depth: usize| {
        format!(
            "from hero with a = {}1{}",
            "[{x: ".repeat(depth / 2) + if depth % 2 == 1 { "[" } else { "" },
            (if depth % 2 == 1 { "]" } else { "" }).to_owned() + &"}]".repeat(depth / 2)
        )
    };
    assert!(parse_with(&nested(8), &options).is_ok());
    let err = parse_with(&nested(9), &options).expect_err("nine levels are too deep");
    assert_eq!(err.code, ErrorCode::TooDeep);
    assert_eq!(
        err.message,
        "lists and objects are nested more than 8 levels deep"
    );
    assert_eq!(err.column, 40);

    // Far beyond the limit: an error, not a stack overflow.
    let hostile = format!("from hero with a = {}", "[".repeat(1_000_000));
    let err = parse_with(
        &hostile,
        &ParseOptions {
            max_bytes: 2_000_000,
            max_depth: 64,
        },
    )
    .expect_err("too deep");
    assert_eq!(err.code, ErrorCode::TooDeep);
}

#[test]
fn text_longer_than_the_limit_is_too_large() {
    let options = ParseOptions {
        max_bytes: 32,
        ..ParseOptions::default()
    };
    assert!(parse_with("from hero with id = 1", &options).is_ok());
    let err = parse_with("from hero with id = 1, name = \"batman\"", &options)
        .expect_err("over 32 bytes");
    assert_eq!(err.code, ErrorCode::TooLarge);
    assert_eq!(err.message, "query is 38 bytes long; the limit is 32 bytes");
}

#[test]
fn hostile_input_never_panics() {
    let long_line = "from hero with a = ".to_owned() + &"x.".repeat(50_000) + "x";
    let inputs = [
        "\u{0}",
        "from \u{feff}hero",
        "from hero with a = \"\\",
        "from hero with a = \"\\u",
        "from hero with a = \"\\U0011FFFF\"",
        "from hero with a = \"é\\",
        "from hero only é -> matches(\"é",
        "from hero with a = [$",
        "from hero with a = {\"",
        "from hero with a = {é: 1}",
        "from hero with a = -",
        "from hero with a = +",
        "from hero headers é = 1",
        "use",
        "use timeout",
        "from hero\n\u{2028}from villain",
        "😀",
        long_line.as_str(),
    ];
    for input in inputs {
        if let Err(e) = parse(input) {
            assert!(!e.message.is_empty());
            assert!(input.is_char_boundary(e.span.start.min(input.len())));
            assert!(input.is_char_boundary(e.span.end.min(input.len())));
        }
    }
    // Every prefix of a rich query, cut at every char boundary.
    let rich = "use timeout 1\nfrom héro as h in x.y headers A = \"é\" timeout $t with $b -> json, \
                a = {k: [1, 2.5, \"\\u00e9\", h[$v].w]} -> base64 only a -> matches(\"^é\"), * ignore-errors";
    for (at, _) in rich.char_indices() {
        let _ = parse(&rich[..at]);
    }
}
