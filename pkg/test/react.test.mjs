// restql-wasm/react in headless Chromium: real React (react-dom/client), the web build, and
// services on 127.0.0.1. The page (test/react/app.jsx, bundled here by esbuild) exposes
// render/unmount so each test drives one component and reads every state it rendered.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

import { serveStatic } from "./support/static-server.mjs";
import { launchChromium } from "./support/chromium.mjs";
import { startUpstream } from "./support/upstream.mjs";

let server;
let browser;
let upstream;
let page;
const pageErrors = [];

before(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL("./react/app.jsx", import.meta.url))],
    bundle: true,
    format: "esm",
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"development"' },
    write: false,
    logLevel: "error",
  });
  server = await serveStatic(fileURLToPath(new URL("..", import.meta.url)), {
    "/test/react/app.js": bundle.outputFiles[0].contents,
  });
  upstream = await startUpstream();
  browser = await launchChromium();
  page = await browser.newPage();
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  await page.goto(`${server.url}/test/react/index.html?upstream=${encodeURIComponent(upstream.url)}`);
  await page.waitForFunction(() => window.restqlTest?.ready);
});

after(async () => {
  await browser?.close();
  await server?.close();
  await upstream?.close();
});

const render = (name, props, strict = false) =>
  page.evaluate(
    ([name, props, strict]) => window.restqlTest.render(name, "Hero", props, strict),
    [name, props, strict],
  );
const states = (name) => page.evaluate((name) => window.restqlTest.log[name] ?? [], name);
const text = (name) => page.evaluate((name) => window.restqlTest.text(name), name);
const lastState = async (name) => (await states(name)).at(-1);
/** Waits until a render after the first `before` ones was loading: React commits
 * asynchronously, and the local services may answer before the page is asked. */
const loadingSince = (name, before) =>
  page.waitForFunction(
    ([name, before]) => (window.restqlTest.log[name] ?? []).slice(before).some((s) => s.loading),
    [name, before],
    { timeout: 10_000 },
  );
const settled = (name) =>
  page.waitForFunction((name) => window.restqlTest.log[name]?.at(-1)?.loading === false, name, {
    timeout: 10_000,
  });
// GETs only: the browser sends CORS preflights (OPTIONS) too.
const callsTo = (prefix) =>
  upstream.calls.filter((c) => c.method === "GET" && c.path.startsWith(prefix)).map((c) => c.path);

test("loading, then data, status and stats", async () => {
  await render("first", { variables: { id: 1 } });
  await settled("first");
  const log = await states("first");
  assert.equal(log[0].loading, true);
  assert.equal(log[0].body, undefined);
  const last = log.at(-1);
  assert.equal(last.status, 200);
  assert.equal(last.error, undefined);
  assert.equal(last.body.hero.result.name, "Batman");
  assert.deepEqual(last.body.sidekick.result, { name: "Robin" });
  assert.equal(last.stats.calls, 2);
  assert.equal(await text("first"), "Batman with Robin");
});

test("new variables re-run the query; equal variables in a new object do not", async () => {
  await render("change", { variables: { id: 1, extra: { b: 2, a: 1 } } });
  await settled("change");
  const runs = (await states("change")).filter((s) => s.loading).length;

  // Same values, new object, keys in another order: rendered, and not loading again.
  await render("change", { variables: { extra: { a: 1, b: 2 }, id: 1 } });
  await new Promise((r) => setTimeout(r, 200));
  const log = await states("change");
  assert.equal(log.filter((s) => s.loading).length, runs, "equal variables must not re-run");
  assert.equal(log.at(-1).body.hero.result.name, "Batman");

  // The first render with the new variables is loading and keeps the last answer. Read it
  // from the log of renders: the local services may answer before the page is asked.
  const before = (await states("change")).length;
  await render("change", { variables: { id: 2 } });
  await loadingSince("change", before);
  await settled("change");
  const updating = (await states("change")).slice(before).find((s) => s.loading);
  assert.ok(updating, "loading as soon as the variables change");
  assert.equal(updating.body.hero.result.name, "Batman", "the last answer stays while loading");
  const last = await lastState("change");
  assert.equal(last.body.hero.result.name, "Wonder Woman");
  assert.deepEqual(last.body.sidekick.result, { name: "Etta" });
  assert.ok(callsTo("/hero/").includes("/hero/2"));
  assert.ok(callsTo("/sidekick/").includes("/sidekick/20"));
  assert.equal(await text("change"), "Wonder Woman with Etta");
});

test("unmounting aborts the run in flight and renders nothing more", async () => {
  await render("gone", { query: "from slow with id = $id, ms = 5000", variables: { id: "unmount" } });
  await waitFor(
    () => callsTo("/slow/unmount").length === 1,
    () => JSON.stringify(upstream.calls.map((c) => c.path)),
  );
  const rendered = (await states("gone")).length;
  await page.evaluate(() => window.restqlTest.unmount("gone"));
  await waitFor(() => upstream.aborted.includes("/slow/unmount"));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await states("gone")).length, rendered);
});

test("a superseded run is aborted and its answer ignored", async () => {
  const query = "from slow with id = $id, ms = $ms";
  await render("superseded", { query, variables: { id: "old", ms: 5000 } });
  await waitFor(() => callsTo("/slow/old").length === 1);
  await render("superseded", { query, variables: { id: "new", ms: 50 } });
  await settled("superseded");
  await waitFor(() => upstream.aborted.includes("/slow/old"));
  const last = await lastState("superseded");
  assert.equal(last.status, 200);
  assert.deepEqual(last.body.slow.result, { slow: true });
  assert.equal(last.error, undefined, "the aborted run's AbortError is not shown");
});

test("a bad query gives a RestqlError and calls nothing", async () => {
  const before = callsTo("/").length;
  await render("bad", { query: "from hero with id = ," });
  await settled("bad");
  const last = await lastState("bad");
  assert.equal(last.error.isRestqlError, true);
  assert.equal(last.error.name, "RestqlError");
  assert.equal(last.error.code, "syntax");
  assert.equal(last.body, undefined);
  assert.equal(callsTo("/").length, before);
  assert.match(await text("bad"), /^error: /);
});

test("enabled: false holds the query until enabled", async () => {
  await render("held", { variables: { id: 2 }, enabled: false });
  const held = await lastState("held");
  assert.equal(held.loading, false);
  assert.equal(held.body, undefined);
  await render("held", { variables: { id: 2 }, enabled: true });
  await settled("held");
  assert.equal((await lastState("held")).body.hero.result.name, "Wonder Woman");
});

test("refetch runs the query again", async () => {
  await render("again", { query: "from slow with id = $id, ms = 20", variables: { id: "again" } });
  await settled("again");
  assert.equal(callsTo("/slow/again").length, 1);
  const before = (await states("again")).length;
  await page.evaluate(() => window.restqlTest.refetch("again"));
  await loadingSince("again", before);
  await settled("again");
  assert.equal(callsTo("/slow/again").length, 2);
  assert.deepEqual((await lastState("again")).body.slow.result, { slow: true });
});

test("in StrictMode (effects run twice) the answer is shown once settled", async () => {
  await render("strict", { query: "from slow with id = $id, ms = 20", variables: { id: "strict" } }, true);
  await settled("strict");
  const last = await lastState("strict");
  assert.equal(last.status, 200);
  assert.equal(last.error, undefined);
  assert.deepEqual(last.body.slow.result, { slow: true });
});

test("no React warnings or page errors", () => {
  assert.deepEqual(pageErrors, []);
});

async function waitFor(condition, describe = () => "", ms = 5000) {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > ms) throw new Error(`condition not met in time ${describe()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
