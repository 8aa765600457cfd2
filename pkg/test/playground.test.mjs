// The playground (www/) in headless Chromium, served by the demo server against the sample
// services: errors as you type, the plan graph and its batch calls, runs drawn as a waterfall
// from the run's trace (batch calls with their items, dedupe, the client cache, failures,
// timeouts), results, a saved query, `-> no-batch`, cancel. Exact call counts come from the
// services' own call log. Leaves a screenshot in www/test-artifacts/.
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

/** Runs the editor's query; returns the upstream calls the services saw meanwhile, per service. */
async function runAndWait() {
  const before = services.calls.length;
  await page.click("#run");
  await waitForState("done", "failed", "cancelled");
  assert.equal(await page.evaluate(() => document.body.dataset.state), "done");
  const upstream = {};
  for (const call of services.calls.slice(before)) upstream[call.service] = (upstream[call.service] ?? 0) + 1;
  return upstream;
}

/** Turns the client cache off and on again: the next run starts with an empty cache. */
async function emptyCache() {
  await page.uncheck("#cache");
  await page.check("#cache");
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
        served: r.dataset.served,
        status: Number(r.dataset.status),
        classes: r.className,
        // A batch call's items: the chips in the line under its row.
        items: r.dataset.items
          ? [...r.nextElementSibling.querySelectorAll(".wf-item")].map((i) => `${i.dataset.statement}[${i.dataset.item}] ${i.dataset.status}`)
          : undefined,
      })),
      batches: [...document.querySelectorAll("#batches > li")].map((li) => ({
        resource: li.dataset.resource,
        statement: li.dataset.statement,
        chunks: li.dataset.chunks,
        text: li.textContent,
      })),
      status: Number(text("status")),
      cacheControl: text("cache-control"),
      calls: text("stat-calls"),
      deduped: text("stat-deduped"),
      batched: text("stat-batched"),
      cacheHits: text("stat-cache"),
      details: Object.fromEntries(
        [...document.querySelectorAll("#details tbody tr")].map((tr) => [tr.dataset.statement, tr.children[1].textContent]),
      ),
      result: text("result") ? JSON.parse(text("result")) : null,
    };
  });
}

