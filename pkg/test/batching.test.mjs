// Batch endpoints, calls shared across runs and the client cache, in Node against real
// services on 127.0.0.1: json-server (a real REST backend that takes repeated `id`
// parameters) and a small shop whose batch route can fail or be slow per chunk.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { init, createClient } from "../node.js";

const PKG = fileURLToPath(new URL("..", import.meta.url));

/** A shop: `/products?id=..` (a batch route) and `/product/:id`. Id 13 fails its chunk; `slow` waits. */
async function startShop() {
  const calls = [];
  const aborted = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url, "http://x");
    calls.push({ path: url.pathname, ids: url.searchParams.getAll("id"), auth: request.headers.authorization, at: performance.now() });
    const send = (status, body, headers = {}) => {
      if (response.writableEnded || response.destroyed) return;
      response.writeHead(status, { "content-type": "application/json", ...headers });
      response.end(JSON.stringify(body));
    };
    const product = (id) => ({ id: Number(id), name: `Product ${id}`, owner: request.headers.authorization ?? null });
    const delay = Number(url.searchParams.get("delay") ?? 0);
    const answer = () => {
      if (url.pathname === "/products") {
        const ids = url.searchParams.getAll("id");
        if (ids.includes("13")) return send(503, { error: "chunk down" });
        // Unordered, and id 404 is unknown: the split must not rely on order or completeness.
        return send(200, ids.filter((id) => id !== "404").reverse().map(product), { "cache-control": "max-age=60" });
      }
      const single = url.pathname.match(/^\/product\/(\d+)$/);
      if (single) return send(200, product(single[1]), { "cache-control": "max-age=60" });
      send(404, { error: "not found" });
    };
    if (delay > 0) {
      const timer = setTimeout(answer, delay);
      request.on("close", () => {
        if (!response.writableEnded) {
          clearTimeout(timer);
          aborted.push(url.pathname + url.search);
        }
      });
    } else answer();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, calls, aborted, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** json-server over a temporary db on a free port; resolves once it answers. */
