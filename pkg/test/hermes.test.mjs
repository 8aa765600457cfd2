// The react-native build in Hermes, the engine React Native runs: bundled by esbuild as a
// script, run by the Hermes CLI (no WebAssembly, no TextEncoder, no class syntax).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";

const run = promisify(execFile);
const hermes = fileURLToPath(new URL("../node_modules/hermes-engine-cli/linux64-bin/hermes", import.meta.url));

test("the react-native build parses in Hermes", async () => {
  const out = join(await mkdtemp(join(tmpdir(), "restql-hermes-")), "bundle.js");
  await build({
    entryPoints: [fileURLToPath(new URL("./hermes/entry.js", import.meta.url))],
    bundle: true,
    format: "iife",
    target: "es2020",
    outfile: out,
    logLevel: "error",
  });
  const { stdout } = await run(hermes, ["-Xmicrotask-queue", out], { maxBuffer: 16 * 1024 * 1024 });
  const report = JSON.parse(stdout.trim().split("\n").pop());
  assert.equal(report.failure, undefined);
  assert.equal(report.hasWebAssembly, false, "Hermes has no WebAssembly: the build must not need it");
  assert.deepEqual(report.parsed.statements[0].with.params[0].value, { str: "Ünïcødé 😀" });
  assert.equal(report.parsed.statements[1].resource, "sidekick");
  assert.deepEqual(report.error, {
    isRestqlError: true,
    isError: true,
    code: "syntax",
    line: 2,
    column: 24,
    message: report.error.message,
  });
  assert.match(report.error.message, /','/);
  assert.equal(report.large, "too-large");
  assert.equal(report.afterGrowth, "after");

  // A whole run, timers and promises included, on Hermes with an injected fetch.
  assert.equal(report.run.status, 200);
  assert.equal(report.run.headers["cache-control"], "max-age=5");
  assert.deepEqual(report.run.body.hero.result.map((h) => h.id), [1, 2, 1]);
  assert.deepEqual(report.run.body.friend.result, [{ name: "Hero 11" }, { name: "Hero 12" }, { name: "Hero 11" }]);
  assert.deepEqual(report.run.stats.calls, 4);
  assert.deepEqual(
    report.requests.map((r) => r.url).sort(),
    [
      "http://services.test/hero/1",
      "http://services.test/hero/11",
      "http://services.test/hero/12",
      "http://services.test/hero/2",
    ],
  );
});
