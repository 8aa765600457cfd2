// Parse + validate + plan in WebAssembly under Node, JS <-> wasm crossings included: `parse`
// (one statement and ten; it also writes the canonical JSON, which JS parses), `explain` (the
// ten-statement query planned over mappings; it also writes the plan as JSON and as text), and
// what a run pays before its first call: from `client.run` of a query text not seen before
// (the client keeps the plans of the texts it ran) to the first fetch, and of a text seen before,
// back to back and after idle time.
//
//   node pkg/bench/parse-plan.mjs [--runs 20000] [--build server|browser]
//
// `--build browser` loads the size-tuned module that browsers get instead of the server one.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

const { values: opt } = parseArgs({
  options: { runs: { type: "string", default: "20000" }, build: { type: "string", default: "server" } },
});
const browser = opt.build === "browser";
const { init, parse, explain, createClient } = await import(browser ? "../index.js" : "../node.js");
const runs = Number(opt.runs);

const ONE = "from product with id = $id only name, price";
// The same ten statements as the native benchmark (benches/parse.rs).
const TEN = readFileSync(new URL("../../benches/data/ten-statements.rql", import.meta.url), "utf8");
const base = "http://services.test";
const mappings = Object.fromEntries(
  ["search", "product", "price", "customer", "cart", "shipping", "reviews", "stock", "events", "recommendations"].map(
    (r) => [r, `${base}/${r}/:id`],
  ),
);

await init(browser ? readFileSync(new URL("../dist/restql_bg.wasm", import.meta.url)) : undefined);

function measure(label, fn) {
  for (let i = 0; i < Math.min(2000, runs); i++) fn(); // warm up the JIT and the allocator
  const samples = new Float64Array(runs);
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    samples[i] = performance.now() - t;
  }
  report(label, samples);
}

/** Prints the p50 and p95 of `samples` (milliseconds) in microseconds. */
function report(label, samples) {
  samples.sort();
  const us = (q) => (samples[Math.min(runs - 1, Math.floor(q * runs))] * 1000).toFixed(1);
  console.log(`| ${label} | ${us(0.5)} | ${us(0.95)} |`);
}

// From `run` to the first fetch: the fetch notes the time and fails (so the run ends fast);
// a new text each time (trailing blanks) defeats the client's kept plans.
let firstCall = 0;
const client = await createClient({
  mappings,
  fetch: () => {
    if (firstCall === 0) firstCall = performance.now();
    return Promise.reject(new Error("not measured"));
  },
});
const VARIABLES = { q: "tv", customer: 7, token: "t", event: { kind: "view" } };
async function measureRunToFirstCall(label) {
  const samples = new Float64Array(runs);
  for (let i = -Math.min(2000, runs); i < runs; i++) {
    const text = TEN + " ".repeat((i + 2000) % 500);
    firstCall = 0;
    const t = performance.now();
    await client.run(text, { variables: VARIABLES });
    if (i >= 0) samples[i] = firstCall - t;
  }
  report(label, samples);
}

console.log(`node ${process.version}, the ${opt.build} build, ${runs} runs each\n`);
console.log("| operation | p50 us | p95 us |");
console.log("|---|---:|---:|");
measure("parse + validate, 1 statement", () => parse(ONE));
measure("parse + validate, 10 statements", () => parse(TEN));
measure("parse + validate + plan (explain), 10 statements", () =>
  explain(TEN, { mappings, variables: VARIABLES }),
);
await measureRunToFirstCall("a run, from `run` to the first fetch (parse + validate + plan), 10 statements");

// The same with the query's text seen before (its plan kept from the first run): back to back,
// and after 2 ms of idle time (a timer), as a run's hops come after the network's wait. The
// second is what a query pays, and what every hop's own work costs more after idle time.
async function measureSeenText(label, idleMs, count) {
  const samples = new Float64Array(count);
  for (let i = -Math.min(500, count); i < count; i++) {
    if (idleMs > 0) await new Promise((resolve) => setTimeout(resolve, idleMs));
    firstCall = 0;
    const t = performance.now();
    await client.run(TEN, { variables: VARIABLES });
    if (i >= 0) samples[i] = firstCall - t;
  }
  samples.sort();
  const us = (q) => (samples[Math.min(count - 1, Math.floor(q * count))] * 1000).toFixed(1);
  console.log(`| ${label} | ${us(0.5)} | ${us(0.95)} |`);
}
await measureSeenText("a run of a text seen before, `run` to the first fetch, back to back", 0, runs);
await measureSeenText("the same, each run after 2 ms of idle time", 2, Math.min(runs, 2000));
client.close();
