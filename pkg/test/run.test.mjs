// createClient / run / explain in Node against real services on 127.0.0.1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

import { init, createClient, explain, RestqlError } from "restql-wasm";
import { startUpstream, mappingsFor } from "./support/upstream.mjs";

const PKG = fileURLToPath(new URL("..", import.meta.url));

let upstream;
let client;

before(async () => {
  await init();
  upstream = await startUpstream();
  client = await createClient({ mappings: mappingsFor(upstream.url) });
});

after(async () => {
  client?.close();
  await upstream?.close();
});

function callsTo(prefix) {
  return upstream.calls.filter((c) => c.path.startsWith(prefix));
}

test("a chain runs in order and answers in restQL's shape", async () => {
  const before = upstream.calls.length;
  const r = await client.run("from hero with id = $id\nfrom sidekick with id = hero.sidekickId only name", {
    variables: { id: 1 },
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers["cache-control"], "max-age=30");
  assert.deepEqual(r.body.hero.details, { status: 200, success: true, metadata: {} });
  assert.equal(r.body.hero.result.name, "Batman");
  assert.deepEqual(r.body.sidekick.result, { name: "Robin" });
  assert.deepEqual(
    upstream.calls.slice(before).map((c) => c.path),
    ["/hero/1", "/sidekick/10"],
  );
  assert.equal(r.stats.calls, 2);
});

test("a list multiplexes and identical calls go out once", async () => {
  const before = callsTo("/hero/").length;
  const r = await client.run("from hero with id = [1, 2, 1]");
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.hero.result.map((h) => h.name), ["Batman", "Wonder Woman", "Batman"]);
  assert.equal(r.body.hero.details.length, 3);
  assert.equal(callsTo("/hero/").length - before, 2);
  assert.equal(r.stats.calls, 2);
  assert.equal(r.stats.deduped, 1);
});

test("details are restQL's objects, one per item at every depth, ignore-errors and failures alike", async () => {
  const r = await client.run("from hero with id = [[1, 2], [3]] ignore-errors\nfrom broken\nfrom sidekick with id = 10 ignore-errors");
  const ok = { status: 200, success: true, metadata: {} };
  const ignored = { status: 200, success: true, metadata: { "ignore-errors": "ignore" } };
  const missing = { status: 404, success: false, metadata: { "ignore-errors": "ignore" } };
  assert.deepEqual(r.body.hero.details, [[ignored, ignored], [missing]]);
  assert.deepEqual(r.body.broken.details, { status: 503, success: false, metadata: {} });
  assert.deepEqual(r.body.sidekick.details, ignored);
  assert.notEqual(r.body.hero.details[0][0], r.body.hero.details[0][1], "each item its own object");
  const plain = await client.run("from hero with id = 1");
  assert.deepEqual(plain.body.hero.details, ok);
  assert.deepEqual(Object.keys(plain.body.hero.details), ["status", "success", "metadata"], "restQL's key order");
});

test("a chained fan-out starts each item's next call when its own item is there", async () => {
  const start = performance.now();
  const r = await client.run("from late with id = [1, 2], ms = [20, 600]\nfrom hero with id = late.heroId");
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.hero.result.map((h) => h.name), ["Batman", "Wonder Woman"]);
  const calls = upstream.calls.filter((c) => c.at >= start);
  const at = (path) => calls.find((c) => c.path === path)?.at - start;
  // Hero 1 goes out when late/1 answers (20 ms), not when late/2 does (600 ms).
  assert.ok(at("/hero/1") < 400, `hero/1 went out at ${at("/hero/1")} ms`);
  assert.ok(at("/hero/2") >= 600, `hero/2 went out at ${at("/hero/2")} ms`);
});

