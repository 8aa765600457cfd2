//! Property tests: generated queries survive print -> parse, and arbitrary text never makes
//! the parser panic. (Limits and token soups: `parse_errors.rs`, `parse_fuzz.rs`.)

use proptest::prelude::*;
use restql::{
    ChainItem, DynamicBody, Filter, FilterFn, Header, Ident, InTarget, Method, Param, ParamFn,
    Query, Span, Statement, UseClause, UseKey, Value, ValueKind, With,
};

// ---- generators of queries the parser can produce -----------------------------------------

/// Words the grammar treats positionally; kept out of generated identifiers so that a
/// generated name never reads as a clause (keyword-named identifiers have their own tests).
const KEYWORDS: &[&str] = &[
    "from",
    "to",
    "into",
    "update",
    "delete",
    "as",
    "in",
    "use",
    "with",
    "headers",
    "timeout",
    "max-age",
    "s-max-age",
    "depends-on",
    "only",
    "hidden",
    "ignore-errors",
    "true",
    "false",
    "null",
];

fn span() -> Span {
    Span::default()
}

fn ident_text() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_:-]{0,8}"
        .prop_filter("not a keyword or literal", |s| {
            !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s))
                && !s.starts_with("true")
                && !s.starts_with("false")
                && !s.starts_with("null")
        })
        .prop_map(String::from)
}

fn ident() -> impl Strategy<Value = Ident> {
    ident_text().prop_map(|n| Ident::new(n, span()))
}

/// `[A-Za-z0-9:_.-]+`, made of identifier pieces joined by dots.
fn dotted() -> impl Strategy<Value = String> {
    prop::collection::vec(ident_text(), 1..3).prop_map(|parts| parts.join("."))
}

fn value_of(kind: ValueKind) -> Value {
    Value::new(kind, span())
}

fn string_value() -> impl Strategy<Value = Value> {
    any::<String>().prop_map(|s| value_of(ValueKind::Str(s)))
}

fn var_value() -> impl Strategy<Value = Value> {
    dotted().prop_map(|v| value_of(ValueKind::Var(v)))
}

fn chain_value() -> impl Strategy<Value = Value> {
    let item = prop_oneof![
        3 => "[a-zA-Z0-9_:-]{1,6}".prop_map(ChainItem::Key),
        1 => ident_text().prop_map(ChainItem::Var),
    ];
    (ident_text(), prop::collection::vec(item, 0..3)).prop_map(|(first, rest)| {
        let mut items = vec![ChainItem::Key(first)];
        items.extend(rest);
        value_of(ValueKind::Chain(items))
    })
}

fn scalar_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        string_value(),
        any::<i64>().prop_map(|i| value_of(ValueKind::Int(i))),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| value_of(ValueKind::Float(f))),
        any::<bool>().prop_map(|b| value_of(ValueKind::Bool(b))),
        Just(value_of(ValueKind::Null)),
        var_value(),
        chain_value(),
    ]
}

fn any_value() -> impl Strategy<Value = Value> {
    scalar_value().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| value_of(ValueKind::List(v))),
            prop::collection::vec((prop_oneof![ident_text(), any::<String>()], inner), 0..4)
                .prop_map(|e| value_of(ValueKind::Object(e))),
        ]
    })
}

fn int_or_var() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(|i| value_of(ValueKind::Int(i))),
        var_value(),
    ]
}

fn param_fns() -> impl Strategy<Value = Vec<ParamFn>> {
    prop::collection::vec(prop::sample::select(ParamFn::ALL.to_vec()), 0..3)
}

fn regex_arg() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec!["a", "^x$", "[0-9]+", "a|b", "\\d{2,}", "(?i)tv"])
            .prop_map(|r| value_of(ValueKind::Str(r.to_string()))),
        var_value(),
    ]
}

fn filter() -> impl Strategy<Value = Filter> {
    let path = prop_oneof![
        4 => dotted().prop_map(|p| p.split('.').map(String::from).collect::<Vec<_>>()),
        1 => Just(vec!["*".to_string()]),
    ];
    let func = prop_oneof![
        regex_arg().prop_map(FilterFn::Matches),
        (
            prop_oneof![
                dotted().prop_map(|p| value_of(ValueKind::Str(p))),
                var_value()
            ],
            regex_arg()
        )
            .prop_map(|(path, regex)| FilterFn::FilterByRegex { path, regex }),
    ];
    (path, prop::collection::vec(func, 0..2)).prop_map(|(path, fns)| Filter {
        path,
        fns,
        span: span(),
    })
}

