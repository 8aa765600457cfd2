// createHandler served by Deno.serve, in front of a Deno.serve service, both on 127.0.0.1.
import { assertEquals } from "./assert.js";
import { createHandler } from "../../server.js";

function serveOnFreePort(handler) {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
}

Deno.test("Deno.serve serves restQL's HTTP API through createHandler", async () => {
  const seen = [];
  const service = serveOnFreePort((request) => {
    const url = new URL(request.url);
    seen.push({ path: url.pathname, authorization: request.headers.get("authorization") });
    const id = Number(url.pathname.split("/").pop());
    return Response.json({ id, name: `item ${id}` }, { headers: { "cache-control": "max-age=10" } });
  });
  const handler = createHandler({
    mappings: { item: `http://127.0.0.1:${service.addr.port}/item/:id` },
    queries: { shop: { item: ["from item with id = $id", "from item as it with id = $id only name"] } },
    forwardHeaders: ["authorization"],
  });
  const server = serveOnFreePort(handler);
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    const saved = await fetch(`${base}/run-query/shop/item/2?tenant=DEFAULT&id=4`, {
      headers: { authorization: "Bearer d", cookie: "c=1" },
    });
    assertEquals(saved.status, 200);
    assertEquals(saved.headers.get("cache-control"), "max-age=10");
    assertEquals(await saved.json(), { it: { details: { metadata: {}, status: 200, success: true }, result: { name: "item 4" } } });
    assertEquals(seen, [{ path: "/item/4", authorization: "Bearer d" }]);

    const json = await fetch(`${base}/run-query/shop/item/1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: [5, 6] }),
    });
    assertEquals(json.status, 200);
    assertEquals((await json.json()).item.result.map((i) => i.id), [5, 6]);

    const adHoc = await fetch(`${base}/run-query`, { method: "POST", body: "from item with id = foo.id" });
    assertEquals(adHoc.status, 400);
    assertEquals((await adHoc.json()).code, "unknown-chain-target");

    const revision = await fetch(`${base}/run-query/shop/item/0`);
    assertEquals([revision.status, await revision.json()], [422, { error: "validation error: revision must be greater than 0" }]);

    const valid = await fetch(`${base}/validate-query`, { method: "POST", body: "from item" });
    assertEquals([valid.status, await valid.text()], [200, ""]);
    assertEquals(seen.length, 3);
  } finally {
    handler.close();
    await server.shutdown();
    await service.shutdown();
  }
});
