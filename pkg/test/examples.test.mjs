// Smoke runs of the examples/ folders: each serves its saved queries through createHandler,
// pointed at a service on 127.0.0.1 through UPSTREAM_URL.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";

const pkg = fileURLToPath(new URL("..", import.meta.url));
const examples = fileURLToPath(new URL("../../examples/", import.meta.url));
const deno = join(pkg, "node_modules/.bin/deno");

let upstream;
let calls;
const children = [];
const cleanups = [];

/** A stand-in for the examples' default service: users and their posts. */
async function startBlog() {
  const seen = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url, "http://x");
    seen.push(url.pathname + url.search);
    const user = url.pathname.match(/^\/users\/(\d+)$/);
    let body;
    if (user) body = { id: Number(user[1]), name: "Leanne", email: "l@example.test", phone: "1" };
    else if (url.pathname === "/posts") {
      const userId = Number(url.searchParams.get("userId"));
      body = [1, 2].map((id) => ({ userId, id, title: `post ${id}`, body: "..." }));
    }
    response.writeHead(body ? 200 : 404, { "content-type": "application/json", "cache-control": "max-age=120" });
    response.end(JSON.stringify(body ?? {}));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    calls: seen,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

before(async () => {
  upstream = await startBlog();
  calls = upstream.calls;
});

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  for (const cleanup of cleanups) await cleanup();
  await upstream?.close();
});

/** Starts a server process; resolves to the URL it prints. */
function start(command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed in time:\n${output}`)), 20000);
    const read = (chunk) => {
      output += chunk;
      const match = output.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
}

async function stop(child) {
  const exited = new Promise((resolve) => child.on("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/** Both revisions of blog/author, as every example serves them. */
async function checkBlog(fetchFn, base) {
  const first = calls.length;
  const one = await fetchFn(`${base}/run-query/blog/author/1?tenant=DEFAULT&id=1`);
  assert.equal(one.status, 200);
  assert.equal(one.headers.get("cache-control"), "max-age=120");
  const body = await one.json();
  assert.equal(body.user.result.name, "Leanne");
  assert.equal(body.posts.result.length, 2);
  assert.deepEqual(calls.slice(first), ["/users/1", "/posts?userId=1"]);

  const two = await fetchFn(`${base}/run-query/blog/author/2?id=3`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: 7 }),
  });
  assert.equal(two.status, 200);
  assert.deepEqual(await two.json(), {
    posts: {
      details: { metadata: {}, status: 200, success: true },
      result: [{ id: 1, title: "post 1" }, { id: 2, title: "post 2" }],
    },
    user: {
      details: { metadata: {}, status: 200, success: true },
      result: { email: "l@example.test", name: "Leanne" },
    },
  });

  const missing = await fetchFn(`${base}/run-query/blog/author/3?id=1`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: "query not found" });
}

test("examples/node serves the saved queries", async () => {
  // The example as a user has it after `npm install`: restql-wasm in its node_modules.
  const dir = await mkdtemp(join(tmpdir(), "restql-example-node-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const file of ["server.mjs", "queries.json"]) await copyFile(join(examples, "node", file), join(dir, file));
  await mkdir(join(dir, "node_modules"));
  await symlink(pkg, join(dir, "node_modules/restql-wasm"), "dir");

  const { child, url } = await start(process.execPath, ["server.mjs"], {
    cwd: dir,
    env: { ...process.env, UPSTREAM_URL: upstream.url, PORT: "0" },
  });
  await checkBlog(fetch, url);
  await stop(child);
});

test("examples/deno serves the saved queries", async () => {
  const dir = join(examples, "deno");
  const { child, url } = await start(
    deno,
    [
      "run",
      "--no-lock",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env=UPSTREAM_URL,PORT",
      "--unstable-no-legacy-abort",
      "main.js",
    ],
    { cwd: dir, env: { ...process.env, UPSTREAM_URL: upstream.url, PORT: "0", NO_COLOR: "1" } },
  );
  await checkBlog(fetch, url);
  await stop(child);
});

test("examples/cloudflare-worker serves the saved queries in workerd", async () => {
  // Bundled the way wrangler does it: npm resolution with the workerd condition, the .wasm
  // module left to the runtime.
  const modules = await mkdtemp(join(tmpdir(), "restql-example-worker-"));
  cleanups.push(() => rm(modules, { recursive: true, force: true }));
  await symlink(pkg, join(modules, "restql-wasm"), "dir");
  const { outputFiles } = await build({
    entryPoints: [join(examples, "cloudflare-worker/src/worker.js")],
    bundle: true,
    format: "esm",
    write: false,
    outfile: join(pkg, "worker.js"),
    nodePaths: [modules],
    conditions: ["workerd", "worker", "browser"],
    external: ["*.wasm"],
    logLevel: "silent",
  });
  const mf = new Miniflare({
    modules: [
      { type: "ESModule", path: join(pkg, "worker.js"), contents: outputFiles[0].text },
      { type: "CompiledWasm", path: join(pkg, "dist/server/restql_bg.wasm") },
    ],
    modulesRoot: pkg,
    bindings: { UPSTREAM_URL: upstream.url },
    compatibilityDate: "2026-04-26",
  });
  cleanups.push(() => mf.dispose());
  await checkBlog((url, init) => mf.dispatchFetch(url, init), "http://worker.test");
});
