// The built package in headless Chromium: a page imports it as an ES module.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

import { serveStatic } from "./support/static-server.mjs";
import { launchChromium } from "./support/chromium.mjs";

let server;
let browser;

before(async () => {
  server = await serveStatic(fileURLToPath(new URL("..", import.meta.url)));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
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
