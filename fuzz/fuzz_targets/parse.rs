//! Any bytes: parsing and validation never panic, errors point inside the text, and every
//! parsed query prints to text that parses back to the same query.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match restql::parse(text) {
        Ok(query) => {
            let _ = restql::validate(&query, text);
            let printed = query.to_string();
            let again = match restql::parse(&printed) {
                Ok(again) => again,
                Err(e) => panic!("printed query does not parse: {}\n{printed}", e.render()),
            };
            assert_eq!(again.to_canonical_json(), query.to_canonical_json(), "{printed}");
        }
        Err(e) => {
            assert!(e.span.start <= e.span.end && e.span.end <= text.len());
            assert!(!e.message.contains('\n'));
        }
    }
});
