//! The validation phase: every problem at once, in source order, each pointing at its text.

use restql::{Error, ErrorCode, Phase};

fn problems(text: &str) -> Vec<Error> {
    let query = restql::parse(text).unwrap_or_else(|e| panic!("parses: {}", e.render()));
    match restql::validate(&query, text) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.0,
    }
}

/// (code, line, column, text under the span) of each problem.
fn summary(text: &str) -> Vec<(&'static str, usize, usize, String)> {
    problems(text)
        .into_iter()
        .map(|e| {
            assert_eq!(e.phase, Phase::Validate);
            (
                e.code.as_str(),
                e.line,
                e.column,
                text[e.span.start..e.span.end].to_string(),
            )
        })
        .collect()
}

#[test]
fn a_valid_query_has_no_problems() {
    let text = "from search with q = $q\n\
                from product with id = search.ids\n\
                from price depends-on product headers X-Id = search.requestId with sku = product.sku";
    assert_eq!(summary(text), []);
}

#[test]
fn every_problem_is_reported_in_source_order() {
    let text = "from hero with id = villain.id\n\
                from hero headers X = ghost.token\n\
                from side depends-on nobody";
    assert_eq!(
        summary(text),
        [
            ("unknown-chain-target", 1, 21, "villain.id".to_string()),
            ("duplicate-identifier", 2, 6, "hero".to_string()),
            ("unknown-chain-target", 2, 23, "ghost.token".to_string()),
            ("unknown-depends-on-target", 3, 22, "nobody".to_string()),
        ]
    );
}

#[test]
fn duplicate_identifier_names_the_first_occurrence() {
    let text = "from hero\nfrom villain as hero";
    let errors = problems(text);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, ErrorCode::DuplicateIdentifier);
    assert_eq!((errors[0].line, errors[0].column), (2, 17));
    assert_eq!(
        errors[0].message,
        "statement identifier 'hero' is already used at 1:6; give one of them another name with 'as'"
    );
}

#[test]
fn aliases_make_repeated_resources_distinct() {
    assert_eq!(summary("from hero as a\nfrom hero as b\nfrom hero"), []);
}

#[test]
fn chains_nested_in_lists_and_objects_are_checked() {
    let text = "from hero with x = [1, {a: ghost.id, b: [spirit]}]";
    assert_eq!(
        summary(text),
        [
            ("unknown-chain-target", 1, 28, "ghost.id".to_string()),
            ("unknown-chain-target", 1, 42, "spirit".to_string()),
        ]
    );
}

#[test]
fn a_bare_number_in_a_header_is_a_chain_to_a_missing_statement() {
    let errors = problems("from hero headers X = 1");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, ErrorCode::UnknownChainTarget);
    assert_eq!(
        errors[0].message,
        "chained value '1' refers to '1', which is not a statement of this query"
    );
}

#[test]
fn a_two_statement_cycle_is_reported_once() {
    let text = "from a with x = b.x\nfrom b with y = a.y";
    let errors = problems(text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code, ErrorCode::DependencyCycle);
    assert_eq!(
        errors[0].message,
        "statements wait on each other and would never run: a -> b -> a"
    );
    assert_eq!((errors[0].line, errors[0].column), (1, 6));
}

#[test]
fn a_statement_chained_to_itself_is_a_cycle() {
    let errors = problems("from hero with id = hero.id");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, ErrorCode::DependencyCycle);
    assert!(errors[0].message.ends_with("hero -> hero"));
}

#[test]
fn cycles_through_depends_on_and_headers_are_found() {
    let text = "from a depends-on c\nfrom b headers T = a.token\nfrom c with id = b.id\nfrom d with id = a.id";
    let errors = problems(text);
    // One cycle (a -> c -> b -> a); `d` only waits on it and is not a second report.
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].message,
        "statements wait on each other and would never run: a -> c -> b -> a"
    );
}

#[test]
fn separate_cycles_are_reported_separately() {
    let text = "from a with x = b.x\nfrom b with x = a.x\nfrom c with x = d.x\nfrom d with x = c.x";
    let codes: Vec<_> = summary(text).into_iter().map(|s| (s.0, s.1)).collect();
    assert_eq!(codes, [("dependency-cycle", 1), ("dependency-cycle", 3)]);
}

#[test]
fn regex_variables_are_checked_when_known() {
    let text = "from hero only name -> matches($re), tags -> filterByRegex($p, $re2)";
    let query = restql::parse(text).expect("parses");
    let vars = |v: serde_json::Value| v.as_object().cloned().expect("object");
    assert!(
        restql::validate::validate_variables(
            &query,
            text,
            &vars(serde_json::json!({"re": "^a", "re2": "b+"}))
        )
        .is_ok()
    );
    assert!(
        restql::validate::validate_variables(&query, text, &vars(serde_json::json!({}))).is_ok(),
        "unknown variables may still arrive at run time"
    );
    let errors = restql::validate::validate_variables(
        &query,
        text,
        &vars(serde_json::json!({"re": "(", "re2": 5})),
    )
    .expect_err("bad regexes");
    let found: Vec<_> = errors
        .iter()
        .map(|e| (e.code, &text[e.span.start..e.span.end]))
        .collect();
    assert_eq!(
        found,
        [
            (ErrorCode::InvalidRegex, "$re"),
            (ErrorCode::InvalidRegex, "$re2")
        ]
    );
    assert!(errors.0[1].message.contains("must be a string"));
}
