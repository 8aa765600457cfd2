// examples/react-native's logic in Hermes, the engine React Native runs. esbuild bundles it
// with the "react-native" export condition, as Metro does, so "restql-wasm" is the pure-JS
// build; the Hermes CLI runs it (no WebAssembly, no URL, no fetch: the entry brings one).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";

const run = promisify(execFile);
const pkg = resolve(fileURLToPath(new URL("..", import.meta.url)));
const hermes = join(pkg, "node_modules/hermes-engine-cli/linux64-bin/hermes");

// The example imports "restql-wasm" as an app would. Resolve it from inside the package
// (a self-reference), so that its real exports map decides which file is loaded.
const restqlFromPackage = {
  name: "restql-wasm-from-package",
  setup(build) {
    build.onResolve({ filter: /^restql-wasm(\/.*)?$/ }, (args) =>
      args.resolveDir === pkg ? undefined : build.resolve(args.path, { kind: args.kind, resolveDir: pkg }),
    );
  },
};

test("the React Native example's logic runs in Hermes with the pure-JS build", async () => {
  const dir = await mkdtemp(join(tmpdir(), "restql-rn-example-"));
  const out = join(dir, "bundle.js");
  try {
    const result = await build({
      entryPoints: [fileURLToPath(new URL("./hermes/example-entry.js", import.meta.url))],
      bundle: true,
      format: "iife",
      target: "es2020",
      platform: "neutral",
      conditions: ["react-native"],
      mainFields: ["react-native", "main"],
      define: { "process.env.NODE_ENV": '"production"' },
      plugins: [restqlFromPackage],
      outfile: out,
      metafile: true,
      logLevel: "error",
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.some((p) => p.endsWith("dist/rn/restql_bg.wasm.js")), "the pure-JS build is bundled");
    assert.ok(!inputs.some((p) => p.endsWith("dist/restql.js")), "the wasm build is not");

    const { stdout } = await run(hermes, ["-Xmicrotask-queue", out], { maxBuffer: 16 * 1024 * 1024 });
    const report = JSON.parse(stdout.trim().split("\n").pop());
    assert.equal(report.failure, undefined);
    assert.equal(report.hasWebAssembly, false);
    assert.equal(report.hasURL, false, "Hermes has no URL: nothing here may need it");
    assert.deepEqual(report.loadingCard, { title: "Loading…", subtitle: "", busy: true });
    assert.deepEqual(report.cards.batman, { title: "Batman", subtitle: "Sidekick: Robin", busy: false });
    assert.deepEqual(report.cards.wonderWoman, {
      title: "Wonder Woman",
      subtitle: "Sidekick: Etta",
      busy: false,
    });
    assert.deepEqual(report.cards.missing, {
      title: "No such hero (status 404)",
      subtitle: "No sidekick",
      busy: false,
    });
    assert.equal(report.cards.bad.title, "Bad query");
    assert.match(report.cards.bad.subtitle, /','/);
    assert.deepEqual(report.requests, [
      "GET http://services.test/hero/1",
      "GET http://services.test/sidekick/10",
      "GET http://services.test/hero/2",
      "GET http://services.test/sidekick/20",
      "GET http://services.test/hero/3",
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// HeroCard.js itself needs React Native, which is not here; what it adds over heroCardLogic.js is
// restql-wasm/react. Hermes must accept its syntax (Hermes 0.12 has no classes, for one).
// Compiled, not run: React itself reaches Hermes through Metro's Babel transforms in an app.
test("restql-wasm/react compiles in Hermes", async () => {
  const dir = await mkdtemp(join(tmpdir(), "restql-rn-react-"));
  const out = join(dir, "react.js");
  try {
    await build({
      entryPoints: [join(pkg, "react.js")],
      bundle: true,
      format: "iife",
      globalName: "restqlReact",
      target: "es2020",
      external: ["react"],
      outfile: out,
      logLevel: "error",
    });
    await run(hermes, ["-emit-binary", "-out", join(dir, "react.hbc"), out]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
