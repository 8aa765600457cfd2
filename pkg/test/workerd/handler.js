// A Worker that is nothing but createHandler: saved queries over the services at env.UPSTREAM.
import { createHandler } from "../../workerd.js";

let handler;

export default {
  fetch(request, env) {
    handler ??= createHandler({
      mappings: { hero: `${env.UPSTREAM}/hero/:id`, sidekick: `${env.UPSTREAM}/sidekick/:id` },
      queries: {
        demo: {
          team: ["from hero with id = $id", "from hero with id = $id\nfrom sidekick with id = hero.sidekickId"],
        },
      },
      forwardHeaders: ["x-request-id"],
    });
    return handler(request);
  },
};
