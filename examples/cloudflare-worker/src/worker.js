// restQL's HTTP API as a Cloudflare Worker: saved queries served by createHandler.
import { createHandler } from "restql-wasm";
import queries from "./queries.json";

// Made on the first request, when `env` is known, then reused: one client, mappings parsed once.
let handler;

export default {
  fetch(request, env) {
    handler ??= createHandler({
      mappings: {
        user: `${env.UPSTREAM_URL}/users/:id`,
        posts: `${env.UPSTREAM_URL}/posts?:userId`,
      },
      queries,
    });
    return handler(request);
  },
};
