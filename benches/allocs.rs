//! Heap allocations per query for plan + execute + response text, scenarios (a), (b), (c),
//! and (c) with batch endpoints: a figure that does not drift with machine load. Run: `cargo bench --bench allocs`.

mod scenarios;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let (mappings, transport, inputs) = scenarios::upstream();
    let (batched_mappings, batched_transport) = scenarios::batched_upstream();
    println!("scenario     calls  allocations   bytes  (plan + execute + write, one query)");
    for (name, text, mappings, transport) in [
        ("a", scenarios::A, &mappings, &transport),
        ("b", scenarios::B, &mappings, &transport),
        ("c", scenarios::C, &mappings, &transport),
        (
            "c batched",
            scenarios::C,
            &batched_mappings,
            &batched_transport,
        ),
    ] {
        let query = restql::check(text).expect("bench query is valid");
        // The first run builds what is built once (lazy statics).
        scenarios::plan_and_execute(&query, text, mappings, &inputs, transport);
        let before = dhat::HeapStats::get();
        let (status, calls) =
            scenarios::plan_and_execute(&query, text, mappings, &inputs, transport);
        let after = dhat::HeapStats::get();
        assert_eq!(status, 200, "scenario ({name})");
        println!(
            "{:<11} {calls:>5}  {:>11}  {:>6}",
            format!("({name})"),
            after.total_blocks - before.total_blocks,
            after.total_bytes - before.total_bytes
        );
    }
}
