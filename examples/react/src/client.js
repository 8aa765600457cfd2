import { init, createClient } from "restql-wasm";

// Where the services run: `?upstream=http://host:port` on the page's URL, or the ones
// `npm run services` starts.
const upstream = new URLSearchParams(location.search).get("upstream") ?? "http://127.0.0.1:8787";

// Created once, at module load: every useQuery below <RestqlProvider> shares it. The provider
// accepts the promise, so nothing waits for the wasm module before the first render.
export const client = init().then(() =>
  createClient({
    mappings: {
      hero: `${upstream}/hero/:id`,
      sidekick: `${upstream}/sidekick/:id`,
    },
    timeoutMs: 3000,
  }),
);
