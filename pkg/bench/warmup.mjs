// CPU per query of scenario (c) over a process's first queries, in blocks of 100: restql-wasm
// (batch endpoints, the server build) and DataLoader, each in a fresh Node process, over the
// peer harness's in-memory upstream. Short benchmarks (the HTTP harness runs 40 queries a
// client) measure this start, not the steady state; `--node-flags=--liftoff-only` shows how
// much of it is V8 compiling the module with its optimising tier on background threads (their
// CPU counts as the process's).
//
//   node pkg/bench/warmup.mjs [--peers DIR] [--queries 2000] [--node-flags=--liftoff-only]
//                             [--build server|browser]
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { createRestqlClient } from "./restql-client.mjs";
import { DEFAULT_PEERS, copyHarness } from "./harness.mjs";

const { values: opt } = parseArgs({
  options: {
    peers: { type: "string", default: DEFAULT_PEERS },
    queries: { type: "string", default: "2000" },
    "node-flags": { type: "string", default: "" },
    build: { type: "string", default: "server" },
    child: { type: "string" },
    work: { type: "string" },
  },
});

const BLOCK = 100;

if (opt.child) {
  // One client in this process: print the mean CPU per query of each block, as JSON.
  const load = (file) => import(pathToFileURL(join(opt.work, file)).href);
  const { params } = await load("scenarios.js");
  const { createGetter } = await load("clients/http.js");
  const p = params();
  const getter = createGetter({ transport: "memory", lat: () => 0 });
  const client =
    opt.child === "restql"
      ? await createRestqlClient({ get: getter.get, p, batch: true, build: opt.build })
      : (await load("clients/dataloader.js")).createClient({ get: getter.get, p });
  const blocks = [];
  for (let b = 0; b < Number(opt.queries) / BLOCK; b++) {
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < BLOCK; i++) await client.c();
    const cpu = process.cpuUsage(cpu0);
    blocks.push(Math.round((cpu.user + cpu.system) / BLOCK));
  }
  client.close?.();
  console.log(JSON.stringify(blocks));
  process.exit(0);
}

const work = await copyHarness(opt.peers);
const self = fileURLToPath(import.meta.url);
const flags = opt["node-flags"].split(" ").filter(Boolean);
const runs = {};
for (const name of ["restql", "dataloader"]) {
  const run = spawnSync(process.execPath, [...flags, self, "--child", name, "--work", work, "--queries", opt.queries, "--build", opt.build], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
  runs[name] = JSON.parse(run.stdout.trim().split("\n").pop());
}
console.log(`node ${process.version} ${flags.join(" ")}, restql's ${opt.build} build, (c), in-memory upstream; mean CPU µs per query in each block of ${BLOCK}\n`);
console.log("| queries | restql-wasm (batch endpoints) | DataLoader | ratio |");
console.log("|---|---:|---:|---:|");
runs.restql.forEach((r, i) => {
  const d = runs.dataloader[i];
  console.log(`| ${i * BLOCK + 1}–${(i + 1) * BLOCK} | ${r} | ${d} | ${(r / d).toFixed(1)} |`);
});
