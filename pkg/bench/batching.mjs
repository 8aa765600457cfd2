// restql-wasm next to its peers over real HTTP, in one run of the peer harness
// (`shared/bench/run.js`): upstream calls, p50 / p95 latency and that minus the critical path,
// client CPU per query, for scenarios (a), (b), (c). restql runs with the harness's batch
// routes declared in its mappings (`restql`) and without (`restql-per-id`). On request
// (`--clients ...,restql-no-window`), also with the batch routes' `window: "off"`: keys are
// collected within a query's waves only, as the harness's request-scoped DataLoaders do,
// with no wait for the end of the task; and (`restql-microtask`) with `window: "microtask"`:
// keys of the queries started together, once the promise reactions queued have run.
//
//   node [node flags] pkg/bench/batching.mjs [--peers DIR] [--prewarm N] [-- run.js flags]
//
// Node's flags (e.g. V8's) are passed on to the harness's process. `--prewarm N` has restql
// run N rounds of (a), (b), (c) over the harness's in-memory getter before the first measured
// query: the module's hot code is then compiled by V8's optimising tier.
//
// Examples (run.js flags): `-- --scenarios a,b,c --runs 50`, the per-item cost case
// `-- --scenarios c --per-item 1`, growth `-- --scenarios c --n 1000 --unique 1000`.
import { readFile, writeFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { DEFAULT_PEERS, copyHarness } from "./harness.mjs";

const { values: opt, positionals } = parseArgs({
  options: { peers: { type: "string", default: DEFAULT_PEERS }, prewarm: { type: "string", default: "0" } },
  allowPositionals: true,
});

const work = await copyHarness(opt.peers);
const client = pathToFileURL(new URL("./restql-client.mjs", import.meta.url).pathname).href;
await writeFile(
  join(work, "clients", "restql.js"),
  `import { createRestqlClient } from ${JSON.stringify(client)};\nimport { createGetter } from "./http.js";\n` +
    // `--prewarm N`: N rounds of (a), (b), (c) over the in-memory getter before the harness's first query.
    `const rounds = ${Number(opt.prewarm)};\n` +
    "const warmGetter = rounds > 0 ? createGetter({ transport: 'memory' }) : undefined;\n" +
    "const prewarm = warmGetter ? { rounds, get: warmGetter.get } : undefined;\n" +
    "export const createClient = (o) => wrap(createRestqlClient({ ...o, prewarm }));\n" +
    // The harness builds clients synchronously: each scenario waits for the client first.
    "function wrap(ready) {\n  const call = (s) => () => ready.then((c) => c[s]());\n  return { a: call('a'), b: call('b'), c: call('c') };\n}\n",
);
const runJs = join(work, "run.js");
let source = await readFile(runJs, "utf8");
source = source
  .replace("import * as falcor", "import * as restql from './clients/restql.js';\nimport * as falcor")
  .replace(
    "const CLIENTS = {",
    "const CLIENTS = {\n  restql: (o) => restql.createClient({ ...o, batch: true }),\n  'restql-no-window': (o) => restql.createClient({ ...o, batch: true, window: 'off' }),\n  'restql-microtask': (o) => restql.createClient({ ...o, batch: true, window: 'microtask' }),\n  'restql-per-id': (o) => restql.createClient({ ...o, batch: false }),",
  )
  .replace("const USES_BATCH = new Set([", "const USES_BATCH = new Set(['restql', 'restql-no-window', 'restql-microtask', ")
  // restql reads the bodies as bytes (harness.mjs): the same calls, counted alike.
  .replace("CLIENTS[n]({ get: getter.get, p })", "CLIENTS[n]({ get: getter.get, getBytes: getter.getBytes, p })");
if (!source.includes("getBytes: getter.getBytes")) {
  console.error(`the harness's run.js (${runJs}) is not the one this benchmark extends`);
  process.exit(2);
}
await writeFile(runJs, source);

const args = positionals.length ? positionals : ["--scenarios", "a,b,c"];
if (!args.includes("--clients")) args.push("--clients", "promise-all,mini,dataloader,falcor,restql,restql-per-id");
const run = spawnSync(process.execPath, [...process.execArgv, runJs, ...args], { cwd: work, stdio: "inherit" });
process.exit(run.status ?? 1);
