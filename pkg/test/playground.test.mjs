// The playground (www/) in headless Chromium, served by the demo server against the sample
// services: errors as you type, the plan graph, runs drawn as a waterfall (dedupe, failures,
// timeouts, answers from the browser's cache), results, a saved query, cancel. Leaves a
// screenshot in www/test-artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";

import { launchChromium } from "./support/chromium.mjs";
import { start as startServices, isFlaky } from "../../www/services.mjs";
import { startDemo } from "../../www/server.mjs";
import { SAMPLES } from "../../www/samples.js";

const ARTIFACTS = fileURLToPath(new URL("../../www/test-artifacts/", import.meta.url));

let services;
let demo;
let browser;
let page;

before(async () => {
  services = await startServices();
  demo = await startDemo({ services, port: 0 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems = [];
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => message.type() === "error" && problems.push(message.text()));
  page.problems = problems;
  await page.goto(`${demo.url}/`);
  await waitForState("ready");
});

after(async () => {
  await browser?.close();
  await demo?.close();
  await services?.close();
});

function waitForState(...states) {
  return page.waitForFunction((wanted) => wanted.includes(document.body.dataset.state), states, { timeout: 15_000 });
}

async function chooseSample(name) {
  const index = SAMPLES.findIndex((s) => s.name === name);
  assert.ok(index >= 0, `no sample named ${name}`);
  await page.selectOption("#samples", String(index));
  await waitForState("ready");
}

async function runAndWait() {
  await page.click("#run");
  await waitForState("done", "failed", "cancelled");
  assert.equal(await page.evaluate(() => document.body.dataset.state), "done");
}

/** What the page shows: graph, waterfall rows, summary, details, result. */
function shown() {
  return page.evaluate(() => {
    const text = (id) => document.getElementById(id).textContent;
    return {
      nodes: [...document.querySelectorAll("#graph g.node")].map((g) => ({ id: g.dataset.id, classes: g.getAttribute("class") })),
      edges: [...document.querySelectorAll("#graph path.edge")].map((p) => `${p.dataset.from}->${p.dataset.to}`),
      waves: [...document.querySelectorAll("#waterfall .wf-wave")].map((w) => w.textContent),
      rows: [...document.querySelectorAll("#waterfall .wf-call")].map((r) => ({
        statement: r.dataset.statement,
        outcome: r.dataset.outcome,
        status: Number(r.dataset.status),
        classes: r.className,
      })),
      status: Number(text("status")),
      cacheControl: text("cache-control"),
      calls: text("stat-calls"),
      deduped: text("stat-deduped"),
      details: Object.fromEntries(
        [...document.querySelectorAll("#details tbody tr")].map((tr) => [tr.dataset.statement, tr.children[1].textContent]),
      ),
      result: text("result") ? JSON.parse(text("result")) : null,
    };
  });
}

async function getJson(url) {
  const response = await fetch(url);
  return response.json();
}

test("a parse error shows at its line and column as you type", async () => {
  await page.fill("#query", "from product with id = 1\nfrom price with sku = ,");
  await page.waitForSelector("#problem:not([hidden])");
  const problem = await page.evaluate(() => ({
    line: document.getElementById("problem").dataset.line,
    column: document.getElementById("problem").dataset.column,
    where: document.getElementById("problem-where").textContent,
    message: document.getElementById("problem-message").textContent,
    snippet: document.getElementById("problem-snippet").textContent,
    markerShown: !document.getElementById("marker").hidden,
    badLine: [...document.querySelectorAll("#gutter .bad")].map((l) => l.textContent),
    run: document.getElementById("run").disabled,
  }));
  assert.equal(problem.where, "line 2, column 23");
  assert.equal(problem.line, "2");
  assert.equal(problem.column, "23");
  assert.match(problem.message, /expected a value after '=', found ','/);
  assert.match(problem.snippet, /2 \| from price with sku = ,\n\s+\|\s+\^/);
  assert.ok(problem.markerShown);
  assert.deepEqual(problem.badLine, ["2"]);
  assert.equal(problem.run, true, "a query with an error cannot run");

  // Fixing the text clears the error and draws the plan.
  await page.fill("#query", "from product with id = 1\nfrom price with sku = product.sku");
  await waitForState("ready");
  assert.equal(await page.isHidden("#problem"), true);
  assert.deepEqual((await shown()).edges, ["product->price"]);
});

test("chains and multiplexing: the graph, one waterfall row per call, the results", async () => {
  await chooseSample("Chains and multiplexing");
  let view = await shown();
  assert.deepEqual(view.nodes.map((n) => n.id), ["search", "product", "price"]);
  assert.deepEqual(view.edges, ["search->product", "product->price"]);
  assert.match(view.nodes[1].classes, /chained/);

  await runAndWait();
  view = await shown();
  const search = await getJson(`${services.urls.search}/search?q=tv&limit=5`);
  const products = await getJson(`${services.urls.catalog}/products?${search.ids.map((id) => `id=${id}`).join("&")}`);
  assert.equal(view.status, 200);
  assert.equal(view.cacheControl, "max-age=30"); // prices' max-age, the smallest
  assert.equal(view.calls, "11");
  assert.deepEqual(view.waves, ["wave 1", "wave 2", "wave 3"]);
  assert.deepEqual(
    view.rows.map((r) => `${r.statement} ${r.outcome}`),
    ["search ok", ...Array(5).fill("product ok"), ...Array(5).fill("price ok")],
  );
  assert.ok(view.rows.every((r) => r.classes.includes("ok") && r.status === 200));
  assert.deepEqual(view.result.product.result.map((p) => p.name), products.map((p) => p.name));
  assert.equal(view.result.price.result.length, 5);
  assert.equal(view.details.product, "200 ×5");
});

test("dedupe: items served by another item's call are marked", async () => {
  await chooseSample("Dedupe");
  await runAndWait();
  const view = await shown();
  assert.equal(view.calls, "4");
  assert.equal(view.deduped, "2");
  const deduped = view.rows.filter((r) => r.outcome === "deduped");
  assert.equal(deduped.length, 2);
  assert.ok(deduped.every((r) => r.statement === "related" && r.classes.includes("deduped")));
  assert.equal(view.rows.length, 6);
});

test("ignore-errors: the flaky service's failures are drawn as failed, the status stays 200", async () => {
  await chooseSample("ignore-errors (flaky shipping)");
  await runAndWait();
  const view = await shown();
  const skus = [1, 2, 3, 4, 5, 6, 7, 8].map((id) => `SKU-${1000 + id}`);
  const failing = skus.filter((sku) => isFlaky("10001", sku)).length;
  assert.ok(failing > 0 && failing < skus.length, "the sample hits the flaky share");
  assert.equal(view.status, 200);
  const shipping = view.rows.filter((r) => r.statement === "shipping");
  assert.equal(shipping.length, 8);
  assert.equal(shipping.filter((r) => r.outcome === "failed" && r.status === 503).length, failing);
  assert.equal(shipping.filter((r) => r.outcome === "ok").length, 8 - failing);
  assert.match(view.details.shipping, /503/);
  assert.equal(view.result.shipping.details.filter((d) => d.status === 503).length, failing);
  assert.ok(view.result.shipping.details.every((d) => d.metadata["ignore-errors"] === "ignore"));
});

test("a statement timeout: 408, drawn as a timeout", async () => {
  await chooseSample("Timeouts");
  await runAndWait();
  const view = await shown();
  assert.equal(view.status, 408);
  // Product 1 may come from the browser's cache: an earlier test asked for it.
  assert.deepEqual(view.rows.map((r) => r.statement), ["product", "shipping"]);
  assert.match(view.rows[0].outcome, /^(ok|cached)$/);
  assert.equal(view.rows[1].outcome, "timeout");
  assert.equal(view.rows[1].status, 408);
  assert.equal(view.result.shipping.details.status, 408);
  assert.equal(view.cacheControl, "(none)"); // no Cache-Control on errors
});

test("a saved query runs on the demo server's restQL API, with its calls drawn", async () => {
  await chooseSample("Saved query: shop/customer-cart/1");
  assert.equal(await page.inputValue("#saved"), "/run-query/shop/customer-cart/1");
  let view = await shown();
  assert.deepEqual(view.nodes.map((n) => n.id), ["customer", "cart", "product", "shipping"]);
  assert.deepEqual(view.edges.sort(), ["cart->product", "cart->shipping", "customer->cart", "customer->shipping"]);
  await runAndWait();
  view = await shown();
  const customer = await getJson(`${services.urls.customers}/customers/3`);
  const cart = await getJson(`${services.urls.carts}/carts/${customer.cartId}`);
  const failing = cart.items.filter((item) => isFlaky(customer.zip, item.sku)).length;
  assert.equal(view.status, 200);
  assert.deepEqual(view.result.customer.result, { name: customer.name, tier: customer.tier, zip: customer.zip });
  assert.equal(view.result.product.result.length, cart.items.length);
  const count = (statement) => view.rows.filter((r) => r.statement === statement).length;
  assert.equal(count("customer"), 1);
  assert.equal(count("cart"), 1);
  assert.equal(count("product"), new Set(cart.items.map((i) => i.productId)).size);
  assert.equal(count("shipping"), new Set(cart.items.map((i) => i.sku)).size);
  assert.equal(view.rows.filter((r) => r.outcome === "failed").length, failing);
});

test("hundreds of calls run in the worker; cancel aborts a run", async () => {
  await chooseSample("Hundreds of calls");
  // How long the page's thread is kept busy while the run goes: the longest gap between frames.
  await page.evaluate(() => {
    window.frameGaps = [];
    let last = null;
    const tick = (now) => {
      if (last !== null) window.frameGaps.push(now - last);
      last = now;
      if (!window.stopFrames) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await runAndWait();
  await page.evaluate(() => (window.stopFrames = true));
  const view = await shown();
  assert.equal(view.calls, "301");
  assert.equal(view.rows.length, 301);
  const gaps = await page.evaluate(() => window.frameGaps);
  console.log(`longest frame gap on the page while 301 calls ran: ${Math.max(...gaps).toFixed(1)} ms`);

  await page.click("#run");
  await page.waitForFunction(() => document.body.dataset.state === "running");
  await page.click("#cancel");
  await waitForState("cancelled");
  assert.match(await page.textContent("#run-problem"), /Cancelled/);
  // The page runs again after a cancel. Products (max-age=300) were answered by the
  // browser's HTTP cache this time: their rows say so.
  await chooseSample("Chains and multiplexing");
  await runAndWait();
  const again = await shown();
  const products = again.rows.filter((r) => r.statement === "product");
  assert.equal(products.length, 5);
  assert.ok(products.every((r) => r.outcome === "cached" && r.classes.includes("cached")), JSON.stringify(products));
  await mkdir(ARTIFACTS, { recursive: true });
  const screenshot = `${ARTIFACTS}playground.png`;
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
  assert.deepEqual(page.problems, []);
});
