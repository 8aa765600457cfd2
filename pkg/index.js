// Browsers, Deno and bundlers: the module is fetched next to this file unless told otherwise.
import { initOnce, loadWasm } from "./lib/api.js";

export { RestqlError, parse } from "./lib/api.js";

/**
 * Loads the WebAssembly module. Idempotent. Accepts nothing (the bundled file), a URL, bytes,
 * a Response or a compiled WebAssembly.Module.
 */
export function init(input) {
  return initOnce(() => loadWasm(input ?? new URL("./dist/restql_bg.wasm", import.meta.url)));
}
