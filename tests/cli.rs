//! The `restql` binary as users run it: stdin or FILE in, JSON out, exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn restql(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_restql"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("restql starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts the query");
    child.wait_with_output().expect("restql finishes")
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn parse_prints_canonical_json_and_exits_0() {
    let out = restql(
        &["parse"],
        "from hero as h with id = 1 -> json\nfrom sidekick with id = h.sidekick",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout_json(&out),
        json!({"statements": [
            {"method": "from", "resource": "hero", "alias": "h",
             "with": {"body": null, "params": [{"key": "id", "value": {"int": 1}, "fns": ["json"]}]}},
            {"method": "from", "resource": "sidekick",
             "with": {"body": null, "params": [{"key": "id", "value": {"chain": ["h", "sidekick"]}, "fns": []}]}}
        ]})
    );
}

#[test]
fn parse_reads_a_file() {
    let dir = std::env::temp_dir().join(format!("restql-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("q.rql");
    std::fs::write(&file, "from hero").expect("write query");
    let out = restql(&["parse", file.to_str().expect("utf-8 path")], "");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_json(&out)["statements"][0]["resource"], "hero");
}

#[test]
fn syntax_error_prints_the_error_object_and_exits_1() {
    let out = restql(&["parse"], "from hero\nfrom villain with id = ,");
    assert_eq!(out.status.code(), Some(1));
    let body = stdout_json(&out);
    let error = &body["error"];
    assert_eq!(error["code"], "syntax");
    assert_eq!(error["phase"], "parse");
    assert_eq!(error["line"], 2);
    assert_eq!(error["column"], 24);
    assert!(
        error["message"].as_str().is_some_and(|m| m.contains("','")),
        "message names what was found: {error}"
    );
    assert!(error["snippet"].as_str().is_some_and(|s| s.contains('^')));
}

#[test]
fn validation_reports_every_problem() {
    let out = restql(
        &["parse"],
        "from hero with id = villain.id\nfrom hero\nfrom side depends-on nobody",
    );
    assert_eq!(out.status.code(), Some(1));
    let body = stdout_json(&out);
    assert_eq!(body["error"]["phase"], "validate");
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors list")
        .iter()
        .filter_map(|e| e["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "unknown-chain-target",
            "duplicate-identifier",
            "unknown-depends-on-target"
        ]
    );
}

#[test]
fn vars_check_regex_variables() {
    let query = "from hero only name -> matches($re)";
    let ok = restql(&["parse", "--vars", r#"{"re": "^b"}"#], query);
    assert_eq!(ok.status.code(), Some(0));
    let bad = restql(&["parse", "--vars", r#"{"re": "(unclosed"}"#], query);
    assert_eq!(bad.status.code(), Some(1));
    let error = &stdout_json(&bad)["error"];
    assert_eq!(error["code"], "invalid-regex");
    assert_eq!(error["phase"], "validate");
    assert_eq!(error["column"], 32);
}

#[test]
fn usage_errors_exit_2_on_stderr() {
    for args in [
        &["frobnicate"][..],
        &["parse", "--nope", "x"][..],
        &["parse", "--vars", "[1]"][..],
        &["parse", "/no/such/file.rql"][..],
    ] {
        let out = restql(args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

fn mappings_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("restql-cli-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(name);
    std::fs::write(&file, text).expect("write mappings");
    file.to_str().expect("utf-8 path").to_string()
}

#[test]
fn explain_prints_the_plan_as_text() {
    let m = mappings_file(
        "m.yaml",
        "search: http://shop/search?:q\nproduct: \"http://shop/product/:id\"\n",
    );
    let out = restql(
        &[
            "explain",
            "--mappings",
            &m,
            "--format",
            "text",
            "--vars",
            r#"{"q": "tv"}"#,
        ],
        "from search with q = $q\nfrom product with id = search.ids",
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("plan: 2 statements, 2 waves, deadline 30000 ms\nwave 0\n"));
    assert!(text.contains("GET http://shop/search?q=tv"));
    assert!(text.contains("after search (chained into id)"));
}

#[test]
fn explain_prints_json_by_default_and_reports_unknown_resources() {
    let m = mappings_file("m.json", r#"{"hero": "http://h/hero/:id"}"#);
    let out = restql(&["explain", "--mappings", &m], "from hero with id = [1, 2]");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_json(&out)["waves"], json!([["hero"]]));
    let out = restql(&["explain", "--mappings", &m], "from hero\nfrom villain");
    assert_eq!(out.status.code(), Some(1));
    let error = &stdout_json(&out)["error"];
    assert_eq!(error["code"], "unknown-resource");
    assert_eq!(
        (error["line"].as_u64(), error["column"].as_u64()),
        (Some(2), Some(6))
    );
}

#[test]
fn explain_rejects_malformed_mappings_as_a_usage_error() {
    let m = mappings_file("bad.json", r#"{"hero": "ftp://h/hero"}"#);
    let out = restql(&["explain", "--mappings", &m], "from hero");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid mapping 'hero'"));
}
