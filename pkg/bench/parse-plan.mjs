// Parse + validate + plan in WebAssembly under Node, JS <-> wasm crossings included: `parse`
// (one statement and ten) and `explain` (the ten-statement query planned over mappings).
//
//   node pkg/bench/parse-plan.mjs [--runs 20000]
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

import { init, parse, explain } from "../node.js";

const { values: opt } = parseArgs({ options: { runs: { type: "string", default: "20000" } } });
const runs = Number(opt.runs);

const ONE = "from product with id = $id only name, price";
// The same ten statements as the native benchmark (benches/parse.rs).
const TEN = `use timeout 3000
use max-age 60

from search with q = $q, page = 1, limit = 50 only ids, total
from product with id = search.ids -> flatten only name, sku, images.url
from price with sku = product.sku only value, currency
from customer as me headers Authorization = $token with id = $customer
from cart timeout 800 with id = me.cartId
from shipping with zip = me.address.zip, items = cart.items.sku -> no-multiplex
from reviews with product = product.sku, sort = "recent" only rating, text -> matches("^[a-z ]+$") ignore-errors
from stock depends-on cart with skus = cart.items.sku -> json
to events with $event -> as-body
from recommendations in me.recommendations with user = me.id, filters = {kind: "tv", max: 20.5} hidden
`;
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
