// Runs queries for the playground: ad-hoc ones with a client in this realm (its runs report
// their trace), saved ones on the demo server's restQL API. Used by the module worker
// (run-worker.js) so that the page stays responsive, and directly by the page when it is
// opened with `?inline` (to compare).
import { init, createClient } from "/pkg/index.js";

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
 * Runs ad-hoc queries in this realm and saved ones on the server. One client per mappings text,
 * cache setting and `cacheEpoch` (the page counts the cache toggle's changes): its runs share
 * its cache, and turning the cache off and on again starts an empty one.
 */
export function createRunner() {
  const controllers = new Map();
  let client = null;
  let clientKey = null;

  async function clientFor(mappings, cache, cacheEpoch) {
    const key = JSON.stringify([mappings, cache, cacheEpoch]);
    if (client && clientKey === key) return client;
    client?.close();
    client = null;
    await init();
    client = await createClient({
      mappings,
      timeoutMs: 5000,
      cache,
      // The browser's HTTP cache is bypassed: the only cache a run shows is restql's.
      fetch: (input, options) => fetch(input, { ...options, cache: "no-store" }),
    });
    clientKey = key;
    return client;
  }

  /** Runs an ad-hoc query; resolves to `{ id, result }`, `{ id, error }` or `{ id, cancelled }`. */
  async function run({ id, query, variables, mappings, cache = true, cacheEpoch = 0 }) {
    const controller = new AbortController();
    controllers.set(id, controller);
    try {
      const c = await clientFor(mappings, cache, cacheEpoch);
      const result = await c.run(query, { variables, signal: controller.signal, trace: true });
      if (result.error) result.error = plainError(result.error);
      return { id, result };
    } catch (error) {
      if (controller.signal.aborted) return { id, cancelled: true };
      return { id, error: plainError(error) };
    } finally {
      controllers.delete(id);
    }
  }

  /**
   * Runs a saved query through the demo server's restQL API. The API answers with no trace:
   * the server records the upstream calls and returns them in a header.
   */
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