test("a statement's part of the body is parsed while the run waits for a slower one", async () => {
  const query = "from hero with id = [1, 2] only name\nfrom slow with id = 3, ms = 300\nfrom sidekick with id = 10 hidden";
  // Every text JSON.parse reads during the run, and when.
  const parsed = [];
  const parse = JSON.parse;
  JSON.parse = function (text, reviver) {
    parsed.push({ at: performance.now(), text: String(text) });
    return parse.call(this, text, reviver);
  };
  const start = performance.now();
  let r;
  try {
    r = await client.run(query);
  } finally {
    JSON.parse = parse;
  }
  const heroPart = parsed.find((p) => p.text.startsWith('{"details":[') && p.text.includes("Batman"));
  assert.ok(heroPart, `no part of hero's alone among ${parsed.map((p) => p.text.slice(0, 40))}`);
  assert.ok(heroPart.at - start < 250, `hero's part was parsed at ${heroPart.at - start} ms`);
  assert.ok(!parsed.some((p) => p.text.startsWith('{"details":{') && p.text.includes("Robin")), "a hidden statement is never handed out");
  assert.equal(r.status, 200);
  // The body is whole, in restQL's order, as if written at the end.
  assert.deepEqual(Object.keys(r.body), ["hero", "slow"]);
  assert.deepEqual(r.body.hero, {
    details: [
      { status: 200, success: true, metadata: {} },
      { status: 200, success: true, metadata: {} },
    ],
    result: [{ name: "Batman" }, { name: "Wonder Woman" }],
  });
  assert.deepEqual(r.body.slow.result, { slow: true });
});

test("a statement timeout gives 408 and aborts the call upstream", async () => {
  const r = await client.run("from slow timeout 100 with id = 1, ms = 3000");
  assert.equal(r.body.slow.details.status, 408);
  assert.equal(r.status, 408);
  assert.equal(r.headers["cache-control"], undefined);
  await waitFor(() => upstream.aborted.includes("/slow/1"));
});

test("a body past maxResponseBytes fails its call with 502, with or without Content-Length", async () => {
  const limited = await createClient({ mappings: mappingsFor(upstream.url), maxResponseBytes: 1000 });
  const r = await limited.run(
    "from big as small with id = 500\nfrom big as sized with id = 5000\nfrom big as chunked with id = 5000, chunked = 1",
  );
  assert.equal(r.body.small.details.status, 200);
  assert.equal(r.body.small.result.pad.length, 490);
  assert.equal(r.body.sized.details.status, 502);
  assert.equal(r.body.chunked.details.status, 502);
  assert.equal(r.status, 502);
  // The upstream's headers come through: restQL copies a single statement's as `<id>-<name>`.
  assert.equal(r.headers["small-x-kind"], "sized");
  limited.close();
});

test("ignore-errors keeps the aggregated status at 200", async () => {
  const r = await client.run("from hero with id = 2\nfrom broken ignore-errors");
  assert.equal(r.status, 200);
  assert.equal(r.body.broken.details.status, 503);
  assert.deepEqual(r.body.broken.details.metadata, { "ignore-errors": "ignore" });
});

test("an aborted signal rejects the run and aborts its calls", async () => {
  const controller = new AbortController();
  const running = client.run("from slow with id = 2, ms = 3000", { signal: controller.signal });
  await waitFor(() => callsTo("/slow/2").length === 1);
  controller.abort();
  await assert.rejects(running, (e) => e.name === "AbortError");
  await waitFor(() => upstream.aborted.includes("/slow/2"));
});

test("an injected fetch sees every request", async () => {
  const seen = [];
  const recording = await createClient({
    mappings: mappingsFor(upstream.url),
    fetch: (input, init) => {
      seen.push({ url: String(input), method: init.method });
      return fetch(input, init);
    },
  });
  const r = await recording.run('to echo with name = "x", tags = ["a", "b"] -> no-multiplex');
  recording.close();
  assert.equal(r.status, 200);
  assert.deepEqual(seen, [{ url: `${upstream.url}/echo`, method: "POST" }]);
  assert.deepEqual(r.body.echo.result, { method: "POST", body: { name: "x", tags: ["a", "b"] } });
});

test("upstream __proto__ keys stay plain data", async () => {
  const r = await client.run("from proto");
  const result = r.body.proto.result;
  assert.equal(Object.getPrototypeOf(result), Object.prototype);
  assert.equal(result.polluted, undefined);
  assert.ok(Object.hasOwn(result, "__proto__"));
  assert.equal(result.constructor, "c");
  assert.equal({}.polluted, undefined);
});

test("a statement called __proto__ whose part came while the run waited is an own property", async () => {
  const r = await client.run("from hero as __proto__ with id = 1\nfrom slow with id = 3, ms = 300");
  assert.equal(r.status, 200);
  assert.equal(Object.getPrototypeOf(r.body), Object.prototype);
  assert.ok(Object.hasOwn(r.body, "__proto__"));
  assert.deepEqual(Object.keys(r.body), ["__proto__", "slow"]);
  assert.equal(Object.getOwnPropertyDescriptor(r.body, "__proto__").value.result.name, "Batman");
  assert.equal(r.body.slow.result.slow, true);
});

