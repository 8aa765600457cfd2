// How long (c)'s last hop takes in restql-wasm, from the last upstream answer to the run's
// answer in JS, with the whole body and with the prices alone (`search` and `product`
// hidden): what shaping and parsing the statements that ended earlier costs the last hop.
// Over the peer harness's HTTP upstream; the two queries alternate; medians.
//
//   node pkg/bench/tail.mjs [--runs 400] [--warmup 200] [--latency 20] [--peers DIR]
import { fork } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { DEFAULT_PEERS, copyHarness } from "./harness.mjs";
import { createRestqlClient } from "./restql-client.mjs";

const { values: opt } = parseArgs({
  options: {
    runs: { type: "string", default: "400" },
    warmup: { type: "string", default: "200" },
    latency: { type: "string", default: "20" },
    peers: { type: "string", default: DEFAULT_PEERS },
  },
});
const work = await copyHarness(opt.peers);
const load = (rel) => import(pathToFileURL(join(work, rel)).href);
const { params } = await load("scenarios.js");
const { createGetter } = await load("clients/http.js");
const server = fork(join(work, "server.js"), ["--port", "0", "--latency", opt.latency], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
const port = await new Promise((resolve) => server.once("message", (m) => resolve(m.port)));
const getter = createGetter({ base: `http://127.0.0.1:${port}` });

let lastAnswer = 0;
const getBytes = (path) => getter.getBytes(path).finally(() => (lastAnswer = performance.now()));
const restql = await createRestqlClient({ get: getter.get, getBytes, p: params(), batch: true });
const lines = restql.queries.c.split("\n");
const queries = {
  "whole body": restql.queries.c,
  "prices alone": lines.map((line, i) => (i < lines.length - 1 ? `${line} hidden` : line)).join("\n"),
};
const tails = Object.fromEntries(Object.keys(queries).map((name) => [name, []]));
for (let i = 0; i < Number(opt.warmup) + Number(opt.runs); i++) {
  for (const [name, query] of Object.entries(queries)) {
    const answer = await restql.client.run(query);
    const tail = performance.now() - lastAnswer;
    if (answer.status !== 200) throw new Error(`${name}: status ${answer.status}`);
    if (i >= Number(opt.warmup)) tails[name].push(tail);
  }
}
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
console.log(`(c), latency ${opt.latency} ms, ${opt.runs} runs each after ${opt.warmup}, node ${process.version}`);
console.log("| body | last answer → the run's answer in JS, median |\n|---|---:|");
for (const [name, xs] of Object.entries(tails)) console.log(`| ${name} | ${median(xs).toFixed(3)} ms |`);
restql.close();
getter.close();
server.kill();
