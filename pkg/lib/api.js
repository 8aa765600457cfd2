// The package's API over the wasm glue. Values cross as JSON text (see src/wasm.rs): JSON.parse
// makes plain objects, and an upstream key such as "__proto__" stays an ordinary property.
import * as wasm from "../dist/restql.js";

let ready = null;

/**
 * Runs `load` once; later calls share the first call's promise, whatever they pass.
 * @param {() => Promise<unknown>} load
 */
export function initOnce(load) {
  if (!ready) {
    ready = load().catch((error) => {
      ready = null; // a failed load may be retried
      throw error;
    });
  }
  return ready.then(() => undefined);
}

/** Loads the module from what the caller gave: a URL or path string, bytes, a Response or a compiled module. */
export function loadWasm(input) {
  return wasm.default({ module_or_path: input });
}

/** The error every restql function throws for a bad query. */
export class RestqlError extends Error {
  constructor(detail, all) {
    super(detail.message);
    this.name = "RestqlError";
    this.code = detail.code;
    this.phase = detail.phase;
    this.line = detail.line;
    this.column = detail.column;
    this.columnUtf16 = detail.columnUtf16;
    this.start = detail.start;
    this.end = detail.end;
    this.expected = detail.expected;
    this.found = detail.found;
    this.snippet = detail.snippet;
    this.errors = all ?? [detail];
  }
}

function call(fn, ...args) {
  if (!ready) {
    throw new Error("restql-wasm: call `await init()` first");
  }
  try {
    return fn(...args);
  } catch (thrown) {
    throw toRestqlError(thrown);
  }
}

function toRestqlError(thrown) {
  if (typeof thrown !== "string") return thrown;
  let report;
  try {
    report = JSON.parse(thrown);
  } catch {
    return new Error(thrown);
  }
  return new RestqlError(report.error, report.errors);
}

/** Parses and validates a query; returns its canonical JSON form. */
export function parse(text) {
  return JSON.parse(call(wasm.parse, String(text)));
}
