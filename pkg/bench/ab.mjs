// Two builds of the package in one process, over the peer harness's upstream: the same
// scenario's queries alternate between them (A then B, then B then A), so that the machine's
// drift, which moves whole runs by up to 2x on a shared machine, falls on both alike. Reports
// each build's median and p95 latency and CPU per query, and the median of the paired
// differences (B − A): the figure to read, as a change is often smaller than the drift
// between two separate runs.
//
//   node pkg/bench/ab.mjs --a DIR --b DIR [--scenario c] [--runs 300] [--warmup 100]
//                         [--latency 20] [--transport http|memory] [--peers DIR]
//
// A build is a folder holding a built package (`bash pkg/build.sh`, then a copy of `pkg`):
// its `node.js`, `lib` and `dist/server` are what is loaded. `--transport memory` answers from
// the harness's data after the latency, with no sockets.
import { fork } from "node:child_process";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { DEFAULT_PEERS, copyHarness } from "./harness.mjs";
import { createRestqlClient } from "./restql-client.mjs";

const { values: opt } = parseArgs({
  options: {
    a: { type: "string" },
    b: { type: "string" },
    scenario: { type: "string", default: "c" },
    runs: { type: "string", default: "300" },
    warmup: { type: "string", default: "100" },
    latency: { type: "string", default: "20" },
    transport: { type: "string", default: "http" },
    peers: { type: "string", default: DEFAULT_PEERS },
  },
});
if (!opt.a || !opt.b) {
  console.error("usage: node pkg/bench/ab.mjs --a DIR --b DIR [--scenario c] [--runs 300] ...");
  process.exit(2);
}
const work = await copyHarness(opt.peers);
const load = (rel) => import(pathToFileURL(join(work, rel)).href);
const { params } = await load("scenarios.js");
const { createGetter } = await load("clients/http.js");

const latency = Number(opt.latency);
let getter;
let server;
if (opt.transport === "memory") {
  getter = createGetter({ transport: "memory", lat: () => latency });
} else {
  server = fork(join(work, "server.js"), ["--port", "0", "--latency", opt.latency], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const port = await new Promise((done) => server.once("message", (m) => done(m.port)));
  getter = createGetter({ base: `http://127.0.0.1:${port}` });
}
const p = params();
const builds = [opt.a, opt.b].map((dir) => resolve(dir));
const clients = [];
for (const packageDir of builds) clients.push(await createRestqlClient({ get: getter.get, getBytes: getter.getBytes, p, batch: true, packageDir }));

const ms = [[], []];
const cpu = [[], []];
const warmup = Number(opt.warmup);
const total = warmup + Number(opt.runs);
for (let i = 0; i < total; i++) {
  for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await clients[k][opt.scenario]();
    const took = performance.now() - t0;
    const used = process.cpuUsage(c0);
    if (i >= warmup) {
      ms[k].push(took);
      cpu[k].push((used.user + used.system) / 1000);
    }
  }
}

const sorted = (xs) => [...xs].sort((x, y) => x - y);
const at = (xs, q) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * q))];
const f = (x) => x.toFixed(3);
console.log(
  `scenario (${opt.scenario}), ${opt.transport}, latency ${opt.latency} ms, ${opt.runs} runs of each after ${opt.warmup}, node ${process.version}`,
);
console.log("| build | p50 ms | p95 ms | CPU ms/query p50 |");
console.log("|---|---:|---:|---:|");
["A", "B"].forEach((name, k) => console.log(`| ${name} (${builds[k]}) | ${f(at(ms[k], 0.5))} | ${f(at(ms[k], 0.95))} | ${f(at(cpu[k], 0.5))} |`));
const paired = ms[1].map((x, i) => x - ms[0][i]);
console.log(`\nB − A, median of the paired differences: ${f(at(paired, 0.5))} ms (p25 ${f(at(paired, 0.25))}, p75 ${f(at(paired, 0.75))})`);
for (const c of clients) c.close();
getter.close();
server?.kill();
