// createClient / run in Deno against a Deno.serve service on 127.0.0.1.
import { assertEquals } from "./assert.js";
import { init, createClient } from "../../server.js";

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

Deno.test("a batch mapping collects two statements' keys in one window and one call", async () => {
  const seen = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    seen.push(url.pathname + url.search);
    const ids = url.searchParams.getAll("id").map(Number);
    return Response.json(ids.map((id) => ({ id, name: `item ${id}` })));
  });
  try {
    await init();
    const base = `http://127.0.0.1:${server.addr.port}`;
    const client = await createClient({
      mappings: { item: { url: `${base}/item/:id`, batch: { on: "id", request: `GET ${base}/items` } } },
    });
    const r = await client.run("from item as a with id = [1, 2]\nfrom item as b with id = [2, 3]");
    client.close();
    assertEquals(r.status, 200);
    assertEquals(r.body.a.result.map((x) => x.name), ["item 1", "item 2"]);
    assertEquals(r.body.b.result.map((x) => x.name), ["item 2", "item 3"]);
    assertEquals(seen, ["/items?id=1&id=2&id=3"]);
  } finally {
    await server.shutdown();
  }
});
