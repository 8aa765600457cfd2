// createClient / run in Deno against a Deno.serve service on 127.0.0.1.
import { assertEquals } from "./assert.js";
import { init, createClient } from "../../index.js";

Deno.test("run in Deno calls the service and shapes the answer", async () => {
  const seen = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    seen.push(path);
    const id = Number(path.split("/").pop());
    return Response.json({ id, tags: ["a", "b"] }, { headers: { "cache-control": "max-age=10" } });
  });
  try {
    await init();
    const client = await createClient({ mappings: { item: `http://127.0.0.1:${server.addr.port}/item/:id` } });
    const r = await client.run("from item with id = [3, 4] only id");
    client.close();
    assertEquals(r.status, 200);
    assertEquals(r.headers["cache-control"], "max-age=10");
    assertEquals(r.body.item.result, [{ id: 3 }, { id: 4 }]);
    assertEquals(seen.sort(), ["/item/3", "/item/4"]);
  } finally {
    await server.shutdown();
  }
});
