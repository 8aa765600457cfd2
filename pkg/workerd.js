// Cloudflare Workers: the module is imported as a compiled WebAssembly.Module (no fetch, no eval).
import module from "./dist/restql_bg.wasm";
import { initOnce, loadWasm } from "./lib/api.js";

export { RestqlError, parse } from "./lib/api.js";

/** Loads the WebAssembly module. Idempotent; `input` overrides the bundled module. */
export function init(input) {
  return initOnce(() => loadWasm(input ?? module));
}
