// The waterfall: one row per upstream call of a run (a batch call is one row, the items it
// served listed under it) and one row per item served without a call of its own (deduped,
// joined, cached), a bar from start to end, coloured by how it was served and how it ended,
// grouped by wave.

/**
 * The run's trace as entries `{ statement, item, method, url, batch?, chunk?, start, end,
 * status, served, failure? }` (`served`: sent, deduped, joined, batched or cached). The client
 * reports a `trace` for every run it makes; a saved query run through the demo server's HTTP
 * API has none, and the calls that server's fetch recorded stand in for it.
 */
export function traceOf(result, observed, plan, mappings) {
  if (Array.isArray(result?.trace)) {
    return result.trace.map((e) => ({ ...e, start: e.startMs, end: e.endMs }));
  }
  return observedTrace(observed ?? [], result?.body, plan, mappings);
}

/**
 * Trace entries from observed calls (the HTTP API gives no trace). Each call goes to the
 * statement item whose debug URL it has (else to the statement whose URL template it fits:
 * hidden statements have no details). A call to a mapping's batch endpoint serves the items
 * of that resource left without a call of their own whose key it carries; other items left
 * without a call were served by another item's call: deduped.
 */
export function observedTrace(calls, body, plan, mappings = {}) {
  const waiting = new Map(); // url -> statement items that asked for it, in order
  for (const [statement, entry] of Object.entries(body ?? {})) {
    if (!entry || typeof entry !== "object" || !("details" in entry)) continue;
    const details = [entry.details].flat(Infinity);
    details.forEach((d, item) => {
      const url = d?.debug?.url;
      if (!url) return;
      if (!waiting.has(url)) waiting.set(url, []);
      waiting.get(url).push({ statement, item: Array.isArray(entry.details) ? item : 0, status: d.status, params: d.debug.params });
    });
  }
  const trace = [];
  const sentByUrl = new Map();
  const batchCalls = [];
  calls.forEach((call, index) => {
    const aborted = call.error === "aborted";
    const status = call.status ?? (aborted ? 408 : 502);
    const failure = aborted ? "timeout" : status >= 200 && status < 400 ? undefined : "failed";
    const timing = { method: call.method, start: call.start, end: call.end ?? call.start, status, failure };
    const resource = batchResourceOf(call.url, mappings);
    if (resource) {
      batchCalls.push({ ...timing, resource, url: call.url, chunk: index, urls: new Set() });
      return;
    }
    const owner = waiting.get(call.url)?.shift() ?? { statement: statementOfUrl(call.url, plan, mappings), item: 0 };
    const entry = { ...timing, statement: owner.statement, item: owner.item, url: call.url, served: "sent" };
    trace.push(entry);
    sentByUrl.set(call.url, entry);
  });
  const resourceOf = new Map((plan?.statements ?? []).map((s) => [s.id, s.resource]));
  for (const [url, items] of waiting) {
    const sent = sentByUrl.get(url);
    for (const item of items) {
      const own = { statement: item.statement, item: item.item, url, status: item.status };
      if (sent) {
        trace.push({ ...sent, ...own, served: "deduped", failure: undefined });
        continue;
      }
      const batch = batchCallFor(batchCalls, resourceOf.get(item.statement), item.params, mappings);
      if (!batch) continue; // items that were skipped or whose call the recorder did not see
      // The first item with a URL is the batch's; later ones with that URL were deduped.
      const served = batch.urls.has(url) ? "deduped" : "batched";
      batch.urls.add(url);
      const failure = batch.failure ?? (item.status >= 200 && item.status < 400 ? undefined : "failed");
      const { method, start, end, chunk } = batch;
      trace.push({ ...own, method, start, end, chunk, batch: `${method} ${batch.url}`, served, failure });
    }
  }
  return trace;
}

/** The batch call of `resource` whose URL carries the item's key (its `batch.on` parameter). */
function batchCallFor(batchCalls, resource, params, mappings) {
  const candidates = batchCalls.filter((b) => b.resource === resource);
  const on = mappings[resource]?.batch?.on;
  const key = params && on != null ? params[on] : undefined;
  if (key == null) return candidates[0];
  const carries = (b) => {
    const query = decodeURIComponent(b.url.split("?")[1] ?? "");
    return query.split(/[&=,|\s()[\]]+/).includes(String(key));
  };
  return candidates.find(carries) ?? candidates[0];
}

/** The statement whose URL template the URL fits best (the longest literal prefix). */
function statementOfUrl(url, plan, mappings) {
  let best = null;
  let bestLength = -1;
  for (const s of plan?.statements ?? []) {
    const prefixes = [literalPrefix(s.url)];
    const batch = mappings[s.resource]?.batch?.request;
    if (typeof batch === "string") prefixes.push(batch.replace(/^[A-Z]+\s+/, ""));
    for (const prefix of prefixes) {
      if (prefix && url.startsWith(prefix) && prefix.length > bestLength) {
        best = s.id;
        bestLength = prefix.length;
      }
    }
  }
  return best;
}

