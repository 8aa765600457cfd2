// restQL's HTTP API on Deno: Deno.serve takes the fetch handler as it is.
import { createHandler } from "restql-wasm";
import queries from "./queries.json" with { type: "json" };

const upstream = Deno.env.get("UPSTREAM_URL") ?? "https://jsonplaceholder.typicode.com";
const port = Number(Deno.env.get("PORT") ?? 8080);

const handler = createHandler({
  mappings: {
    user: `${upstream}/users/:id`,
    posts: `${upstream}/posts?:userId`,
  },
  queries,
});

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: ({ port }) => console.log(`restQL example listening on http://127.0.0.1:${port}`),
}, handler);
