// The package's API over the wasm-bindgen glue, shared by every entry point. Values cross as
// JSON text (see src/wasm.rs): JSON.parse makes plain objects, and an upstream key such as
// "__proto__" stays an ordinary own property. No class syntax: Hermes 0.12 has none.

let glue = null;
let ready = null;

/** Entry points hand over the glue module they import (web or pure-JS build). */
export function useGlue(module) {
  glue = module;
}

/**
 * Runs `load` once; later calls share the first call's promise, whatever they pass. A failed
 * load may be retried.
 * @param {() => Promise<unknown>} load
 */
export function initOnce(load) {
  if (!ready) {
    ready = Promise.resolve()
      .then(load)
      .catch((error) => {
        ready = null;
        throw error;
      });
  }
  return ready.then(() => undefined);
}

/** The error every restql function throws for a bad query. */
export function RestqlError(detail, all) {
  const error = new Error(detail.message);
  Object.setPrototypeOf(error, RestqlError.prototype);
  error.name = "RestqlError";
  error.code = detail.code;
  error.phase = detail.phase;
  error.line = detail.line;
  error.column = detail.column;
  error.columnUtf16 = detail.columnUtf16;
  error.start = detail.start;
  error.end = detail.end;
  error.expected = detail.expected;
  error.found = detail.found;
  error.snippet = detail.snippet;
  error.errors = all || [detail];
  return error;
}
RestqlError.prototype = Object.create(Error.prototype, {
  constructor: { value: RestqlError, writable: true, configurable: true },
  name: { value: "RestqlError", writable: true, configurable: true },
});

function loaded() {
  if (!ready) {
    throw new Error("restql-wasm: call `await init()` first");
  }
  return glue;
}

function call(name, ...args) {
  const module = loaded();
  try {
    return module[name](...args);
  } catch (thrown) {
    throw toRestqlError(thrown);
  }
}

function toRestqlError(thrown) {
  if (typeof thrown !== "string") return thrown;
  let report;
  try {
    report = JSON.parse(thrown);
  } catch (_) {
    return new Error(thrown);
  }
  return RestqlError(report.error, report.errors);
}

/** Parses and validates a query; returns its canonical JSON form. */
export function parse(text) {
  return JSON.parse(call("parse", String(text)));
}

/** The plan of a query over mappings: waves, calls, multiplexing, dedupe; `text` is the indented form. */
export function explain(text, options = {}) {
  const config = { mappings: options.mappings ?? {}, variables: options.variables ?? {} };
  return JSON.parse(call("explain", String(text), JSON.stringify(config)));
}

const PHASES_THAT_THROW = ["parse", "validate", "plan"];

// The module writes each detail that has no debug output as one number, its status plus 1000
// under ignore-errors (src/exec/shape.rs, `CompactDetails`): making the objects here costs
// less than parsing one per multiplexed item. Keys in restQL's order.
function detailOf(code) {
  const ignore = code >= 1000;
  const status = ignore ? code - 1000 : code;
  return { status, success: status >= 200 && status < 400, metadata: ignore ? { "ignore-errors": "ignore" } : {} };
}

function expandDetails(details) {
  if (typeof details === "number") return detailOf(details);
  if (Array.isArray(details)) {
    for (let i = 0; i < details.length; i++) details[i] = expandDetails(details[i]);
  }
  return details;
}

/** A statement's part of the body, its details made from their compact form. */
function expandPart(part) {
  if (part !== null && typeof part === "object" && "details" in part) part.details = expandDetails(part.details);
  return part;
}

/**
 * A client's run whose result has `bodyText` (the body as JSON text) in place of `body`: for
 * `createHandler`, which sends the body on without reading it.
 */
export const RUN_TO_TEXT = Symbol("restql-wasm run to text");

// clientRun's flags (src/wasm.rs).
const RUN_DEBUG = 1;
const RUN_TRACE = 2;
const RUN_BODY_TEXT = 4;

