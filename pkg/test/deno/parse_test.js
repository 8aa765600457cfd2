// The built package in Deno: the module is fetched next to the package from a file: URL.
import { assertEquals, assertInstanceOf, assertThrows } from "./assert.js";
import { init, parse, RestqlError } from "../../index.js";

Deno.test("parse in Deno returns canonical JSON", async () => {
  await init();
  assertEquals(parse("from hero with id = $id").statements[0], {
    method: "from",
    resource: "hero",
    with: { body: null, params: [{ key: "id", value: { var: "id" }, fns: [] }] },
  });
});

Deno.test("errors in Deno are RestqlError", async () => {
  await init();
  const error = assertThrows(() => parse("form hero"));
  assertInstanceOf(error, RestqlError);
  assertEquals([error.code, error.line, error.column], ["syntax", 1, 1]);
});
