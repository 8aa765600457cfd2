// The built package in workerd (Cloudflare's runtime) through Miniflare.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const root = fileURLToPath(new URL("..", import.meta.url));
let mf;

before(async () => {
  mf = new Miniflare({
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
});

test("a Worker parses with the package", async () => {
  const response = await mf.dispatchFetch("http://worker.test/", { method: "POST", body: "from hero as h" });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    statements: [{ method: "from", resource: "hero", alias: "h" }],
  });
});

test("a Worker gets RestqlError for a bad query", async () => {
  const response = await mf.dispatchFetch("http://worker.test/", { method: "POST", body: "from hero with" });
  assert.equal(response.status, 400);
  const body = await response.json();
  assert.equal(body.code, "syntax");
  assert.equal(body.line, 1);
});
