// React Native (Hermes has no WebAssembly): the same Rust code compiled to plain JavaScript
// by wasm2js. Loading is synchronous; `init` exists so that code is the same on every platform.
import "./lib/text-polyfill.js";
import * as glue from "./dist/rn/restql.js";
import { initOnce, useGlue } from "./lib/api.js";
import { handlerFactory } from "./lib/handler.js";

export { RestqlError, createClient, explain, parse } from "./lib/api.js";

useGlue(glue);

/** Idempotent; the module is already loaded. Any argument is ignored. */
export function init() {
  return initOnce(() => undefined);
}

/** restQL's HTTP API as a fetch handler; see index.d.ts. */
export const createHandler = handlerFactory(init);
