// A plain object (no import from "vite") so that the config also loads where Vite is
// installed elsewhere; `defineConfig` would only add editor hints.
/** @type {import("vite").UserConfig} */
export default {
  // JSX without a React plugin: Vite's own transform is enough for this app.
  oxc: { jsx: { runtime: "automatic" } },
  // restql-wasm finds its .wasm file next to its own module (new URL(..., import.meta.url));
  // pre-bundling would move the module away from the file.
  optimizeDeps: { exclude: ["restql-wasm"] },
  // restql-wasm is linked from ../../pkg here (an installed package needs neither line): its
  // react.js must use the app's React, and the dev server may serve files from that folder.
  resolve: { dedupe: ["react", "react-dom"] },
  server: { fs: { allow: [".", "../../pkg"] } },
};
