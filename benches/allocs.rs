//! Heap allocations per query for plan + execute + response text, scenarios (a), (b), (c),
//! and (c) with batch endpoints, both (c)s again with the trace off: a figure that does not
//! drift with machine load. Run: `cargo bench --bench allocs`.

// Shared with the exec bench, which uses the rest of it.
#[allow(dead_code)]
mod scenarios;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let (mappings, transport, inputs) = scenarios::upstream();
    let (batched_mappings, batched_transport) = scenarios::batched_upstream();
    let traced = restql::Options::default();
    let untraced = restql::Options {
        trace: false,
        ..restql::Options::default()
    };
    println!(
        "scenario               calls  allocations   bytes  (plan + execute + write, one query)"
    );
    for (name, text, mappings, transport, options) in [
        ("a", scenarios::A, &mappings, &transport, &traced),
        ("b", scenarios::B, &mappings, &transport, &traced),
        ("c", scenarios::C, &mappings, &transport, &traced),
        (
            "c batched",
            scenarios::C,
            &batched_mappings,
            &batched_transport,
            &traced,
        ),
        (
            "c, trace off",
            scenarios::C,
            &mappings,
            &transport,
            &untraced,
        ),
        (
            "c batched, trace off",
            scenarios::C,
            &batched_mappings,
            &batched_transport,
            &untraced,
        ),
    ] {
        let query = restql::check(text).expect("bench query is valid");
        let run = || {
            scenarios::plan_and_execute_with(&query, text, mappings, &inputs, transport, options)
        };
        // The first run builds what is built once (lazy statics).
        run();
        let before = dhat::HeapStats::get();
        let (status, calls) = run();
        let after = dhat::HeapStats::get();
        assert_eq!(status, 200, "scenario ({name})");
        println!(
            "{:<22} {calls:>5}  {:>11}  {:>6}",
            format!("({name})"),
            after.total_blocks - before.total_blocks,
            after.total_bytes - before.total_bytes
        );
    }
}
