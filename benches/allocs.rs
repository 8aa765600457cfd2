//! Heap allocations per query for plan + execute + response text, scenarios (a), (b), (c):
//! a figure that does not drift with machine load. Run: `cargo bench --bench allocs`.

mod scenarios;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let (mappings, transport, inputs) = scenarios::upstream();
    println!("scenario  calls  allocations   bytes  (plan + execute + write, one query)");
    for (name, text) in [
        ("a", scenarios::A),
        ("b", scenarios::B),
        ("c", scenarios::C),
    ] {
        let query = restql::check(text).expect("bench query is valid");
        // The first run builds what is built once (lazy statics).
        scenarios::plan_and_execute(&query, text, &mappings, &inputs, &transport);
        let before = dhat::HeapStats::get();
        let (status, calls) =
            scenarios::plan_and_execute(&query, text, &mappings, &inputs, &transport);
        let after = dhat::HeapStats::get();
        assert_eq!(status, 200, "scenario ({name})");
        println!(
            "({name})      {calls:>5}  {:>11}  {:>6}",
            after.total_blocks - before.total_blocks,
            after.total_bytes - before.total_bytes
        );
    }
}
