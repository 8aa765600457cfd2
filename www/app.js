// The playground page: the editor checks the query as you type (parse, then explain to draw the
// plan and list its batch calls), runs go to a module worker (or to the demo server for saved
// queries), and the answer is shown as a waterfall of the run's trace, per-statement details,
// status, Cache-Control, stats and JSON.
import { init, parse, explain } from "/pkg/index.js";
import { SAMPLES } from "./samples.js";
import { drawGraph } from "./graph.js";
import { drawBatches } from "./batches.js";
import { drawWaterfall, legend, traceOf } from "./waterfall.js";
import { lineNumbers, placeMarker } from "./editor.js";

const $ = (id) => document.getElementById(id);
const CHECK_DELAY_MS = 150;

const ui = {
  query: $("query"),
  variables: $("variables"),
  mappings: $("mappings"),
  samples: $("samples"),
  saved: $("saved"),
  run: $("run"),
  cancel: $("cancel"),
  cache: $("cache"),
  state: $("state"),
};

/** What the page knows; also read by the tests through `window.playground`. */
const state = {
  config: null,
  plan: null,
  graph: null,
  parsed: null,
  batches: [],
  rows: [],
  reply: null,
  runId: 0,
  cacheEpoch: 0,
  running: null,
};
window.playground = state;

const runner = await makeRunner();
await init();
state.config = await (await fetch("/playground/config.json")).json();
setUp();

/** A module worker, or this page's own thread with `?inline` (to compare responsiveness). */
async function makeRunner() {
  if (new URLSearchParams(location.search).has("inline")) {
    const { createRunner } = await import("./runner.js");
    const inline = createRunner();
    return {
      send: (message) => (message.type === "run-saved" ? inline.runSaved(message) : inline.run(message)),
      cancel: (id) => inline.cancel(id),
    };
  }
  const worker = new Worker(new URL("./run-worker.js", import.meta.url), { type: "module" });
  const pending = new Map();
  worker.onmessage = ({ data }) => {
    pending.get(data.id)?.(data);
    pending.delete(data.id);
  };
  return {
    send: (message) =>
      new Promise((resolve) => {
        pending.set(message.id, resolve);
        worker.postMessage(message);
      }),
    cancel: (id) => worker.postMessage({ type: "cancel", id }),
  };
}

function setUp() {
  $("legend").append(legend());
  ui.mappings.value = JSON.stringify(state.config.mappings, null, 2);
  SAMPLES.forEach((sample, i) => ui.samples.append(new Option(sample.name, String(i))));
  for (const [namespace, names] of Object.entries(state.config.savedQueries)) {
    for (const [name, revisions] of Object.entries(names)) {
      revisions.forEach((_, i) => {
        const path = `/run-query/${namespace}/${name}/${i + 1}`;
        ui.saved.append(new Option(`${namespace}/${name}/${i + 1}`, path));
      });
    }
  }
  ui.samples.addEventListener("change", () => loadSample(SAMPLES[Number(ui.samples.value)]));
  ui.saved.addEventListener("change", () => {
    if (ui.saved.value) loadSaved(ui.saved.value);
    check();
  });
  let timer;
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(check, CHECK_DELAY_MS);
  };
  ui.query.addEventListener("input", () => {
    // Editing leaves the saved query: the editor's text is what runs now.
    ui.saved.value = "";
    lineNumbers(ui.query, $("gutter"));
    later();
  });
  ui.query.addEventListener("scroll", () => {
    $("gutter").scrollTop = ui.query.scrollTop;
    placeMarker(ui.query, $("marker"), state.problem);
  });
  ui.variables.addEventListener("input", later);
  ui.mappings.addEventListener("input", later);
  ui.query.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) run();
  });
  // A new client (an empty cache) after every change: off and on again empties the cache.
  ui.cache.addEventListener("change", () => state.cacheEpoch++);
  ui.run.addEventListener("click", run);
  ui.cancel.addEventListener("click", cancel);
  loadSample(SAMPLES[0]);
}

function loadSample(sample) {
  ui.variables.value = JSON.stringify(sample.variables ?? {});
  if (sample.saved) {
    const { namespace, name, revision } = sample.saved;
    const path = `/run-query/${namespace}/${name}/${revision}`;
    ui.saved.value = path;
    loadSaved(path);
  } else {
    ui.saved.value = "";
    ui.query.value = sample.query;
  }
  lineNumbers(ui.query, $("gutter"));
  check();
}

function loadSaved(path) {
  const [, , namespace, name, revision] = path.split("/");
  ui.query.value = state.config.savedQueries[namespace][name][Number(revision) - 1];
  lineNumbers(ui.query, $("gutter"));
}

/** Parses the JSON of a textarea; shows the problem under it. */
function readJson(textarea, problemId) {
  const problem = $(problemId);
  try {
    const value = JSON.parse(textarea.value || "{}");
    problem.hidden = true;
    return value;
  } catch (error) {
    problem.hidden = false;
    problem.textContent = `Not valid JSON: ${error.message}`;
    return undefined;
  }
}

