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

function call(name, arg) {
  if (!ready) {
    throw new Error("restql-wasm: call `await init()` first");
  }
  try {
    return glue[name](arg);
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