function sorted(list) {
  return [...list].sort();
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


test("chains and multiplexing: each statement's items go out as one batch call", async () => {
  await chooseSample("Chains and multiplexing");
  let view = await shown();
  assert.deepEqual(view.nodes.map((n) => n.id), ["search", "product", "price"]);
  assert.deepEqual(view.edges, ["search->product", "product->price"]);
  assert.match(view.nodes[1].classes, /chained/);
  // Chained keys are known only at run time: the plan names the endpoints, not the chunks.
  assert.deepEqual(view.batches.map((b) => b.statement), ["product", "price"]);
  assert.match(view.batches[0].text, /product via GET http:\/\/127\.0\.0\.1:\d+\/products: keys from search\.ids/);

  await emptyCache();
  const upstream = await runAndWait();
  view = await shown();
  const search = await getJson(`${services.urls.search}/search?q=tv&limit=5`);
  const products = await getJson(`${services.urls.catalog}/products?${search.ids.map((id) => `id=${id}`).join("&")}`);
  // 11 items, 3 calls: one per statement, as the services saw them.
  assert.deepEqual(upstream, { search: 1, catalog: 1, prices: 1 });
  assert.equal(view.status, 200);
  assert.equal(view.cacheControl, "max-age=30"); // prices' max-age, the smallest
  assert.equal(view.calls, "3");
  assert.equal(view.batched, "10");
  assert.equal(view.deduped, "0");
  assert.equal(view.cacheHits, "0");
  assert.deepEqual(view.waves, ["wave 1", "wave 2", "wave 3"]);
  assert.deepEqual(
    view.rows.map((r) => `${r.statement} ${r.outcome}`),
    ["search ok", "product batched", "price batched"],
  );
  assert.ok(view.rows[1].classes.includes("batched") && view.rows[2].classes.includes("batched"));
  assert.deepEqual(view.rows[1].items, [0, 1, 2, 3, 4].map((i) => `product[${i}] 200`));
  assert.deepEqual(view.rows[2].items, [0, 1, 2, 3, 4].map((i) => `price[${i}] 200`));
  assert.deepEqual(view.result.product.result.map((p) => p.name), products.map((p) => p.name));
  assert.equal(view.result.price.result.length, 5);
  assert.equal(view.details.product, "200 ×5");
});

test("batching: 80 keys per endpoint go out in chunks of at most 50", async () => {
  await chooseSample("Batching");
  await emptyCache();
  const upstream = await runAndWait();
  const view = await shown();
  assert.deepEqual(upstream, { search: 1, catalog: 2, prices: 2 });
  assert.equal(view.calls, "5");
  assert.equal(view.batched, "160");
  // Rows go by wave, then by start: the two chunks of a wave leave together, in either order.
  assert.deepEqual(view.waves, ["wave 1", "wave 2", "wave 3"]);
  assert.deepEqual(
    view.rows.map((r) => `${r.statement} ${r.outcome}`),
    ["search ok", "product batched", "product batched", "price batched", "price batched"],
  );
  assert.deepEqual(sorted(view.rows.slice(1, 3).map((r) => r.items.length)), [30, 50]);
  assert.deepEqual(sorted(view.rows.slice(3).map((r) => r.items.length)), [30, 50]);
  // Every item of a statement is served once, by one of its chunks.
  assert.deepEqual(
    sorted(view.rows.slice(1, 3).flatMap((r) => r.items)),
    sorted(Array.from({ length: 80 }, (_, i) => `product[${i}] 200`)),
  );
  assert.equal(view.result.product.result.length, 80);
  assert.equal(view.details.price, "200 ×80");
});

test("dedupe: a repeated key goes out once in the batch call, its items are marked deduped", async () => {
  await chooseSample("Dedupe");
  let view = await shown();
  // Literal keys: the plan lists the batch group and its one chunk.
  assert.equal(view.batches.length, 1);
  assert.equal(view.batches[0].resource, "product");
  assert.equal(view.batches[0].chunks, "1");
  assert.match(view.batches[0].text, /6 items, 4 unique keys, 1 call/);
  assert.match(view.batches[0].text, /chunk 0: 4 keys GET http:\/\/127\.0\.0\.1:\d+\/products\?id=1&id=2&id=3&id=4/);

  await emptyCache();
  const upstream = await runAndWait();
  view = await shown();
  assert.deepEqual(upstream, { catalog: 1 });
  assert.equal(view.calls, "1");
  assert.equal(view.batched, "4");
  assert.equal(view.deduped, "2");
  assert.equal(view.rows.length, 3);
  assert.equal(view.rows[0].statement, "featured,related");
  assert.deepEqual(view.rows[0].items, ["featured[0] 200", "featured[1] 200", "featured[2] 200", "related[2] 200"]);
  const deduped = view.rows.filter((r) => r.outcome === "deduped");
  assert.equal(deduped.length, 2);
  assert.ok(deduped.every((r) => r.statement === "related" && r.classes.includes("deduped")));
});

test("the client cache: a re-run is answered from it, with cached rows and no upstream call", async () => {
  await chooseSample("Cache (run it twice)");
  await emptyCache();
  const first = await runAndWait();
  let view = await shown();
  assert.deepEqual(first, { search: 1, catalog: 1, prices: 1 });
  assert.equal(view.cacheHits, "0");
  const answer = view.result;

  const second = await runAndWait();
  view = await shown();
  assert.deepEqual(second, {}, "no upstream call on the re-run");
  assert.equal(view.calls, "0");
  assert.equal(view.cacheHits, "9");
  assert.equal(view.rows.length, 9);
  assert.ok(view.rows.every((r) => r.outcome === "cached" && r.classes.includes("cached")), JSON.stringify(view.rows));
  assert.deepEqual(view.result, answer);

  // With the cache off, every run goes upstream again.
  await page.uncheck("#cache");
  const third = await runAndWait();
  view = await shown();
  assert.deepEqual(third, { search: 1, catalog: 1, prices: 1 });
  assert.equal(view.rows.filter((r) => r.outcome === "cached").length, 0);
  await page.check("#cache");
});

test("only and hidden: the hidden cart is called and drawn but left out of the answer", async () => {
  await chooseSample("only and hidden");
  await emptyCache();
  const upstream = await runAndWait();
  const view = await shown();
  const customer = await getJson(`${services.urls.customers}/customers/3`);
  const cart = await getJson(`${services.urls.carts}/carts/${customer.cartId}`);
  const productIds = new Set(cart.items.map((i) => i.productId));
  assert.deepEqual(upstream, { customers: 1, carts: 1, catalog: 1 });
  assert.deepEqual(view.rows.slice(0, 3).map((r) => `${r.statement} ${r.outcome}`), ["customer ok", "cart ok", "product batched"]);
  assert.equal(view.rows[2].items.length, productIds.size);
  assert.equal(view.rows.length, 3 + cart.items.length - productIds.size); // repeated ids: deduped rows
  assert.equal(view.result.cart, undefined);
  assert.deepEqual(view.result.customer.result, { name: customer.name, tier: customer.tier });
  assert.ok(view.result.product.result.every((p) => Object.keys(p).sort().join() === "brand,name"));
});

test("ignore-errors: the flaky service's failures are drawn as failed, the status stays 200", async () => {
  await chooseSample("ignore-errors (flaky shipping)");
  await emptyCache();
  const upstream = await runAndWait();
  const view = await shown();
  const skus = [1, 2, 3, 4, 5, 6, 7, 8].map((id) => `SKU-${1000 + id}`);
  const failing = skus.filter((sku) => isFlaky("10001", sku)).length;
  assert.ok(failing > 0 && failing < skus.length, "the sample hits the flaky share");
  // shipping has no batch endpoint: one call per quote.
  assert.deepEqual(upstream, { catalog: 1, shipping: 8 });
  assert.equal(view.status, 200);
  assert.equal(view.rows[0].statement, "product");
  assert.equal(view.rows[0].items.length, 8);
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
  assert.deepEqual(view.rows.map((r) => r.statement), ["product", "shipping"]);
  // Product 1 was cached by the ignore-errors run (catalog: max-age=300).
  assert.equal(view.rows[0].outcome, "cached");
  assert.equal(view.rows[1].outcome, "timeout");
  assert.equal(view.rows[1].status, 408);
  assert.equal(view.result.shipping.details.status, 408);
  assert.equal(view.cacheControl, "(none)"); // no Cache-Control on errors
});

test("a saved query runs on the demo server's restQL API, with its recorded calls drawn", async () => {
  await chooseSample("Saved query: shop/customer-cart/1");
  assert.equal(await page.inputValue("#saved"), "/run-query/shop/customer-cart/1");
  let view = await shown();
  assert.deepEqual(view.nodes.map((n) => n.id), ["customer", "cart", "product", "shipping"]);
  assert.deepEqual(view.edges.sort(), ["cart->product", "cart->shipping", "customer->cart", "customer->shipping"]);
  const upstream = await runAndWait();
  view = await shown();
  const customer = await getJson(`${services.urls.customers}/customers/3`);
  const cart = await getJson(`${services.urls.carts}/carts/${customer.cartId}`);
  const productIds = new Set(cart.items.map((i) => i.productId));
  const skus = new Set(cart.items.map((i) => i.sku));
  const failing = [...skus].filter((sku) => isFlaky(customer.zip, sku)).length;
  assert.deepEqual(upstream, { customers: 1, carts: 1, catalog: 1, shipping: skus.size });
  assert.equal(view.status, 200);
  assert.deepEqual(view.result.customer.result, { name: customer.name, tier: customer.tier, zip: customer.zip });
  assert.equal(view.result.product.result.length, cart.items.length);
  const rows = (statement, outcome) => view.rows.filter((r) => r.statement === statement && (!outcome || r.outcome === outcome));
  assert.equal(rows("customer").length, 1);
  assert.equal(rows("cart").length, 1);
  // The product items went out as one call to the batch endpoint; repeated ids are deduped.
  assert.equal(rows("product", "batched").length, 1);
  assert.equal(rows("product", "batched")[0].items.length, productIds.size);
  assert.equal(rows("product", "deduped").length, cart.items.length - productIds.size);
  assert.equal(rows("shipping").filter((r) => r.served === "sent").length, skus.size);
  assert.equal(view.rows.filter((r) => r.outcome === "failed" && r.served === "sent").length, failing);
  assert.equal(view.calls, String(3 + skus.size));
});

test("-> no-batch fans out: hundreds of calls run in the worker; cancel aborts a run", async () => {
  await chooseSample("Hundreds of calls");
  assert.deepEqual((await shown()).batches, [], "no batch call planned");
  await emptyCache();
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
  const upstream = await runAndWait();
  await page.evaluate(() => (window.stopFrames = true));
  const view = await shown();
  assert.deepEqual(upstream, { search: 1, catalog: 150, prices: 150 });
  assert.equal(view.calls, "301");
  assert.equal(view.batched, "0");
  assert.equal(view.rows.length, 301);
  assert.ok(view.rows.every((r) => r.outcome === "ok" && r.served === "sent"));
  const gaps = await page.evaluate(() => window.frameGaps);
  console.log(`longest frame gap on the page while 301 calls ran: ${Math.max(...gaps).toFixed(1)} ms`);

  await emptyCache(); // so that the next run has calls in flight to cancel
  await page.click("#run");
  await page.waitForFunction(() => document.body.dataset.state === "running");
  await page.click("#cancel");
  await waitForState("cancelled");
  assert.match(await page.textContent("#run-problem"), /Cancelled/);

  // The page runs again after a cancel.
  await chooseSample("Batching");
  await emptyCache();
  await runAndWait();
  const again = await shown();
  assert.equal(again.calls, "5");
  await mkdir(ARTIFACTS, { recursive: true });
  const screenshot = `${ARTIFACTS}playground.png`;
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
  assert.deepEqual(page.problems, []);
});
