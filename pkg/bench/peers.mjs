// Orchestration cost per query of the built package next to its peers, in one process and
// one run: the peer harness's hand-written Promise.all client and its DataLoader client,
// and restql-wasm (the Rust orchestrator in WebAssembly, JS <-> wasm crossings included).
//
//   node pkg/bench/peers.mjs [--peers DIR] [--runs 300] [--warmup 100] [--scenarios a,b,c]
//
// --peers is the peer harness (scenarios, upstream data, clients); by default the folder
// `../shared/bench` beside the repository. It is copied to a temporary folder and its npm
// dependencies installed there. The transport is the harness's in-memory one with no latency:
// every client asks `get(path)` for the same cached upstream objects, so what differs is the
// client's own CPU. restql receives bytes, as from a real fetch (each path's JSON is encoded
// once and cached), and parses them in wasm; JS clients receive parsed objects, which flatters
// them slightly.
import { cp, mkdtemp, access } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

import { init, createClient } from "../node.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const { values: opt } = parseArgs({
  options: {
    peers: { type: "string", default: resolve(root, "..", "shared", "bench") },
    runs: { type: "string", default: "300" },
    warmup: { type: "string", default: "100" },
    scenarios: { type: "string", default: "a,b,c" },
  },
});

await access(join(opt.peers, "scenarios.js")).catch(() => {
  console.error(`no peer harness at ${opt.peers}: pass --peers DIR`);
  process.exit(2);
});
const work = await mkdtemp(join(tmpdir(), "restql-peers-"));
await cp(opt.peers, work, { recursive: true, filter: (src) => !src.includes("node_modules") });
execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: work, stdio: "inherit" });
const load = (file) => import(pathToFileURL(join(work, file)).href);
const { params, normalize } = await load("scenarios.js");
const { createGetter } = await load("clients/http.js");
const promiseAll = await load("clients/promise-all.js");
const dataloader = await load("clients/dataloader.js");

const p = params();
const getter = createGetter({ transport: "memory", lat: () => 0 });

// ---- restql-wasm as a harness client ---------------------------------------------------
const ORIGIN = "http://upstream.test";
const encoded = new Map();
const encoder = new TextEncoder();
const headerList = [["content-type", "application/json"]];
function fetchOverGetter(url) {
  const path = url.slice(ORIGIN.length);
  return getter.get(path).then((body) => {
    let bytes = encoded.get(path);
    if (!bytes) {
      bytes = encoder.encode(JSON.stringify(body));
      encoded.set(path, bytes);
    }
    return { status: 200, headers: headerList, arrayBuffer: () => Promise.resolve(bytes.buffer) };
  });
}

await init();
const restql = await createClient({
  fetch: fetchOverGetter,
  mappings: {
    customer: `${ORIGIN}/customer/:id`,
    cart: `${ORIGIN}/cart/:id`,
    product: `${ORIGIN}/product/:id`,
    price: `${ORIGIN}/price/:id`,
    shipping: `${ORIGIN}/shipping?:zip&:items`,
    search: `${ORIGIN}/search?:q&:n&:unique`,
  },
});
const QUERIES = {
  a: `from customer with id = "${p.customerId}"
from cart with id = "C${p.customerId}"
from product with id = "${p.productId}"
from price with id = "P${p.productId}"`,
  b: `from customer with id = "${p.customerId}"
from cart with id = customer.cartId
from shipping with zip = customer.zip, items = cart.items.productId -> no-multiplex`,
  c: `from search with q = "${p.q}", n = ${p.n}, unique = ${p.unique}
from product with id = search.ids
from price with id = product.priceId`,
};
const restqlClient = {
  async a() {
    const b = (await restql.run(QUERIES.a)).body;
    return { customer: b.customer.result, cart: b.cart.result, product: b.product.result, price: b.price.result };
  },
  async b() {
    const b = (await restql.run(QUERIES.b)).body;
    return { customer: b.customer.result, cart: b.cart.result, shipping: b.shipping.result };
  },
  async c() {
    const b = (await restql.run(QUERIES.c)).body;
    const prices = b.price.result;
    return { ids: b.search.result.ids, items: b.product.result.map((x, i) => ({ ...x, price: prices[i] })) };
  },
};

// ---- the run ---------------------------------------------------------------------------
const clients = {
  "hand-written Promise.all": promiseAll.createClient({ get: getter.get, p }),
  DataLoader: dataloader.createClient({ get: getter.get, p }),
  "restql-wasm": restqlClient,
};
const quantile = (xs, f) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(f * s.length) - 1))];
};

const rows = [];
for (const scn of opt.scenarios.split(",")) {
  const expected = normalize(scn, await clients["hand-written Promise.all"][scn]());
  const samples = Object.fromEntries(Object.keys(clients).map((n) => [n, { cpu: [], calls: 0 }]));
  const runs = Number(opt.runs);
  const warmup = Number(opt.warmup);
  // Interleave clients per iteration so that drift (GC, JIT, other processes) hits all alike.
  for (let i = 0; i < warmup + runs; i++) {
    for (const [name, client] of Object.entries(clients)) {
      getter.reset();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const result = await client[scn]();
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      if (i === 0 && normalize(scn, result) !== expected) throw new Error(`${name} answers (${scn}) differently`);
      if (i >= warmup) {
        samples[name].cpu.push(cpu.user + cpu.system);
        samples[name].wall = (samples[name].wall ?? []).concat(wall * 1000);
        samples[name].calls = getter.stats().calls;
      }
    }
  }
  for (const [name, s] of Object.entries(samples)) {
    rows.push({
      scenario: scn,
      client: name,
      calls: s.calls,
      cpuP50: Math.round(quantile(s.cpu, 0.5)),
      wallP50: Math.round(quantile(s.wall, 0.5)),
      wallP95: Math.round(quantile(s.wall, 0.95)),
    });
  }
}
restql.close();

console.log(`node ${process.version}, ${opt.runs} runs after ${opt.warmup} warm-up, in-memory upstream, no latency\n`);
console.log("| scenario | client | upstream calls | CPU us/query p50 | wall us p50 | wall us p95 |");
console.log("|---|---|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| (${r.scenario}) | ${r.client} | ${r.calls} | ${r.cpuP50} | ${r.wallP50} | ${r.wallP95} |`);
}
