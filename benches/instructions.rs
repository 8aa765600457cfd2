//! Plan + execute + response text of one scenario, a given number of times: the program that
//! `benches/instructions.sh` runs under callgrind, which counts the instructions a query
//! takes, a figure that machine load does not move.
//!
//! `instructions SCENARIO RUNS`, SCENARIO one of `a`, `b`, `c`, `c-batched` (the trace off, as
//! the npm package runs). Without arguments (as under `cargo bench`) each runs once.

// Shared with the exec bench, which uses the rest of it.
#[allow(dead_code)]
mod scenarios;

use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (mappings, transport, inputs) = scenarios::upstream();
    let (batched_mappings, batched_transport) = scenarios::batched_upstream();
    let options = restql::Options {
        trace: false,
        ..restql::Options::default()
    };
    let all = [
        ("a", scenarios::A, &mappings, &transport, 4),
        ("b", scenarios::B, &mappings, &transport, 3),
        ("c", scenarios::C, &mappings, &transport, 71),
        (
            "c-batched",
            scenarios::C,
            &batched_mappings,
            &batched_transport,
            5,
        ),
    ];
    let (wanted, runs) = match args.as_slice() {
        [] => (None, 1),
        [name, runs] if all.iter().any(|s| s.0 == name) => match runs.parse::<usize>() {
            Ok(runs) => (Some(name.as_str()), runs),
            Err(_) => usage(),
        },
        _ => usage(),
    };
    for (name, text, mappings, transport, calls) in all {
        if wanted.is_some_and(|w| w != name) {
            continue;
        }
        let query = restql::check(text).expect("bench query is valid");
        for _ in 0..runs {
            let outcome = black_box(scenarios::plan_and_execute_with(
                &query, text, mappings, &inputs, transport, &options,
            ));
            assert_eq!(outcome, (200, calls), "scenario ({name})");
        }
    }
    if wanted.is_none() {
        println!(
            "instructions: ran each scenario once; `bash benches/instructions.sh` counts them"
        );
    }
}

fn usage() -> ! {
    eprintln!("usage: instructions [a|b|c|c-batched RUNS]");
    std::process::exit(2)
}
