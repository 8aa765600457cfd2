// examples/react, built by Vite and loaded in headless Chromium against the example's own
// services (services.mjs) on 127.0.0.1. The example's dependencies are not installed here:
// restql-wasm and React resolve to this package and its dev copies of React.
import { test, before, after } from "node:test";
import { spawn } from "node:child_process";
import { once } from "node:events";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

import { serveStatic } from "./support/static-server.mjs";
import { launchChromium } from "./support/chromium.mjs";

const pkg = fileURLToPath(new URL("..", import.meta.url));
const example = fileURLToPath(new URL("../../examples/react/", import.meta.url));

let outDir;
let server;
let browser;
let services;
let servicesUrl;

before(async () => {
  outDir = await mkdtemp(join(tmpdir(), "restql-react-example-"));
  await build({
    root: example,
    configFile: join(example, "vite.config.js"),
    logLevel: "error",
    build: { outDir, emptyOutDir: true },
    resolve: {
      alias: [
        { find: /^restql-wasm$/, replacement: join(pkg, "index.js") },
        { find: /^restql-wasm\/react$/, replacement: join(pkg, "react.js") },
        { find: /^(react|react-dom)(\/.*)?$/, replacement: join(pkg, "node_modules", "$1$2") },
      ],
    },
  });
  server = await serveStatic(outDir);
  // The services the README has newcomers start, on a free port.
  services = spawn(process.execPath, [join(example, "services.mjs")], {
    env: { ...process.env, PORT: "0" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = await once(services.stdout, "data");
  servicesUrl = String(line).match(/http:\/\/127\.0\.0\.1:\d+/)[0];
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  services?.kill();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

test("the build ships the wasm module as an asset", async () => {
  const assets = await readdir(join(outDir, "assets"));
  assert.ok(assets.some((name) => name.endsWith(".wasm")), `no .wasm among ${assets}`);
});

test("the app shows a hero and its sidekick, then another after a click", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  await page.goto(`${server.url}/?upstream=${encodeURIComponent(servicesUrl)}`);

  await page.waitForSelector("#hero", { timeout: 10_000 });
  assert.equal(await page.textContent("#hero"), "Batman");
  assert.equal(await page.textContent("#sidekick"), "Sidekick: Robin");
  assert.match(await page.textContent("#stats"), /^status 200, 2 calls in \d+ ms$/);

  await page.click("text=Hero 2");
  await page.waitForFunction(() => document.querySelector("#hero")?.textContent === "Wonder Woman");
  await page.waitForFunction(() => !document.querySelector("#stats").textContent.includes("updating"));
  assert.equal(await page.textContent("#sidekick"), "Sidekick: Etta");
  assert.match(await page.textContent("#stats"), /^status 200, 2 calls in \d+ ms$/);
  assert.deepEqual(errors, []);
});