fn with_clause() -> impl Strategy<Value = With> {
    let body = prop::option::of(
        (ident_text(), param_fns()).prop_map(|(var, fns)| DynamicBody {
            var: Ident::new(var, span()),
            fns,
        }),
    );
    let param = (dotted(), any_value(), param_fns()).prop_map(|(key, value, fns)| Param {
        key: Ident::new(key, span()),
        value,
        fns,
    });
    (body, prop::collection::vec(param, 0..4))
        .prop_filter("with needs a body or a parameter", |(b, p)| {
            b.is_some() || !p.is_empty()
        })
        .prop_map(|(body, params)| With { body, params })
}

fn statement() -> impl Strategy<Value = Statement> {
    let method = prop::sample::select(vec![
        Method::From,
        Method::To,
        Method::Into,
        Method::Update,
        Method::Delete,
    ]);
    let header = (
        ident(),
        prop_oneof![string_value(), var_value(), chain_value()],
    )
        .prop_map(|(name, value)| Header { name, value });
    let in_target =
        prop::collection::vec(ident_text(), 1..4).prop_map(|path| InTarget { path, span: span() });
    // hidden and only exclude each other.
    let filters = prop_oneof![
        Just((Vec::new(), false)),
        Just((Vec::new(), true)),
        prop::collection::vec(filter(), 1..4).prop_map(|f| (f, false)),
    ];
    (
        (method, ident(), prop::option::of(ident())),
        prop::option::of(in_target),
        prop::collection::vec(header, 0..3),
        (
            prop::option::of(int_or_var()),
            prop::option::of(int_or_var()),
            prop::option::of(int_or_var()),
            prop::option::of(ident()),
        ),
        prop::option::of(with_clause()),
        filters,
        any::<bool>(),
    )
        .prop_map(
            |(
                (method, resource, alias),
                in_target,
                headers,
                (timeout, max_age, s_max_age, depends_on),
                with,
                (only, hidden),
                ignore_errors,
            )| {
                let mut st = Statement::new(method, resource, span());
                st.alias = alias;
                st.in_target = in_target;
                st.headers = headers;
                st.timeout = timeout;
                st.max_age = max_age;
                st.s_max_age = s_max_age;
                st.depends_on = depends_on;
                st.with = with;
                st.only = only;
                st.hidden = hidden;
                st.ignore_errors = ignore_errors;
                st
            },
        )
}

fn query() -> impl Strategy<Value = Query> {
    let use_clause = (
        prop::sample::select(vec![UseKey::Timeout, UseKey::MaxAge, UseKey::SMaxAge]),
        prop_oneof![
            any::<i64>().prop_map(|i| value_of(ValueKind::Int(i))),
            string_value()
        ],
    )
        .prop_map(|(key, value)| UseClause {
            key,
            value,
            span: span(),
        });
    (
        prop::collection::vec(use_clause, 0..3),
        prop::collection::vec(statement(), 1..5),
    )
        .prop_map(|(uses, statements)| Query { uses, statements })
}

// ---- properties ----------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// print -> parse gives back the same query, and printing is a fixed point.
    #[test]
    fn printed_queries_parse_back_to_the_same_query(q in query()) {
        let text = q.to_string();
        let parsed = restql::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{}\n---\n{text}", e.render())))?;
        prop_assert_eq!(parsed.to_canonical_json(), q.to_canonical_json(), "text:\n{}", text);
        prop_assert_eq!(parsed.to_string(), text);
    }

    /// Arbitrary text ends in a query or an error whose position is inside the text.
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_total(&text);
    }
}

fn check_total(text: &str) {
    match restql::parse(text) {
        Ok(q) => {
            // Validation must be total too, and a parsed query must print and re-parse.
            let _ = restql::validate(&q, text);
            let printed = q.to_string();
            let again = restql::parse(&printed);
            assert!(
                again.is_ok(),
                "printed form does not parse:\n{printed}\n{:?}",
                again.err()
            );
        }
        Err(e) => {
            assert!(e.span.start <= text.len() && e.span.end <= text.len());
            assert!(e.line >= 1 && e.column >= 1);
            assert!(!e.message.is_empty() && !e.message.contains('\n'));
        }
    }
}

// ---- size ----------------------------------------------------------------------------------

#[test]
fn many_statements_parse_in_linear_time_without_recursion() {
    let text = "from hero\n".repeat(20_000);
    let q = restql::parse(&text).expect("parses");
    assert_eq!(q.statements.len(), 20_000);
}
