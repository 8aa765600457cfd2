// Node: fetch() cannot read file: URLs, so the bundled module is read from disk.
import { readFile } from "node:fs/promises";
import { initOnce, loadWasm } from "./lib/api.js";

export { RestqlError, parse } from "./lib/api.js";

/**
 * Loads the WebAssembly module. Idempotent. Accepts nothing (the bundled file), a URL, bytes,
 * a Response or a compiled WebAssembly.Module.
 */
export function init(input) {
  return initOnce(async () =>
    loadWasm(input ?? (await readFile(new URL("./dist/restql_bg.wasm", import.meta.url)))),
  );
}
