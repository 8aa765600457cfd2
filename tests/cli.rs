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