test("a bad query rejects with RestqlError before any call", async () => {
  const before = upstream.calls.length;
  await assert.rejects(client.run("from hero with id ="), (e) => {
    assert.ok(e instanceof RestqlError);
    assert.equal(e.code, "syntax");
    return true;
  });
  await assert.rejects(client.run("from nowhere"), (e) => e instanceof RestqlError && e.phase === "plan");
  assert.equal(upstream.calls.length, before);
});

test("variables that are not an object are refused before any call; empty ones are none", async () => {
  const before = upstream.calls.length;
  for (const variables of [5, "x", [1], new Date(0)]) {
    await assert.rejects(client.run("from hero with id = 1", { variables }), (e) => {
      assert.ok(e instanceof RestqlError);
      assert.equal(e.code, "invalid-inputs");
      assert.match(e.message, /variables must be an object/);
      return true;
    });
  }
  assert.equal(upstream.calls.length, before);
  // None at all: $id is absent.
  const without = await client.run("from hero with id = $id");
  assert.notEqual(without.body.hero.details.status, 200);
  for (const variables of [null, {}, Object.create({ id: 1 })]) {
    const r = await client.run("from hero with id = $id", { variables });
    assert.deepEqual(r.body.hero, without.body.hero);
  }
  const r = await client.run("from hero with id = $id", { variables: Object.assign(Object.create(null), { id: 2 }) });
  assert.equal(r.body.hero.result.id, 2);
});

test("debug output comes with each detail only when the run asks for it", async () => {
  const plain = await client.run("from hero with id = [1, 2]");
  assert.deepEqual(plain.body.hero.details.map((d) => Object.keys(d)), [["status", "success", "metadata"], ["status", "success", "metadata"]]);
  const debugged = await client.run("from hero with id = [1, 2]", { debug: true });
  assert.deepEqual(
    debugged.body.hero.details.map((d) => [d.status, d.debug.method, d.debug.url]),
    [
      [200, "GET", `${upstream.url}/hero/1`],
      [200, "GET", `${upstream.url}/hero/2`],
    ],
  );
});

test("no timer holds the event loop once a run is over", async () => {
  await client.run("from hero with id = 1");
  const timers = process.getActiveResourcesInfo().filter((r) => r === "Timeout");
  assert.deepEqual(timers, []);
});

test("a run that takes back the timer an earlier run left still times out on time", async () => {
  // The first run leaves the timer set for its 300 ms timeout; the second, whose timeout ends
  // later, takes it back rather than setting its own, and is woken when it fires early.
  const timed = await createClient({ mappings: mappingsFor(upstream.url), timeoutMs: 300 });
  try {
    assert.equal((await timed.run("from hero with id = 1")).status, 200);
    const started = performance.now();
    const r = await timed.run("from slow timeout 400 with id = 7, ms = 3000");
    const took = performance.now() - started;
    assert.equal(r.body.slow.details.status, 408);
    assert.ok(took >= 390 && took < 2000, `timed out after ${Math.round(took)} ms`);
  } finally {
    timed.close();
  }
});

test("a process exits once its runs are over, long before their timeouts", async () => {
  // The client keeps its timer for the next run, unreferenced: a referenced one would hold
  // this process for the 20 s timeout.
  const script = `
    import { init, createClient } from "restql-wasm";
    await init();
    const client = await createClient({
      mappings: { hero: ${JSON.stringify(`${upstream.url}/hero/:id`)} },
      timeoutMs: 20000,
      queryTimeoutMs: 30000,
    });
    const r = await client.run("from hero with id = 1");
    console.log(r.status, r.body.hero.result.name);
  `;
  const started = performance.now();
  const { code, output } = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: PKG });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const killer = setTimeout(() => child.kill("SIGKILL"), 15000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    });
  });
  const took = performance.now() - started;
  assert.equal(code, 0, output);
  assert.equal(output.trim(), "200 Batman");
  assert.ok(took < 10000, `the process exited after ${Math.round(took)} ms`);
});

test("explain shows the plan as data and as text", () => {
  const plan = explain("from hero with id = 1\nfrom sidekick with id = hero.sidekickId", {
    mappings: mappingsFor(upstream.url),
  });
  assert.equal(typeof plan.text, "string");
  assert.match(plan.text, /hero/);
  assert.match(plan.text, /sidekick/);
});

async function waitFor(condition, ms = 2000) {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > ms) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