async function startJsonServer() {
  const dir = await mkdtemp(join(tmpdir(), "restql-json-server-"));
  const db = join(dir, "db.json");
  const products = Array.from({ length: 12 }, (_, i) => ({ id: i + 1, name: `Product ${i + 1}`, price: 10 * (i + 1) }));
  await writeFile(db, JSON.stringify({ products }));
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = probe.address().port;
  await new Promise((resolve) => probe.close(resolve));
  const child = spawn(process.execPath, [join(PKG, "node_modules/json-server/lib/cli/bin.js"), "--host", "127.0.0.1", "--port", String(port), "--quiet", db], {
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/products/1`)).ok) break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { url, close: () => child.kill() };
}

/** A fetch that counts the calls it sends. */
function countingFetch() {
  const urls = [];
  const fetchFn = (input, init) => {
    urls.push(String(input));
    return fetch(input, init);
  };
  return { fetch: fetchFn, urls };
}

let shop;
let jsonServer;
before(async () => {
  await init();
  [shop, jsonServer] = await Promise.all([startShop(), startJsonServer()]);
});
after(async () => {
  await shop.close();
  jsonServer.close();
});

const batchOf = (base, extra = {}) => ({
  url: `${base}/product/:id`,
  batch: { on: "id", request: `GET ${base}/products`, query: { id: "$keys -> repeat" }, max: 2, items: "$", key: "id", ...extra },
});

test("json-server: multiplexed ids collapse into ceil(unique / max) calls, split back per item; a missing id gets 404", async () => {
  const counter = countingFetch();
  const client = await createClient({
    fetch: counter.fetch,
    mappings: {
      product: {
        url: `${jsonServer.url}/products/:id`,
        batch: { on: "id", request: `GET ${jsonServer.url}/products`, query: { id: "$keys -> repeat" }, max: 3 },
      },
    },
  });
  const r = await client.run("from product with id = $ids", { variables: { ids: [3, 1, 7, 3, 99, 12, 1] }, trace: true });
  // Unique keys 3, 1, 7, 99, 12 -> chunks of three: two calls.
  assert.deepEqual(counter.urls, [`${jsonServer.url}/products?id=3&id=1&id=7`, `${jsonServer.url}/products?id=99&id=12`]);
  assert.equal(r.stats.calls, 2);
  // Two of the seven items repeat an earlier id: deduped within the query, the rest batched.
  assert.equal(r.stats.batched, 5);
  assert.equal(r.stats.deduped, 2);
  const names = r.body.product.result.map((p) => p?.name ?? null);
  assert.deepEqual(names, ["Product 3", "Product 1", "Product 7", "Product 3", null, "Product 12", "Product 1"]);
  assert.deepEqual(r.body.product.details.map((d) => d.status), [200, 200, 200, 200, 404, 200, 200]);
  assert.equal(r.status, 404);
  assert.equal(r.trace.length, 7);
  assert.ok(r.trace.every((t) => ["batched", "deduped"].includes(t.served)), JSON.stringify(r.trace));
  client.close();
});

test("a failed chunk fails only its own items; ignore-errors keeps the status at 200", async () => {
  shop.calls.length = 0;
  const client = await createClient({ mappings: { product: batchOf(shop.url) } });
  const r = await client.run("from product with id = $ids", { variables: { ids: [1, 2, 13, 14, 404] } });
  assert.equal(shop.calls.length, 3);
  assert.deepEqual(r.body.product.details.map((d) => d.status), [200, 200, 503, 503, 404]);
  assert.deepEqual(r.body.product.result.slice(0, 2).map((p) => p.name), ["Product 1", "Product 2"]);
  assert.equal(r.status, 503);
  const ignored = await client.run("from product with id = $ids ignore-errors", { variables: { ids: [1, 2, 13] } });
  assert.equal(ignored.status, 200);
  assert.deepEqual(ignored.body.product.details.map((d) => d.status), [200, 200, 503]);
  client.close();
});

test("-> no-batch fans out one call per item", async () => {
  shop.calls.length = 0;
  const client = await createClient({ mappings: { product: batchOf(shop.url) } });
  const r = await client.run("from product with id = $ids -> no-batch", { variables: { ids: [1, 2, 3] } });
  assert.deepEqual(shop.calls.map((c) => c.path), ["/product/1", "/product/2", "/product/3"]);
  assert.equal(r.stats.batched, 0);
  assert.deepEqual(r.body.product.result.map((p) => p.id), [1, 2, 3]);
  // The trace is opt-in.
  assert.equal("trace" in r, false);
  client.close();
});

test("concurrent runs on one client share a batch window and join calls on the wire", async () => {
  shop.calls.length = 0;
  const client = await createClient({
    mappings: { product: batchOf(shop.url, { max: 10 }), single: `${shop.url}/product/:id?:delay` },
  });
  const [a, b] = await Promise.all([
    client.run("from product with id = $ids", { variables: { ids: [1, 2] } }),
    client.run("from product with id = $ids", { variables: { ids: [2, 3] } }),
  ]);
  // One window, one batch call for the keys of both runs.
  assert.deepEqual(shop.calls.map((c) => c.ids), [["1", "2", "3"]]);
  assert.deepEqual(a.body.product.result.map((p) => p.id), [1, 2]);
  assert.deepEqual(b.body.product.result.map((p) => p.id), [2, 3]);

  shop.calls.length = 0;
  const first = client.run("from single with id = 5, delay = 50");
  await new Promise((resolve) => setTimeout(resolve, 10));
  const second = await client.run("from single with id = 5, delay = 50", { trace: true });
  assert.equal(shop.calls.length, 1, "the second run joined the call on the wire");
  assert.equal(second.stats.calls, 0);
  assert.equal(second.trace[0].served, "joined");
  assert.equal((await first).body.single.result.id, 5);
  client.close();
});

test("a microtask window holds the keys of runs started together, a task window also those of later microtasks", async () => {
  const q = "from product with id = $ids";
  // b starts two promise reactions after a: within a's task, after a's microtask window.
  const twoRuns = async (window) => {
    shop.calls.length = 0;
    const client = await createClient({ mappings: { product: batchOf(shop.url, { max: 10, window }) } });
    const a = client.run(q, { variables: { ids: [1, 2] } });
    await Promise.resolve();
    await Promise.resolve();
    const b = client.run(q, { variables: { ids: [3, 4] } });
    const [ra, rb] = await Promise.all([a, b]);
    assert.deepEqual(ra.body.product.result.map((p) => p.id), [1, 2]);
    assert.deepEqual(rb.body.product.result.map((p) => p.id), [3, 4]);
    client.close();
    return shop.calls.map((c) => c.ids);
  };
  assert.deepEqual(await twoRuns("microtask"), [["1", "2"], ["3", "4"]]);
  assert.deepEqual(await twoRuns("task"), [["1", "2", "3", "4"]]);

  shop.calls.length = 0;
  const client = await createClient({ mappings: { product: batchOf(shop.url, { max: 10, window: "microtask" }) } });
  await Promise.all([client.run(q, { variables: { ids: [1, 2] } }), client.run(q, { variables: { ids: [2, 3] } })]);
  assert.deepEqual(shop.calls.map((c) => c.ids), [["1", "2", "3"]], "runs started in the same code share one call");
  client.close();
});

test("a full chunk goes out at once; the window holds only the keys short of one", async () => {
  shop.calls.length = 0;
  const client = await createClient({ mappings: { product: batchOf(shop.url, { max: 2, window: 400 }) } });
  const start = performance.now();
  const r = await client.run("from product with id = $ids", { variables: { ids: [1, 2, 3] } });
  assert.deepEqual(shop.calls.map((c) => c.ids), [["1", "2"], ["3"]]);
  const [full, rest] = shop.calls.map((c) => c.at - start);
  assert.ok(full < 300, `the full chunk arrived ${full} ms after the start, not at once`);
  assert.ok(rest >= 395, `the last key arrived ${rest} ms after the start, before its 400 ms window closed`);
  assert.deepEqual(r.body.product.result.map((p) => p.id), [1, 2, 3]);
  client.close();
});

test("two users' calls are never shared: Authorization keys the call", async () => {
  shop.calls.length = 0;
  const client = await createClient({ mappings: { single: `${shop.url}/product/:id?:delay` } });
  const [alice, bob] = await Promise.all([
    client.run("from single with id = 8, delay = 20", { headers: { Authorization: "Bearer alice" } }),
    client.run("from single with id = 8, delay = 20", { headers: { Authorization: "Bearer bob" } }),
  ]);
  assert.equal(shop.calls.length, 2);
  assert.equal(alice.body.single.result.owner, "Bearer alice");
  assert.equal(bob.body.single.result.owner, "Bearer bob");
  client.close();
});

test("a shared call is aborted only when every run waiting for it has gone", async () => {
  shop.aborted.length = 0;
  const client = await createClient({ mappings: { single: `${shop.url}/product/:id?:delay` } });
  const query = "from single with id = 21, delay = 300";
  const first = new AbortController();
  const second = new AbortController();
  const a = client.run(query, { signal: first.signal });
  const b = client.run(query, { signal: second.signal });
  await new Promise((resolve) => setTimeout(resolve, 50));
  first.abort(new Error("first gone"));
  await assert.rejects(a, /first gone/);
  const kept = await b;
  assert.equal(kept.body.single.result.id, 21, "the other run still got its answer");
  assert.deepEqual(shop.aborted, []);

  const c = client.run("from single with id = 22, delay = 300", { signal: first.signal });
  await assert.rejects(c, /first gone/);
  const third = new AbortController();
  const d = client.run("from single with id = 23, delay = 300", { signal: third.signal });
  const e = client.run("from single with id = 23, delay = 300", { signal: third.signal });
  await new Promise((resolve) => setTimeout(resolve, 50));
  third.abort(new Error("both gone"));
  await assert.rejects(d, /both gone/);
  await assert.rejects(e, /both gone/);
  for (let i = 0; i < 50 && shop.aborted.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(shop.aborted, ["/product/23?delay=300"]);
  client.close();
});

test("the client cache answers from Cache-Control max-age, per request and per batched item", async () => {
  shop.calls.length = 0;
  const client = await createClient({ cache: true, mappings: { product: batchOf(shop.url, { max: 10 }) } });
  const first = await client.run("from product with id = $ids", { variables: { ids: [31, 32] } });
  assert.equal(first.stats.cacheHits, 0);
  assert.equal(shop.calls.length, 1);
  const second = await client.run("from product with id = $ids", { variables: { ids: [32, 31, 33] }, trace: true });
  // 31 and 32 come from the cache, only 33 is asked for.
  assert.deepEqual(shop.calls.map((c) => c.ids), [["31", "32"], ["33"]]);
  assert.equal(second.stats.cacheHits, 2);
  assert.deepEqual(second.trace.map((t) => t.served).sort(), ["batched", "cached", "cached"]);
  assert.deepEqual(second.body.product.result.map((p) => p.id), [32, 31, 33]);
  client.close();

  const uncached = await createClient({ mappings: { product: batchOf(shop.url, { max: 10 }) } });
  shop.calls.length = 0;
  await uncached.run("from product with id = 31");
  await uncached.run("from product with id = 31");
  assert.equal(shop.calls.length, 2, "no cache unless asked for");
  uncached.close();
});
