// `restql-wasm serve`: the bin started as a process on a free port, queried over real HTTP.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startUpstream, mappingsFor } from "./support/upstream.mjs";

const bin = fileURLToPath(new URL("../bin/restql-wasm.js", import.meta.url));
let upstream;
let dir;
let server;

/** Starts the bin; resolves once it prints its URL. */
function startServe(args) {
  const child = spawn(process.execPath, [bin, "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stderr })));
  const url = new Promise((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = stdout.match(/serving (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
    exited.then(({ code }) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return { child, url, exited };
}

before(async () => {
  upstream = await startUpstream();
  dir = await mkdtemp(join(tmpdir(), "restql-serve-"));
  await writeFile(join(dir, "mappings.json"), JSON.stringify(mappingsFor(upstream.url)));
  await writeFile(
    join(dir, "queries.json"),
    JSON.stringify({ demo: { team: ["from hero with id = $id\nfrom sidekick with id = hero.sidekickId"] } }),
  );
  const serve = startServe([
    "--mappings", join(dir, "mappings.json"),
    "--queries", join(dir, "queries.json"),
    "--port", "0",
    "--forward-headers", "authorization",
    "--max-body-bytes", "100",
  ]);
  server = { ...serve, url: await serve.url };
});

after(async () => {
  if (server && server.child.exitCode === null) server.child.kill("SIGKILL");
  await upstream?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("serve answers a saved query over HTTP", async () => {
  const start = upstream.calls.length;
  const response = await fetch(`${server.url}/run-query/demo/team/1?tenant=DEFAULT&id=2`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(response.headers.get("cache-control"), "max-age=30");
  const body = await response.json();
  assert.equal(body.hero.result.name, "Wonder Woman");
  assert.equal(body.sidekick.result.name, "Etta");
  assert.deepEqual(upstream.calls.slice(start).map((c) => c.path), ["/hero/2", "/sidekick/20"]);
});

test("serve runs ad-hoc queries and forwards only the allowlisted headers", async () => {
  const start = upstream.calls.length;
  const response = await fetch(`${server.url}/run-query`, {
    method: "POST",
    headers: { authorization: "Bearer t", cookie: "s=1" },
    body: "from hero with id = 1",
  });
  assert.equal(response.status, 200);
  assert.equal((await response.json()).hero.result.name, "Batman");
  const [call] = upstream.calls.slice(start);
  assert.equal(call.headers.authorization, "Bearer t");
  assert.equal(call.headers.cookie, undefined);
});

test("serve applies the body limit and restQL's error statuses", async () => {
  const large = await fetch(`${server.url}/run-query`, { method: "POST", body: `from hero ${" ".repeat(200)}` });
  assert.equal(large.status, 413);
  const syntax = await fetch(`${server.url}/run-query`, { method: "POST", body: "from hero with" });
  assert.equal(syntax.status, 400);
  assert.equal((await syntax.json()).code, "syntax");
  const missing = await fetch(`${server.url}/run-query/demo/nope/1`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: "query not found" });
});

test("a client that goes away aborts its query's calls", async () => {
  const controller = new AbortController();
  const pending = fetch(`${server.url}/run-query`, {
    method: "POST",
    body: "from slow with id = 9, ms = 5000",
    signal: controller.signal,
  });
  await waitFor(() => upstream.calls.some((c) => c.path === "/slow/9"));
  controller.abort();
  await assert.rejects(pending);
  await waitFor(() => upstream.aborted.includes("/slow/9"));
});

test("serve stops on SIGTERM", async () => {
  server.child.kill("SIGTERM");
  const { code } = await server.exited;
  assert.equal(code, 0);
});

test("serve refuses to start without mappings", async () => {
  const { url, exited } = startServe(["--port", "0"]);
  await assert.rejects(url);
  const { code, stderr } = await exited;
  assert.equal(code, 2);
  assert.match(stderr, /--mappings is required/);
});

async function waitFor(condition, ms = 3000) {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
