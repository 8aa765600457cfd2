// Where a query's time goes around its upstream waves, restql next to DataLoader, over the
// peer harness's HTTP upstream (keep-alive, 127.0.0.1, its getter): per query, when each call
// was sent and answered (DataLoader's: the getter's JSON.parse done; restql's: the body read
// as bytes, which it parses in the module), relative to the query's start; medians
// over the runs. A wave is the calls to one route. "from first answer" is the time from the
// previous wave's first answer to this wave's first request; "from last answer", from its
// last answer. A client that starts a dependent call as soon as the item it depends on is
// there (DataLoader) can send before the previous wave's last answer (negative).
//
//   node pkg/bench/waves.mjs [--scenario c] [--runs 100] [--warmup 300] [--latency 20]
//                            [--clients dataloader,restql] [--transport http|memory] [--peers DIR]
//
// Clients: dataloader, restql, restql-per-id, restql-no-window, restql-microtask, restql-parsed
// (see `makers`);
// each query of the run goes to each client in turn.
//
// `--transport memory` answers from the harness's data after the latency, with no sockets and
// no JSON parsing in the getter: what is left is each client's own time.
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

import { DEFAULT_PEERS, startUpstream } from "./harness.mjs";
import { createRestqlClient } from "./restql-client.mjs";

const { values: opt } = parseArgs({
  options: {
    scenario: { type: "string", default: "c" },
    runs: { type: "string", default: "100" },
    warmup: { type: "string", default: "300" },
    latency: { type: "string", default: "20" },
    clients: { type: "string", default: "dataloader,restql" },
    transport: { type: "string", default: "http" },
    peers: { type: "string", default: DEFAULT_PEERS },
  },
});
const { load, server, base } = await startUpstream(opt.peers, opt.latency);
const { params } = await load("scenarios.js");
const { createGetter } = await load("clients/http.js");
const dataloader = await load("clients/dataloader.js");

const latency = Number(opt.latency);
const getter = opt.transport === "memory" ? createGetter({ transport: "memory", lat: () => latency }) : createGetter({ base });

// Every call of the current query: route, sent and answered (ms from the query's start).
let calls = [];
let t0 = 0;
const timed = (fetchPath) => (path) => {
  const call = { route: path.slice(1).split(/[/?]/)[0], sent: performance.now() - t0, answered: NaN };
  calls.push(call);
  return fetchPath(path).finally(() => (call.answered = performance.now() - t0));
};
const get = timed(getter.get);
// restql's: the same call, the body read as bytes, not parsed (harness.mjs).
const getBytes = getter.getBytes && timed(getter.getBytes);
const p = params();
const makers = {
  dataloader: async () => dataloader.createClient({ get, p }),
  restql: async () => createRestqlClient({ get, getBytes, p, batch: true }),
  "restql-per-id": async () => createRestqlClient({ get, getBytes, p, batch: false }),
  // The batch routes' window off: keys collected within a query's waves only.
  "restql-no-window": async () => createRestqlClient({ get, getBytes, p, batch: true, window: "off" }),
  // The batch routes' window `microtask`: keys of queries started together, no task's end.
  "restql-microtask": async () => createRestqlClient({ get, getBytes, p, batch: true, window: "microtask" }),
  // Over the getter's parsed objects, encoded again once per path: the getter's JSON.parse
  // counted in restql's time, as the JS clients' is in theirs.
  "restql-parsed": async () => createRestqlClient({ get, p, batch: true }),
};
const names = opt.clients.split(",");
const clients = {};
for (const name of names) clients[name] = await makers[name]();

const median = (xs) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
// A query's calls grouped into waves by route, in the order the routes were first called.
function waves(list) {
  const byRoute = new Map();
  for (const c of list) {
    if (!byRoute.has(c.route)) byRoute.set(c.route, []);
    byRoute.get(c.route).push(c);
  }
  return [...byRoute].map(([route, cs]) => ({
    route,
    calls: cs.length,
    firstSent: Math.min(...cs.map((c) => c.sent)),
    lastSent: Math.max(...cs.map((c) => c.sent)),
    firstAnswered: Math.min(...cs.map((c) => c.answered)),
    lastAnswered: Math.max(...cs.map((c) => c.answered)),
  }));
}

const samples = Object.fromEntries(names.map((n) => [n, []]));
const total = Number(opt.warmup) + Number(opt.runs);
for (let i = 0; i < total; i++) {
  for (const name of names) {
    calls = [];
    const c0 = process.cpuUsage();
    t0 = performance.now();
    await clients[name][opt.scenario]();
    const end = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    if (i >= Number(opt.warmup)) samples[name].push({ end, cpu: (cpu.user + cpu.system) / 1000, waves: waves(calls) });
  }
}

const f = (x) => x.toFixed(2);
console.log(`scenario (${opt.scenario}), ${opt.transport}, latency ${opt.latency} ms, ${opt.runs} runs after ${opt.warmup}, node ${process.version}; ms from the query's start, medians`);
for (const name of names) {
  const runs = samples[name];
  const shape = runs[0].waves;
  console.log(`\n${name}: query ends ${f(median(runs.map((r) => r.end)))} ms, CPU ${f(median(runs.map((r) => r.cpu)))} ms`);
  console.log("| wave | calls | first sent | last sent | first answered | last answered | first sent from first answer | from last answer |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  shape.forEach((w, k) => {
    const at = (key) => median(runs.map((r) => r.waves[k]?.[key] ?? NaN));
    const since = (key) =>
      k === 0 ? at("firstSent") : median(runs.map((r) => (r.waves[k] ? r.waves[k].firstSent - r.waves[k - 1][key] : NaN)));
    console.log(
      `| ${w.route} | ${w.calls} | ${f(at("firstSent"))} | ${f(at("lastSent"))} | ${f(at("firstAnswered"))} | ${f(at("lastAnswered"))} | ${f(since("firstAnswered"))} | ${f(since("lastAnswered"))} |`,
    );
  });
  const tail = median(runs.map((r) => r.end - r.waves[r.waves.length - 1].lastAnswered));
  console.log(`| query ends | | | | | | | ${f(tail)} |`);
}
for (const c of Object.values(clients)) c.close?.();
getter.close();
server.kill();
