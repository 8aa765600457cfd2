// What a frontend pays: each entry point bundled and minified by esbuild (tree-shaken to what
// a typical import uses), plus the WebAssembly module, compressed with brotli (quality 11).
//
//   node pkg/bench/size.mjs        (after `bash pkg/build.sh`)
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants } from "node:zlib";

const pkg = fileURLToPath(new URL("..", import.meta.url));
const brotli = (bytes) =>
  brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const kb = (n) => (n / 1024).toFixed(1);

async function bundle(source, conditions) {
  const out = await build({
    stdin: { contents: source, resolveDir: pkg, sourcefile: "usage.js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "neutral",
    conditions,
    mainFields: ["module", "main"],
    external: ["*.wasm", "node:*", "react"],
    write: false,
    logLevel: "error",
  });
  return out.outputFiles[0].contents;
}

const wasm = await readFile(new URL("../dist/restql_bg.wasm", import.meta.url));
// Node, Deno and Workers load the speed-tuned build.
const serverWasm = await readFile(new URL("../dist/server/restql_bg.wasm", import.meta.url));
const rows = [
  ["browser: init + createClient", 'export { init, createClient } from "restql-wasm";', ["browser"], wasm],
  ["browser: everything", 'export * from "restql-wasm";', ["browser"], wasm],
  ["Workers: createHandler (server build)", 'export { init, createHandler } from "restql-wasm";', ["workerd"], serverWasm],
  ["React Native (pure JS)", 'export { init, createClient } from "restql-wasm";', ["react-native"], null],
];
console.log("| entry point | JS min | JS brotli | wasm | wasm brotli | total brotli |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const [label, source, conditions, module] of rows) {
  const js = await bundle(source, conditions);
  const jsBr = brotli(js);
  const wasmBr = module ? brotli(module) : 0;
  console.log(
    `| ${label} | ${kb(js.length)} KB | ${kb(jsBr)} KB | ${module ? kb(module.length) + " KB" : "-"} | ${module ? kb(wasmBr) + " KB" : "-"} | **${kb(jsBr + wasmBr)} KB** |`,
  );
}
