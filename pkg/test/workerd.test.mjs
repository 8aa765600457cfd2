// The built package in workerd (Cloudflare's runtime) through Miniflare.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { startUpstream } from "./support/upstream.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
let mf;
let handlerMf;
let upstream;

function workerAt(path) {
  return new Miniflare({
    bindings: { UPSTREAM: upstream.url },
    modules: true,
    modulesRoot: root,
    scriptPath: fileURLToPath(new URL(path, import.meta.url)),
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2026-04-26",
  });
}

before(async () => {
  upstream = await startUpstream();
  mf = workerAt("./workerd/worker.js");
  handlerMf = workerAt("./workerd/handler.js");
  await Promise.all([mf.ready, handlerMf.ready]);
});

after(async () => {
  await mf?.dispose();
  await handlerMf?.dispose();
  await upstream?.close();
});

test("a Worker parses with the package", async () => {
  const response = await mf.dispatchFetch("http://worker.test/parse", { method: "POST", body: "from hero as h" });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    statements: [{ method: "from", resource: "hero", alias: "h" }],
  });
});

test("a Worker gets RestqlError for a bad query", async () => {
  const response = await mf.dispatchFetch("http://worker.test/parse", { method: "POST", body: "from hero with" });
  assert.equal(response.status, 400);
  const body = await response.json();
  assert.equal(body.code, "syntax");
  assert.equal(body.line, 1);
});

test("a Worker runs a query against services on 127.0.0.1", async () => {
  const response = await mf.dispatchFetch("http://worker.test/run", {
    method: "POST",
    body: "from hero with id = $id\nfrom sidekick with id = hero.sidekickId",
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("cache-control"), "max-age=30");
  const body = await response.json();
  assert.equal(body.hero.result.name, "Wonder Woman");
  assert.equal(body.sidekick.result.name, "Etta");
  assert.deepEqual(
    upstream.calls.map((c) => c.path),
    ["/hero/2", "/sidekick/20"],
  );
});

test("a Worker serves saved queries through createHandler", async () => {
  const start = upstream.calls.length;
  const response = await handlerMf.dispatchFetch("http://worker.test/run-query/demo/team/2?tenant=DEFAULT&id=1", {
    headers: { "x-request-id": "r-1", authorization: "Bearer w" },
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(response.headers.get("cache-control"), "max-age=30");
  const body = await response.json();
  assert.equal(body.hero.result.name, "Batman");
  assert.equal(body.sidekick.result.name, "Robin");
  const calls = upstream.calls.slice(start);
  assert.deepEqual(calls.map((c) => c.path), ["/hero/1", "/sidekick/10"]);
  assert.equal(calls[0].headers["x-request-id"], "r-1");
  assert.equal(calls[0].headers.authorization, undefined);
});

test("a Worker answers restQL's errors through createHandler", async () => {
  const missing = await handlerMf.dispatchFetch("http://worker.test/run-query/demo/team/3");
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: "query not found" });
  const json = await handlerMf.dispatchFetch("http://worker.test/run-query/demo/team/1", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{oops",
  });
  assert.equal(json.status, 400);
  assert.match((await json.json()).error, /^failed to read and unmarshal request body/);
  const invalid = await handlerMf.dispatchFetch("http://worker.test/validate-query", { method: "POST", body: "from" });
  assert.equal(invalid.status, 422);
  assert.equal((await invalid.json()).code, "syntax");
});
