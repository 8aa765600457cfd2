// Where restql's time goes between the steps of one query, over the peer harness's HTTP
// upstream, each query right after a DataLoader one (as in the other benchmarks, so that the
// machine is in the same state): the time from each step the package's JS can see to the
// next, medians over the runs. The steps: the run's start (`run`), the module's task polled
// (`poll` .. `poll-end`) or woken (`wake`), a call handed to the fetch function (`send`) and
// the getter called (`get`), its answer's bytes (`bytes`), headers read (`response`), body
// read (`body`) and passed into the module (`answered` .. `answered-end`), a timer set
// (`timer N ms`) or cleared (`timer cleared`), a next-task message (`next-task`), a
// statement's part parsed (`part` .. `part-end`), the run's answer reaching JS (`answer`) and
// parsed (`parsed`), and the query's end in the harness's reading (`end`).
//
//   node pkg/bench/steps.mjs [--scenario b] [--runs 300] [--warmup 200] [--latency 20]
//                            [--package DIR] [--peers DIR]
//
// The marks go into a copy of the package (`--package`: another built copy, by default this
// one), made in a temporary folder: its glue (`dist/server/restql.js`), its inline JS snippet
// and `lib/api.js`. Each mark costs about a microsecond, so the sums run a little over the
// query's own figures; what the table is for is the share of each step. A package built by
// `bash pkg/bench/marked-build.sh DIR` also marks steps inside the module (`m:...`: the run's
// task, its plan, the executor's waits and wakes, a batch flush, the run's end, its shaping,
// its answer written).
import { cp, mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { DEFAULT_PEERS, startUpstream } from "./harness.mjs";
import { createRestqlClient } from "./restql-client.mjs";

const { values: opt } = parseArgs({
  options: {
    scenario: { type: "string", default: "b" },
    runs: { type: "string", default: "300" },
    warmup: { type: "string", default: "200" },
    latency: { type: "string", default: "20" },
    package: { type: "string", default: fileURLToPath(new URL("..", import.meta.url)) },
    peers: { type: "string", default: DEFAULT_PEERS },
  },
});

const MARK = "globalThis.__restqlStep?.";
// Per file of the package (`snippet`: the inline JS snippet's file), the text a mark goes
// after (`after`), before (`before`), or that it replaces (`with`): each must be there exactly
// once, or the copy is not the package these marks were written for.
const PATCHES = {
  "dist/server/restql.js": [
    { at: "queueMicrotask(arg0);", with: `${MARK}("wake"); queueMicrotask(() => { ${MARK}("poll"); arg0(); ${MARK}("poll-end"); });` },
    { at: "const ret = setTimeout(arg0, arg1);", before: `${MARK}(\`timer \${arg1} ms\`);` },
    { at: "clearTimeout(arg0);", before: `${MARK}("timer cleared");` },
  ],
  snippet: [
    { at: "export function restqlSend(fetch, url, method, headers, body, limit, id, answered, failed) {", after: `${MARK}("send");` },
    { at: "responded.then((response) => {", after: `${MARK}("response");` },
    { at: "buffer.then((bytes) => {", after: `${MARK}("body");` },
    { at: "answered(id, status, flat, view.length > limit ? undefined : view);", before: `${MARK}("answered");`, after: `${MARK}("answered-end");` },
    { at: "export function restqlNextTask(callback) {", after: `${MARK}("next-task");` },
  ],
  "lib/api.js": [
    { at: 'if (closed) throw new Error("restql-wasm: this client was closed");', before: `${MARK}("run");` },
    { at: "parts.set(name, expandPart(JSON.parse(text)));", before: `${MARK}("part");`, after: `${MARK}("part-end");` },
    { at: "const outcome = JSON.parse(bodyText ? answer[0] : answer);", before: `${MARK}("answer");`, after: `${MARK}("parsed");` },
  ],
};

function patched(source, patches, file) {
  let out = source;
  for (const p of patches) {
    if (out.split(p.at).length !== 2) {
      console.error(`steps.mjs: ${file} does not hold "${p.at}" once: not the package these marks were written for`);
      process.exit(2);
    }
    const text = p.with ?? `${p.before ?? ""}${p.at}${p.after ?? ""}`;
    out = out.replace(p.at, () => text);
  }
  return out;
}

// The marked copy of the package.
const copy = await mkdtemp(join(tmpdir(), "restql-steps-"));
for (const part of ["node.js", "package.json", "lib", "dist/server"]) await cp(join(opt.package, part), join(copy, part), { recursive: true });
const [snippetDir] = await readdir(join(copy, "dist/server/snippets"));
for (const [name, patches] of Object.entries(PATCHES)) {
  const file = name === "snippet" ? `dist/server/snippets/${snippetDir}/inline0.js` : name;
  const path = join(copy, file);
  await writeFile(path, patched(await readFile(path, "utf8"), patches, file));
}

const { load, server, base } = await startUpstream(opt.peers, opt.latency);
const { params } = await load("scenarios.js");
const { createGetter } = await load("clients/http.js");
const dataloader = await load("clients/dataloader.js");
const getter = createGetter({ base });

let marks = null;
globalThis.__restqlStep = (label) => marks?.push([label, performance.now()]);
const marked = (label, f) => (path) => {
  marks?.push([label, performance.now()]);
  return f(path).then((bytes) => {
    marks?.push(["bytes", performance.now()]);
    return bytes;
  });
};
const p = params();
const scn = opt.scenario;
const dl = dataloader.createClient({ get: getter.get, p });
const restql = await createRestqlClient({ get: getter.get, getBytes: marked("get", getter.getBytes), p, packageDir: copy });

const runs = [];
const total = Number(opt.warmup) + Number(opt.runs);
for (let i = 0; i < total; i++) {
  await dl[scn]();
  marks = [["start", performance.now()]];
  await restql[scn]();
  marks.push(["end", performance.now()]);
  if (i >= Number(opt.warmup)) runs.push(marks);
  marks = null;
}
restql.close();
getter.close();
server.kill();

// The runs whose steps came in the commonest order (timers and the upstream's answers can
// reorder them), step by step.
const signature = (r) => r.map(([label]) => label).join(",");
const counts = new Map();
for (const r of runs) counts.set(signature(r), (counts.get(signature(r)) ?? 0) + 1);
const [common] = [...counts].sort((a, b) => b[1] - a[1]);
const same = runs.filter((r) => signature(r) === common[0]);
const median = (xs) => xs.sort((a, b) => a - b)[(xs.length - 1) >> 1];
const labels = same[0].map(([label]) => label);
const step = (k) => median(same.map((r) => r[k][1] - r[k - 1][1]));
const µs = (ms) => (ms * 1000).toFixed(1);

console.log(`scenario (${scn}), http, latency ${opt.latency} ms, ${opt.runs} runs after ${opt.warmup}, each after a DataLoader query, node ${process.version}`);
console.log(`${same.length} of ${runs.length} runs had the commonest order of steps; medians\n`);
console.log("| from | to | µs |");
console.log("|---|---|---:|");
for (let k = 1; k < labels.length; k++) {
  const d = step(k);
  console.log(`| ${labels[k - 1]} | ${labels[k]} | ${d > 2 ? `(waits ${d.toFixed(2)} ms)` : µs(d)} |`);
}
// Phases: the start (to the first getter call), each hop (an answer's bytes to the next getter
// call), the end (the last bytes to the query's end).
const phase = (from, to) => median(same.map((r) => r[to][1] - r[from][1]));
const gets = labels.flatMap((l, k) => (l === "get" ? [k] : []));
const bytes = labels.flatMap((l, k) => (l === "bytes" ? [k] : []));
console.log("\n| phase | µs |");
console.log("|---|---:|");
console.log(`| start: the run to the first call | ${µs(phase(0, gets[0]))} |`);
const lastBeforeAnswers = gets.filter((g) => g < bytes[0]).at(-1);
if (lastBeforeAnswers !== gets[0]) console.log(`| start: the run to its last call before any answer | ${µs(phase(0, lastBeforeAnswers))} |`);
bytes.forEach((b, i) => {
  const next = gets.find((g) => g > b);
  if (next !== undefined && next < (bytes[i + 1] ?? Infinity)) console.log(`| an answer (step ${b}) to the next call (step ${next}) | ${µs(phase(b, next))} |`);
});
console.log(`| end: the last answer to the query's end | ${µs(phase(bytes.at(-1), labels.length - 1))} |`);