/** A URL template up to its first placeholder (`/:id` or `?:q`); the host's `:port` stays. */
function literalPrefix(template) {
  const at = template.search(/[/?&]:/);
  return at < 0 ? template : template.slice(0, at + 1);
}

/** The resource whose batch endpoint (its mapping's `batch.request`) the URL is, if any. */
function batchResourceOf(url, mappings) {
  for (const [resource, mapping] of Object.entries(mappings ?? {})) {
    const request = mapping?.batch?.request;
    if (typeof request !== "string") continue;
    const batchUrl = request.replace(/^[A-Z]+\s+/, "");
    if (url === batchUrl || url.startsWith(`${batchUrl}?`)) return resource;
  }
  return null;
}

/** How an entry ended or was served, the class of its bar: ok, batched, deduped, joined, cached, failed or timeout. */
export function outcomeOf(entry) {
  if (entry.served === "cached") return "cached";
  if (entry.served === "deduped") return "deduped";
  if (entry.served === "joined") return "joined";
  if (entry.failure === "timeout" || entry.status === 408) return "timeout";
  if (entry.failure === "failed" || !(entry.status >= 200 && entry.status < 400)) return "failed";
  if (entry.served === "batched") return "batched";
  return "ok";
}

/**
 * The waterfall's rows: one per call sent (a batch call's items gathered into its row, by
 * `batch` and `chunk`) and one per item served without a call (deduped, joined, cached).
 * A row is `{ entry, items?, outcome }`; a batch row's entry is the call, its items the trace
 * entries it served.
 */
export function rowsOf(trace) {
  const rows = [];
  const batches = new Map();
  for (const entry of trace) {
    if (entry.served !== "batched") {
      rows.push({ entry, outcome: outcomeOf(entry) });
      continue;
    }
    const key = `${entry.chunk}|${entry.batch}`;
    let row = batches.get(key);
    if (!row) {
      const [method, ...url] = String(entry.batch ?? `${entry.method} ${entry.url}`).split(" ");
      row = { entry: { ...entry, item: null, method, url: url.join(" "), statements: [] }, items: [] };
      batches.set(key, row);
      rows.push(row);
    }
    row.items.push({ entry, outcome: outcomeOf({ ...entry, served: "sent" }) });
    const call = row.entry;
    call.start = Math.min(call.start, entry.start);
    call.end = Math.max(call.end, entry.end);
    if (!call.statements.includes(entry.statement)) call.statements.push(entry.statement);
  }
  for (const row of batches.values()) {
    const call = row.entry;
    call.statement = call.statements.join(",");
    // The trace gives the items' statuses, not the call's: a failed chunk fails each of its
    // items alike; a call that answered may still leave some items 404 (missing).
    const outcomes = new Set(row.items.map((i) => i.outcome));
    const statuses = row.items.map((i) => i.entry.status);
    const failedAlike = outcomes.size === 1 && (outcomes.has("failed") || outcomes.has("timeout")) && new Set(statuses).size === 1;
    row.outcome = failedAlike ? [...outcomes][0] : "batched";
    call.status = Math.min(...statuses);
  }
  return rows;
}

/**
 * Draws the waterfall into `container` (an element): a header with the time scale, then per
 * wave a separator and one row per call or item served without one, sorted by start.
 * @returns the rows drawn, in order, as `{ entry, items?, outcome, wave }`
 */
export function drawWaterfall(container, trace, plan) {
  container.replaceChildren();
  if (trace.length === 0) {
    container.append(paragraph("No upstream call was made."));
    return [];
  }
  const waveOf = new Map();
  (plan?.waves ?? []).forEach((ids, wave) => ids.forEach((id) => waveOf.set(id, wave)));
  // Ties (times are whole milliseconds) go to the rows that made a call, before the items
  // served without one, then by statement and item: the trace comes in the order calls ended,
  // which varies from run to run.
  const servedWithoutCall = (row) => (row.items ? 0 : ["deduped", "joined", "cached"].includes(row.entry.served) ? 1 : 0);
  const order = [...waveOf.keys()];
  const rankOf = (statement) => order.indexOf(statement);
  const statementRank = (row) => rankOf((row.entry.statements ?? [row.entry.statement])[0]);
  const byStatementAndItem = (a, b) => rankOf(a.entry.statement) - rankOf(b.entry.statement) || a.entry.item - b.entry.item;
  const rows = rowsOf(trace)
    .map((row) => {
      if (!row.items) return row;
      // A batch call's items and statements in query order, not in the order they ended.
      row.items.sort(byStatementAndItem);
      row.entry.statements.sort((a, b) => rankOf(a) - rankOf(b));
      row.entry.statement = row.entry.statements.join(",");
      return row;
    })
    .map((row) => ({ ...row, wave: Math.min(...(row.entry.statements ?? [row.entry.statement]).map((s) => waveOf.get(s) ?? Infinity)) }))
    .sort(
      (a, b) =>
        a.wave - b.wave ||
        a.entry.start - b.entry.start ||
        a.entry.end - b.entry.end ||
        servedWithoutCall(a) - servedWithoutCall(b) ||
        statementRank(a) - statementRank(b) ||
        (a.entry.item ?? -1) - (b.entry.item ?? -1),
    );
  const span = Math.max(1, ...rows.map((r) => r.entry.end));
  // An item's index is shown for statements with more than one item (multiplexed).
  const itemCount = new Map();
  for (const e of trace) itemCount.set(e.statement, Math.max(itemCount.get(e.statement) ?? 0, e.item + 1));
  const multiplexed = (statement) => itemCount.get(statement) > 1;

  const scale = document.createElement("div");
  scale.className = "wf-scale";
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const tick = document.createElement("span");
    tick.style.left = `${fraction * 100}%`;
    tick.textContent = `${Math.round(span * fraction)} ms`;
    scale.append(tick);
  }
  const header = document.createElement("div");
  header.className = "wf-row wf-head";
  header.append(cell("wf-label", "call"), cell("wf-track", ""));
  header.lastChild.append(scale);
  container.append(header);

  let lastWave = null;
  for (const row of rows) {
    if (row.wave !== lastWave) {
      lastWave = row.wave;
      const separator = document.createElement("div");
      separator.className = "wf-wave";
      separator.dataset.wave = Number.isFinite(row.wave) ? String(row.wave) : "";
      separator.textContent = Number.isFinite(row.wave) ? `wave ${row.wave + 1}` : "other calls";
      container.append(separator);
    }
    container.append(callRow(row, span, multiplexed));
    if (row.items) container.append(itemsRow(row.items));
  }
  return rows;
}

