// A Worker using the package: POST /parse parses the body; POST /run runs it against the
// services at env.UPSTREAM.
import { init, parse, createClient, RestqlError } from "../../workerd.js";

export default {
  async fetch(request, env) {
    await init();
    const path = new URL(request.url).pathname;
    const text = await request.text();
    try {
      if (path === "/parse") return Response.json(parse(text));
      const client = await createClient({
        mappings: { hero: `${env.UPSTREAM}/hero/:id`, sidekick: `${env.UPSTREAM}/sidekick/:id` },
      });
      const r = await client.run(text, { variables: { id: "2" } });
      client.close();
      return Response.json(r.body, { status: r.status, headers: r.headers });
    } catch (error) {
      if (!(error instanceof RestqlError)) throw error;
      return Response.json({ code: error.code, line: error.line, column: error.column }, { status: 400 });
    }
  },
};
