// The built package in workerd (Cloudflare's runtime) through Miniflare.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { startUpstream } from "./support/upstream.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
let mf;
let upstream;

before(async () => {
  upstream = await startUpstream();
  mf = new Miniflare({
    bindings: { UPSTREAM: upstream.url },
    modules: true,
    modulesRoot: root,
    scriptPath: fileURLToPath(new URL("./workerd/worker.js", import.meta.url)),
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2026-04-26",
  });
  await mf.ready;
});

after(async () => {
  await mf?.dispose();
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
