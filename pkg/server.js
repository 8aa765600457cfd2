// Deno: the speed-tuned server module, fetched next to this file unless told otherwise.
import * as glue from "./dist/server/restql.js";
import { initOnce, useGlue } from "./lib/api.js";
import { handlerFactory } from "./lib/handler.js";

export { RestqlError, createClient, explain, parse } from "./lib/api.js";

useGlue(glue);

/**
 * Loads the WebAssembly module. Idempotent. Accepts nothing (the bundled file), a URL, bytes,
 * a Response or a compiled WebAssembly.Module.
 */
export function init(input) {
  return initOnce(() =>
    glue.default({ module_or_path: input ?? new URL("./dist/server/restql_bg.wasm", import.meta.url) }),
  );
}

/** restQL's HTTP API as a fetch handler; see index.d.ts. */
export const createHandler = handlerFactory(init);
