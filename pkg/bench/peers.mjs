// Orchestration cost per query of the built package next to its peers, in one process and
// one run: the peer harness's hand-written Promise.all client and its DataLoader client,
// and restql-wasm (the Rust orchestrator in WebAssembly, JS <-> wasm crossings included).
//
//   node pkg/bench/peers.mjs [--peers DIR] [--runs 300] [--warmup 100] [--scenarios a,b,c]
//                            [--build server|browser]
//
// restql runs on the server build (what Node loads), or with `--build browser` on the
// size-tuned module that browsers load (one build per process: they share the package's JS).
//
// --peers is the peer harness (scenarios, upstream data, clients); by default the folder
// `../shared/bench` beside the repository. It is copied to a temporary folder and its npm
// dependencies installed there. The transport is the harness's in-memory one with no latency:
// every client asks `get(path)` for the same cached upstream objects, so what differs is the
// client's own CPU. restql receives bytes, as from a real fetch (each path's JSON is encoded
// once and cached), and parses them in wasm; JS clients receive parsed objects, which flatters
// them slightly.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

import { createRestqlClient } from "./restql-client.mjs";
import { DEFAULT_PEERS, copyHarness } from "./harness.mjs";

const { values: opt } = parseArgs({
  options: {
    peers: { type: "string", default: DEFAULT_PEERS },
    runs: { type: "string", default: "300" },
    warmup: { type: "string", default: "100" },
    scenarios: { type: "string", default: "a,b,c" },
    build: { type: "string", default: "server" },
  },
});

const work = await copyHarness(opt.peers);
const load = (file) => import(pathToFileURL(join(work, file)).href);
const { params, normalize } = await load("scenarios.js");
const { createGetter } = await load("clients/http.js");
const promiseAll = await load("clients/promise-all.js");
const dataloader = await load("clients/dataloader.js");

const p = params();
const getter = createGetter({ transport: "memory", lat: () => 0 });

const restqlBatched = await createRestqlClient({ get: getter.get, p, batch: true, build: opt.build });
const restqlPerId = await createRestqlClient({ get: getter.get, p, batch: false, build: opt.build });

// ---- the run ---------------------------------------------------------------------------
const clients = {
  "hand-written Promise.all": promiseAll.createClient({ get: getter.get, p }),
  DataLoader: dataloader.createClient({ get: getter.get, p }),
  "restql-wasm (batch endpoints)": restqlBatched,
  "restql-wasm (per id)": restqlPerId,
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
// What no orchestrator that hands its answer to JS as JSON text can go below, in this process:
// JSON.parse of a text of restql's answer (status, headers, body, stats), and the harness's
// reading of the parsed body (for (c), a spread per item, which every client pays).
const floors = [];
for (const scn of opt.scenarios.split(",")) {
  const answer = await restqlBatched.run(scn);
  const text = JSON.stringify({ status: answer.status, headers: answer.headers, body: answer.body, stats: answer.stats, error: null });
  const parse = [];
  const pick = [];
  let sink;
  for (let i = 0; i < Number(opt.warmup) + Number(opt.runs); i++) {
    let cpu0 = process.cpuUsage();
    const parsed = JSON.parse(text);
    let cpu = process.cpuUsage(cpu0);
    if (i >= Number(opt.warmup)) parse.push(cpu.user + cpu.system);
    cpu0 = process.cpuUsage();
    sink = restqlBatched.pick[scn](parsed.body);
    cpu = process.cpuUsage(cpu0);
    if (i >= Number(opt.warmup)) pick.push(cpu.user + cpu.system);
  }
  if (!sink) throw new Error("no result");
  floors.push({ scenario: scn, bytes: text.length, parse: Math.round(quantile(parse, 0.5)), pick: Math.round(quantile(pick, 0.5)) });
}
for (const client of Object.values(clients)) client.close?.();

console.log(`node ${process.version}, restql's ${opt.build} build, ${opt.runs} runs after ${opt.warmup} warm-up, in-memory upstream, no latency\n`);
console.log("| scenario | client | upstream calls | CPU us/query p50 | wall us p50 | wall us p95 |");
console.log("|---|---|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| (${r.scenario}) | ${r.client} | ${r.calls} | ${r.cpuP50} | ${r.wallP50} | ${r.wallP95} |`);
}
console.log("\n| scenario | JSON.parse of restql's answer | its size | the harness reading the parsed body |");
console.log("|---|---:|---:|---:|");
for (const f of floors) {
  console.log(`| (${f.scenario}) | ${f.parse} us | ${f.bytes} B | ${f.pick} us |`);
}
