// Compiled with `tsc --noEmit`: the declarations describe what the package exports, and misuse
// is rejected (the @ts-expect-error lines must be errors).
import { init, parse, RestqlError, type ParsedQuery, type ErrorDetail } from "restql-wasm";

export async function usage(): Promise<string[]> {
  await init();
  await init(new URL("https://example.test/restql_bg.wasm"));
  await init(new Uint8Array([0, 97, 115, 109]));

  const query: ParsedQuery = parse("from hero");
  const names = query.statements.map((s) => s.alias ?? s.resource);

  try {
    parse("from");
  } catch (e) {
    if (e instanceof RestqlError) {
      const first: ErrorDetail = e.errors[0];
      const where: number = e.line + e.column + e.columnUtf16 + first.start;
      names.push(`${e.code} ${e.phase} ${where} ${e.snippet}`);
    }
  }

  // @ts-expect-error parse takes query text
  parse(42);
  // @ts-expect-error there is no such method
  query.statements[0].method === "get";
  return names;
}
