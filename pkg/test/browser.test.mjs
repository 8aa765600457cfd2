// The built package in headless Chromium: a page imports it as an ES module.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

import { serveStatic } from "./support/static-server.mjs";
import { launchChromium } from "./support/chromium.mjs";
import { startUpstream } from "./support/upstream.mjs";

let server;
let browser;
let upstream;

before(async () => {
  server = await serveStatic(fileURLToPath(new URL("..", import.meta.url)));
  upstream = await startUpstream();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await upstream?.close();
});

test("a page imports the package and parses", async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/test/browser/parse.html`);
  await page.waitForFunction(() => window.__report !== undefined);
  const report = await page.evaluate(() => window.__report);
  assert.equal(report.failure, undefined);
  assert.deepEqual(
    report.parsed.statements.map((s) => s.alias ?? s.resource),
    ["h", "sidekick"],
  );
  assert.deepEqual(report.error, { isRestqlError: true, code: "syntax", line: 1, column: 21 });
});

test("a page runs a query against services on another origin", async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/test/browser/run.html?upstream=${encodeURIComponent(upstream.url)}`);
  await page.waitForFunction(() => window.__report !== undefined, null, { timeout: 10_000 });
  const report = await page.evaluate(() => window.__report);
  assert.equal(report.failure, undefined);
  assert.equal(report.run.status, 200);
  assert.equal(report.run.cacheControl, "max-age=30");
  assert.deepEqual(report.run.body.hero.result.map((h) => h.name), ["Batman", "Wonder Woman", "Batman"]);
  assert.deepEqual(report.run.body.sidekick.result, [{ name: "Robin" }, { name: "Etta" }, { name: "Robin" }]);
  assert.equal(report.run.stats.deduped, 2);
  const heroCalls = upstream.calls.filter((c) => c.method === "GET" && c.path.startsWith("/hero/"));
  assert.deepEqual(heroCalls.map((c) => c.path).sort(), ["/hero/1", "/hero/2"]);
  assert.deepEqual(report.timeout, { status: 408, detail: 408 });
  assert.equal(report.abort, "AbortError");
  await waitFor(() => upstream.aborted.includes("/slow/7") && upstream.aborted.includes("/slow/8"));
});

async function waitFor(condition, ms = 3000) {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > ms) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