function callRow({ entry, items, outcome }, span, multiplexed) {
  const line = document.createElement("div");
  line.className = `wf-row wf-call ${outcome}`;
  line.dataset.statement = entry.statement ?? "";
  line.dataset.outcome = outcome;
  line.dataset.served = entry.served;
  line.dataset.status = String(entry.status ?? "");
  if (items) line.dataset.items = String(items.length);
  const label = cell("wf-label", "");
  const name = document.createElement("b");
  name.textContent = items ? `${entry.statement} ×${items.length}` : `${entry.statement ?? "?"}${multiplexed(entry.statement) ? `[${entry.item}]` : ""}`;
  label.append(name, ` ${entry.method} ${shortUrl(entry.url)}`);
  label.title = `${entry.method} ${entry.url}${entry.batch && !items ? `\n(its call: ${entry.batch})` : ""}`;
  const track = cell("wf-track", "");
  const bar = document.createElement("span");
  bar.className = "wf-bar";
  bar.style.left = `${(entry.start / span) * 100}%`;
  bar.style.width = `max(2px, ${((entry.end - entry.start) / span) * 100}%)`;
  bar.title = `${outcome}: ${entry.status ?? ""}, ${Math.round(entry.start)}–${Math.round(entry.end)} ms`;
  const note = document.createElement("span");
  note.className = "wf-note";
  const what = items ? `batch of ${items.length}` : outcome === "ok" ? "" : outcome;
  note.textContent = `${entry.status ?? ""} ${what} ${Math.round(entry.end - entry.start)} ms`;
  track.append(bar, note);
  line.append(label, track);
  return line;
}

/** The items a batch call served, one chip each (its status when not 2xx). */
function itemsRow(items) {
  const line = document.createElement("div");
  line.className = "wf-items";
  for (const { entry, outcome } of items) {
    const chip = document.createElement("span");
    chip.className = `wf-item ${outcome}`;
    chip.dataset.statement = entry.statement;
    chip.dataset.item = String(entry.item);
    chip.dataset.outcome = outcome;
    chip.dataset.status = String(entry.status);
    chip.textContent = `${entry.statement}[${entry.item}]${outcome === "ok" ? "" : ` ${entry.status}`}`;
    chip.title = `${entry.method} ${entry.url}: ${entry.status}`;
    line.append(chip);
  }
  return line;
}

/** A legend of the outcome colours, as an element. */
export function legend() {
  const box = document.createElement("div");
  box.className = "wf-legend";
  const meaning = {
    ok: "its own call, answered 2xx or 3xx",
    batched: "one call to a batch endpoint; the items it served are listed under it",
    deduped: "served by an identical call of the same run",
    joined: "served by a call another run had on the wire",
    cached: "answered by the client's cache (Cache-Control max-age), no call",
    failed: "answered 4xx or 5xx, or the connection failed",
    timeout: "aborted by its statement's timeout (408)",
  };
  for (const [outcome, title] of Object.entries(meaning)) {
    const key = document.createElement("span");
    key.className = `wf-key ${outcome}`;
    key.textContent = outcome;
    key.title = title;
    box.append(key);
  }
  return box;
}

function shortUrl(url) {
  try {
    const u = new URL(url);
    return `:${u.port}${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}

function cell(className, text) {
  const div = document.createElement("div");
  div.className = className;
  div.textContent = text;
  return div;
}

function paragraph(text) {
  const p = document.createElement("p");
  p.className = "muted";
  p.textContent = text;
  return p;
}
