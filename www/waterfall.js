// The waterfall: one row per upstream call of a run, a bar from its start to its end, coloured
// by how it was served and how it ended, grouped by wave.

/**
 * The run's calls as trace entries `{ statement, item, method, url, start, end, status, served }`
 * (`served`: sent, deduped, joined, batched or cached). A `trace` reported by the client is
 * used as it is; without one, the calls the page's fetch observed stand in for it (there,
 * `cached` means the browser's HTTP cache answered).
 */
export function traceOf(result, observed, plan, mappings) {
  if (Array.isArray(result?.trace)) {
    return result.trace.map((e) => ({
      ...e,
      start: e.start ?? e.startMs ?? 0,
      end: e.end ?? e.endMs ?? e.start ?? e.startMs ?? 0,
      served: e.served ?? e.how ?? "sent",
    }));
  }
  return observedTrace(observed, result?.body, plan, mappings);
}

/**
 * Trace entries from observed calls. Each call goes to the statement item whose debug URL it
 * has (else to the statement whose URL template it fits: hidden statements have no details);
 * items left without a call of their own were served by another item's call: deduped.
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
      waiting.get(url).push({ statement, item: Array.isArray(entry.details) ? item : null, status: d.status });
    });
  }
  const trace = [];
  const sentByUrl = new Map();
  for (const call of calls) {
    const owner = waiting.get(call.url)?.shift() ?? { statement: statementOfUrl(call.url, plan, mappings), item: null };
    const aborted = call.error === "aborted";
    const status = call.status ?? (aborted ? 408 : 502);
    const entry = {
      statement: owner.statement,
      item: owner.item,
      method: call.method,
      url: call.url,
      start: call.start,
      end: call.end ?? call.start,
      status,
      served: call.cached ? "cached" : isBatchUrl(call.url, mappings) ? "batched" : "sent",
    };
    if (aborted) entry.timedOut = true;
    trace.push(entry);
    sentByUrl.set(call.url, entry);
  }
  for (const [url, items] of waiting) {
    const sent = sentByUrl.get(url);
    if (!sent) continue; // skipped items and calls the recorder did not see
    for (const item of items) {
      trace.push({ ...sent, statement: item.statement, item: item.item, status: item.status, served: "deduped", timedOut: undefined });
    }
  }
  return trace;
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

/** Whether a URL is a batch endpoint's (the `request` of a mapping's `batch`) and not a single item's. */
function isBatchUrl(url, mappings) {
  for (const mapping of Object.values(mappings ?? {})) {
    const request = mapping?.batch?.request;
    if (typeof request !== "string") continue;
    const batchUrl = request.replace(/^[A-Z]+\s+/, "");
    if (url === batchUrl || url.startsWith(`${batchUrl}?`)) return true;
  }
  return false;
}

/** The class a row's bar gets: ok, deduped, batched, cached, failed or timeout. */
export function outcomeOf(entry) {
  if (entry.served === "cached") return "cached";
  if (entry.served === "deduped" || entry.served === "joined") return "deduped";
  if (entry.timedOut || entry.status === 408) return "timeout";
  if (!(entry.status >= 200 && entry.status < 400)) return "failed";
  if (entry.served === "batched") return "batched";
  return "ok";
}

/**
 * Draws the waterfall into `container` (an element): a header with the time scale, then per
 * wave a separator and one row per call, sorted by start.
 * @returns the rows drawn, in order, as `{ entry, outcome, wave }`
 */
export function drawWaterfall(container, trace, plan) {
  container.replaceChildren();
  if (trace.length === 0) {
    container.append(paragraph("No upstream call was made."));
    return [];
  }
  const waveOf = new Map();
  (plan?.waves ?? []).forEach((ids, wave) => ids.forEach((id) => waveOf.set(id, wave)));
  const rows = trace
    .map((entry) => ({ entry, outcome: outcomeOf(entry), wave: waveOf.get(entry.statement) ?? Infinity }))
    .sort((a, b) => a.wave - b.wave || a.entry.start - b.entry.start || a.entry.end - b.entry.end);
  const span = Math.max(1, ...rows.map((r) => r.entry.end));

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
    const { entry, outcome } = row;
    const line = document.createElement("div");
    line.className = `wf-row wf-call ${outcome}`;
    line.dataset.statement = entry.statement ?? "";
    line.dataset.outcome = outcome;
    line.dataset.status = String(entry.status ?? "");
    const item = entry.item == null ? "" : `[${entry.item}]`;
    const path = shortUrl(entry.url);
    const label = cell("wf-label", "");
    const name = document.createElement("b");
    name.textContent = `${entry.statement ?? "?"}${item}`;
    label.append(name, ` ${entry.method} ${path}`);
    label.title = `${entry.method} ${entry.url}`;
    const track = cell("wf-track", "");
    const bar = document.createElement("span");
    bar.className = "wf-bar";
    bar.style.left = `${(entry.start / span) * 100}%`;
    bar.style.width = `max(2px, ${((entry.end - entry.start) / span) * 100}%)`;
    bar.title = `${outcome}: ${entry.status ?? ""}, ${Math.round(entry.start)}–${Math.round(entry.end)} ms`;
    const note = document.createElement("span");
    note.className = "wf-note";
    note.textContent = `${entry.status ?? ""} ${outcome === "ok" ? "" : outcome} ${Math.round(entry.end - entry.start)} ms`;
    track.append(bar, note);
    line.append(label, track);
    container.append(line);
  }
  return rows;
}

/** A legend of the outcome colours, as an element. */
export function legend() {
  const box = document.createElement("div");
  box.className = "wf-legend";
  const meaning = {
    ok: "sent and answered (2xx, 3xx)",
    deduped: "served by an identical call of the same run",
    batched: "sent to a batch endpoint",
    cached: "answered by a cache: restql's, or the browser's HTTP cache",
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