/** Checks the query as typed: parse for errors, explain (with mappings) for the plan. */
function check() {
  const text = ui.query.value;
  const variables = readJson(ui.variables, "variables-problem");
  const mappings = readJson(ui.mappings, "mappings-problem");
  state.problem = null;
  state.plan = null;
  state.parsed = null;
  try {
    state.parsed = parse(text);
    if (variables && mappings) state.plan = explain(text, { mappings, variables });
  } catch (error) {
    // A RestqlError has a position; anything else (a malformed mapping object) only a message.
    state.problem = error.name === "RestqlError" ? error : { code: error.name, message: error.message };
  }
  showProblem(state.problem);
  state.graph = drawGraph($("graph"), state.plan);
  state.batches = drawBatches($("batches"), state.plan, state.parsed, mappings);
  const ok = Boolean(state.plan) && !state.running;
  ui.run.disabled = !ok;
  setState(state.running ? "running" : state.problem ? "error in query" : ok ? "ready" : "check the JSON");
}

function showProblem(error) {
  const box = $("problem");
  placeMarker(ui.query, $("marker"), error);
  const gutter = $("gutter");
  gutter.querySelectorAll(".bad").forEach((line) => line.classList.remove("bad"));
  if (!error) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  $("problem-code").textContent = error.code;
  $("problem-where").textContent = error.line ? `line ${error.line}, column ${error.column}` : "the mappings";
  $("problem-message").textContent = error.message;
  $("problem-snippet").textContent = error.snippet ?? "";
  box.dataset.line = String(error.line);
  box.dataset.column = String(error.column);
  gutter.children[error.line - 1]?.classList.add("bad");
}

async function run() {
  if (!state.plan || state.running) return;
  const variables = readJson(ui.variables, "variables-problem");
  const mappings = readJson(ui.mappings, "mappings-problem");
  if (!variables || !mappings) return;
  const id = ++state.runId;
  const plan = state.plan;
  state.running = id;
  ui.run.disabled = true;
  ui.cancel.disabled = false;
  setState("running");
  const message = ui.saved.value
    ? { type: "run-saved", id, path: ui.saved.value, variables }
    : { type: "run", id, query: ui.query.value, variables, mappings, cache: ui.cache.checked, cacheEpoch: state.cacheEpoch };
  const reply = await runner.send(message);
  state.running = null;
  ui.cancel.disabled = true;
  ui.run.disabled = !state.plan;
  state.reply = reply;
  show(reply, plan, mappings);
}

function cancel() {
  if (state.running) runner.cancel(state.running);
}

function show(reply, plan, mappings) {
  const problem = $("run-problem");
  problem.hidden = true;
  if (reply.cancelled || reply.error) {
    problem.hidden = false;
    problem.textContent = reply.cancelled ? "Cancelled: the calls in flight were aborted." : `${reply.error.name}: ${reply.error.message}`;
    setState(reply.cancelled ? "cancelled" : "failed");
    return;
  }
  const { result } = reply;
  if (result.error) {
    problem.hidden = false;
    problem.textContent = `${result.error.code ?? "error"}: ${result.error.message}`;
  }
  $("status").textContent = String(result.status);
  $("status").className = result.status >= 400 ? "bad" : "good";
  $("cache-control").textContent = result.headers?.["cache-control"] ?? "(none)";
  const trace = traceOf(result, reply.calls, plan, mappings);
  const stats = { ...result.stats };
  if (!Array.isArray(result.trace)) {
    // A saved query's answer has no stats beyond the calls: count them from the recorded trace.
    stats.deduped = trace.filter((e) => e.served === "deduped").length;
    stats.batched = trace.filter((e) => e.served === "batched").length;
  }
  $("stat-calls").textContent = String(stats.calls ?? "–");
  $("stat-deduped").textContent = String(stats.deduped ?? "–");
  $("stat-batched").textContent = String(stats.batched ?? "–");
  $("stat-cache").textContent = String(stats.cacheHits ?? "–");
  $("stat-duration").textContent = stats.durationMs == null ? "–" : `${Math.round(stats.durationMs)} ms`;
  state.rows = drawWaterfall($("waterfall"), trace, plan);
  showDetails(result.body, plan);
  $("result").textContent = JSON.stringify(withoutDebug(result.body), null, 2);
  setState("done");
}

/** One table row per statement: its status (or the statuses of its items), success, notes. */
function showDetails(body, plan) {
  const tbody = $("details").querySelector("tbody");
  tbody.replaceChildren();
  for (const s of plan?.statements ?? []) {
    const entry = body?.[s.id];
    const details = entry ? [entry.details].flat(Infinity) : [];
    const counts = new Map();
    for (const d of details) counts.set(d.status, (counts.get(d.status) ?? 0) + 1);
    const statuses = [...counts].map(([status, n]) => (n > 1 ? `${status} ×${n}` : String(status))).join(", ");
    const notes = [s.hidden && "hidden: not in the answer", s.ignoreErrors && "ignore-errors", `timeout ${s.timeoutMs} ms`];
    const row = document.createElement("tr");
    row.dataset.statement = s.id;
    for (const text of [
      s.id,
      entry ? statuses : "–",
      entry ? String(details.every((d) => d.success)) : "–",
      entry ? String(details.length) : "–",
      notes.filter(Boolean).join("; "),
    ]) {
      const td = document.createElement("td");
      td.textContent = text;
      row.append(td);
    }
    tbody.append(row);
  }
}

/** The body without `details.debug` (saved queries ask for it: it attributes the recorded calls). */
function withoutDebug(body) {
  return JSON.parse(JSON.stringify(body ?? {}), (key, value) => (key === "debug" ? undefined : value));
}

function setState(text) {
  ui.state.textContent = text;
  document.body.dataset.state = text;
}
