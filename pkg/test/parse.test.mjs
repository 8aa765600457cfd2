// The built package in Node: parse, errors as RestqlError, init idempotence.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

import { init, parse, RestqlError } from "restql-wasm";

test("init is idempotent and accepts bytes", async () => {
  await init();
  await init(await readFile(new URL("../dist/server/restql_bg.wasm", import.meta.url)));
});

test("parse returns the canonical JSON form", async () => {
  await init();
  assert.deepEqual(parse("from hero as h with id = 1\nfrom sidekick with id = h.sidekick only name"), {
    statements: [
      {
        method: "from",
        resource: "hero",
        alias: "h",
        with: { body: null, params: [{ key: "id", value: { int: 1 }, fns: [] }] },
      },
      {
        method: "from",
        resource: "sidekick",
        with: { body: null, params: [{ key: "id", value: { chain: ["h", "sidekick"] }, fns: [] }] },
        only: [{ path: ["name"], fns: [] }],
      },
    ],
  });
});

test("a syntax error is a RestqlError with position and snippet", async () => {
  await init();
  assert.throws(
    () => parse("from hero\nfrom villain with id = ,"),
    (e) => {
      assert.ok(e instanceof RestqlError);
      assert.ok(e instanceof Error);
      assert.equal(e.name, "RestqlError");
      assert.equal(e.code, "syntax");
      assert.equal(e.phase, "parse");
      assert.equal(e.line, 2);
      assert.equal(e.column, 24);
      assert.match(e.message, /','/);
      assert.match(e.snippet, /\^/);
      return true;
    },
  );
});

test("validation errors are all reported", async () => {
  await init();
  assert.throws(
    () => parse("from hero with id = ghost.id\nfrom hero"),
    (e) => {
      assert.ok(e instanceof RestqlError);
      assert.equal(e.phase, "validate");
      assert.deepEqual(
        e.errors.map((d) => d.code),
        ["unknown-chain-target", "duplicate-identifier"],
      );
      return true;
    },
  );
});

test("UTF-16 columns match what JS editors count", async () => {
  await init();
  const text = 'from hero with s = "😀" x';
  assert.throws(
    () => parse(text),
    (e) => {
      assert.equal(e.column, 24);
      assert.equal(e.columnUtf16, text.indexOf("x") + 1);
      return true;
    },
  );
});