// A run's variables or headers as JSON text, or undefined when there are none: a query
// without them then pays for no JSON.stringify and no parse in the module (after idle time,
// the first JSON.stringify of a run alone took 23.5 µs). Anything but a plain object with no
// own keys is written out, for the module to take or refuse.
function jsonUnlessEmpty(value) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "object" && !Array.isArray(value) && typeof value.toJSON !== "function") {
    for (const key in value) if (Object.prototype.hasOwnProperty.call(value, key)) return JSON.stringify(value);
    return undefined;
  }
  return JSON.stringify(value);
}

/**
 * A client: mappings parsed once, a fetch function, limits. `run` resolves to restQL's
 * answer; a query that does not parse, validate or plan rejects with a RestqlError.
 */
export async function createClient(options = {}) {
  loaded();
  await ready;
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  if (typeof fetchFn !== "function") {
    throw new TypeError("restql-wasm: no fetch function: pass `fetch` to createClient");
  }
  const config = {
    mappings: options.mappings ?? {},
    timeoutMs: options.timeoutMs,
    queryTimeoutMs: options.queryTimeoutMs,
    maxCalls: options.maxCalls,
    maxStatements: options.maxStatements,
    maxResponseBytes: options.maxResponseBytes,
    cache: options.cache ?? false,
  };
  const id = call("clientNew", JSON.stringify(config), fetchFn);
  let closed = false;
  // `bodyText`: the body comes back as JSON text, for a caller that sends it on unread.
  async function runQuery(query, runOptions, bodyText) {
    if (closed) throw new Error("restql-wasm: this client was closed");
    const flags = (runOptions.debug ? RUN_DEBUG : 0) | (runOptions.trace ? RUN_TRACE : 0) | (bodyText ? RUN_BODY_TEXT : 0);
    // Statements' parts of the body, parsed as each one is final while the run waits for
    // other calls; the body the run resolves to holds 0 in their place.
    let parts;
    const onStatement = bodyText
      ? undefined
      : (name, text) => {
          if (parts === undefined) parts = new Map();
          parts.set(name, expandPart(JSON.parse(text)));
        };
    let answer;
    try {
      answer = await loaded().clientRun(
        id,
        String(query),
        jsonUnlessEmpty(runOptions.variables),
        jsonUnlessEmpty(runOptions.headers),
        flags,
        runOptions.signal ?? undefined,
        onStatement,
      );
    } catch (thrown) {
      throw toRestqlError(thrown);
    }
    const outcome = JSON.parse(bodyText ? answer[0] : answer);
    const body = outcome.body;
    // A query-level error's body, `{"error": message}`, has no parts to make.
    if (!bodyText && body !== null && typeof body === "object") {
      for (const name of Object.keys(body)) {
        const part = body[name];
        if (part === 0 && parts !== undefined && parts.has(name)) {
          // An own property already (the 0 JSON.parse made): assigning it, even `__proto__`,
          // replaces the value and leaves the prototype alone.
          body[name] = parts.get(name);
        } else {
          expandPart(part);
        }
      }
    }
    if (outcome.error && PHASES_THAT_THROW.includes(outcome.error.phase)) {
      throw RestqlError(outcome.error, [outcome.error]);
    }
    const result = { status: outcome.status, headers: outcome.headers };
    if (bodyText) result.bodyText = answer[1];
    else result.body = outcome.body;
    result.stats = outcome.stats;
    if (outcome.trace) result.trace = outcome.trace;
    if (outcome.error) result.error = RestqlError(outcome.error, [outcome.error]);
    return result;
  }
  return {
    run: (query, runOptions = {}) => runQuery(query, runOptions, false),
    [RUN_TO_TEXT]: (query, runOptions = {}) => runQuery(query, runOptions, true),
    close() {
      if (!closed) {
        closed = true;
        loaded().clientFree(id);
      }
    },
  };
}
