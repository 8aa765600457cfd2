// Cloudflare Workers: the speed-tuned server module, imported as a compiled WebAssembly.Module
// (no fetch, no eval).
import module from "./dist/server/restql_bg.wasm";
import * as glue from "./dist/server/restql.js";
import { initOnce, useGlue } from "./lib/api.js";
import { handlerFactory } from "./lib/handler.js";

export { RestqlError, createClient, explain, parse } from "./lib/api.js";

useGlue(glue);

/** Loads the WebAssembly module. Idempotent; `input` overrides the bundled module. */
export function init(input) {
  return initOnce(() => glue.default({ module_or_path: input ?? module }));
}

/** restQL's HTTP API as a fetch handler; see index.d.ts. */
export const createHandler = handlerFactory(init);
