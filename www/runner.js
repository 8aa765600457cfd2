// Runs queries for the playground and records every upstream call the run makes. Used by the
// module worker (run-worker.js) so that the page stays responsive, and directly by the page
// when it is opened with `?inline` (to compare).
import { init, createClient } from "/pkg/index.js";

/** Statuses whose responses have no body (a Response with one would throw). */
const NO_BODY = new Set([101, 204, 205, 304]);

/** A plain, cloneable copy of an error (a RestqlError's fields survive postMessage this way). */
export function plainError(error) {
  if (!error || typeof error !== "object") return { message: String(error) };
  const plain = { name: error.name, message: error.message };
  for (const key of ["code", "phase", "line", "column", "columnUtf16", "snippet"]) {
    if (error[key] !== undefined) plain[key] = error[key];
  }
  return plain;
}

/**
 * A fetch that records each call: method, URL, start and end in ms from `origin`, status,
 * or `error` ("aborted" when the run aborted it: a statement timeout or a cancel).
 */
export function recordingFetch(calls, origin) {
  return async (input, options = {}) => {
    const call = { method: options.method ?? "GET", url: String(input), start: performance.now() - origin };
    calls.push(call);
    try {
      const response = await fetch(input, options);
      // The call ends when its body has arrived, not when its headers have.
      const bytes = NO_BODY.has(response.status) ? null : await response.arrayBuffer();
      call.end = performance.now() - origin;
      call.status = response.status;
      if (fromBrowserCache(call.url)) call.cached = "browser";
      return new Response(bytes, { status: response.status, statusText: response.statusText, headers: response.headers });
    } catch (error) {
      call.end = performance.now() - origin;
      call.error = error?.name === "AbortError" ? "aborted" : String(error?.message ?? error);
      throw error;
    }
  };
}

// Resource Timing keeps 250 entries by default; a run may make up to 1000 calls.
performance.setResourceTimingBufferSize?.(4000);

/**
 * Whether the browser's HTTP cache answered the last request for `url`: nothing was
 * transferred, yet there is a body (needs `Timing-Allow-Origin` from another origin).
 */
function fromBrowserCache(url) {
  const entries = performance.getEntriesByName?.(url, "resource") ?? [];
  const last = entries[entries.length - 1];
  return Boolean(last && last.transferSize === 0 && last.decodedBodySize > 0);
}

/** Runs ad-hoc queries in this realm (one client per mappings text) and saved ones on the server. */
export function createRunner() {
  const controllers = new Map();
  let client = null;
  let clientMappings = null;

  // The client's fetch is fixed when it is made, so it calls the current run's recorder. Runs
  // go one at a time (the page cancels the previous one first): one recorder is enough.
  const current = { fetch: fetch.bind(globalThis) };

  async function clientFor(mappings) {
    const text = JSON.stringify(mappings);
    if (client && clientMappings === text) return client;
    client?.close();
    client = null;
    await init();
    client = await createClient({
      mappings,
      timeoutMs: 5000,
      fetch: (input, options) => current.fetch(input, options),
    });
    clientMappings = text;
    return client;
  }
  /** Runs an ad-hoc query; resolves to `{ id, result, calls }`, `{ id, error }` or `{ id, cancelled }`. */
  async function run({ id, query, variables, mappings }) {
    const controller = new AbortController();
    controllers.set(id, controller);
    const calls = [];
    let origin = performance.now();
    try {
      const c = await clientFor(mappings);
      // Time starts once the client is ready: a new client's set-up is not part of the run.
      origin = performance.now();
      performance.clearResourceTimings?.();
      current.fetch = recordingFetch(calls, origin);
      const result = await c.run(query, { variables, debug: true, signal: controller.signal });
      if (result.error) result.error = plainError(result.error);
      return { id, result, calls, elapsedMs: performance.now() - origin };
    } catch (error) {
      if (controller.signal.aborted) return { id, cancelled: true, calls };
      return { id, error: plainError(error), calls };
    } finally {
      controllers.delete(id);
    }
  }

  /** Runs a saved query through the demo server's restQL API; its calls come back in a header. */
  async function runSaved({ id, path, variables }) {
    const controller = new AbortController();
    controllers.set(id, controller);
    const origin = performance.now();
    try {
      const response = await fetch(`${path}?_debug=true`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-playground-trace": "1" },
        body: JSON.stringify(variables ?? {}),
        signal: controller.signal,
      });
      const body = await response.json();
      const calls = JSON.parse(response.headers.get("x-playground-trace") ?? "[]");
      const elapsedMs = performance.now() - origin;
      const headers = {};
      const cacheControl = response.headers.get("cache-control");
      if (cacheControl) headers["cache-control"] = cacheControl;
      const result = {
        status: response.status,
        headers,
        body,
        stats: { calls: calls.length, durationMs: Math.round(elapsedMs) },
      };
      return { id, result, calls, elapsedMs, saved: true };
    } catch (error) {
      if (controller.signal.aborted) return { id, cancelled: true, calls: [] };
      return { id, error: plainError(error), calls: [] };
    } finally {
      controllers.delete(id);
    }
  }

  function cancel(id) {
    controllers.get(id)?.abort(new DOMException("cancelled", "AbortError"));
  }

  return { run, runSaved, cancel };
}
