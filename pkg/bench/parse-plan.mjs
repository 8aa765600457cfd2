// Parse + validate + plan in WebAssembly under Node, JS <-> wasm crossings included: `parse`
// (one statement and ten) and `explain` (the ten-statement query planned over mappings).
//
//   node pkg/bench/parse-plan.mjs [--runs 20000]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

import { init, parse, explain } from "../node.js";

const { values: opt } = parseArgs({ options: { runs: { type: "string", default: "20000" } } });
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

await init();

function measure(label, fn) {
  for (let i = 0; i < Math.min(2000, runs); i++) fn(); // warm up the JIT and the allocator
  const samples = new Float64Array(runs);
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    samples[i] = performance.now() - t;
  }
  samples.sort();
  const us = (q) => (samples[Math.min(runs - 1, Math.floor(q * runs))] * 1000).toFixed(1);
  console.log(`| ${label} | ${us(0.5)} | ${us(0.95)} |`);
}

console.log(`node ${process.version}, ${runs} runs each\n`);
console.log("| operation | p50 us | p95 us |");
console.log("|---|---:|---:|");
measure("parse + validate, 1 statement", () => parse(ONE));
measure("parse + validate, 10 statements", () => parse(TEN));
measure("parse + validate + plan (explain), 10 statements", () =>
  explain(TEN, { mappings, variables: { q: "tv", customer: 7, token: "t", event: { kind: "view" } } }),
);
