// Compiled with `tsc --noEmit`: the declarations describe what the package exports, and misuse
// is rejected (the @ts-expect-error lines must be errors).
import {
  init,
  parse,
  createClient,
  createHandler,
  explain,
  RestqlError,
  type ParsedQuery,
  type ErrorDetail,
  type Handler,
} from "restql-wasm";

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

export async function runUsage(): Promise<number> {
  const client = await createClient({
    mappings: { hero: "http://127.0.0.1:1/hero/:id" },
    timeoutMs: 500,
    fetch: (input, init) => fetch(input, init),
  });
  const controller = new AbortController();
  const r = await client.run("from hero with id = $id", {
    variables: { id: 1 },
    signal: controller.signal,
  });
  const cc: string | undefined = r.headers["cache-control"];
  const calls: number = r.stats.calls + r.stats.deduped;
  client.close();
  // @ts-expect-error mappings are required
  await createClient({});
  const batched = await createClient({
    mappings: {
      hero: "http://127.0.0.1:1/hero/:id",
      product: {
        url: "http://127.0.0.1:1/products/:id",
        batch: { on: "id", request: "GET http://127.0.0.1:1/products", max: 25, "max-url": 2000, window: "microtask" },
      },
      price: { url: "http://127.0.0.1:1/prices/:id", batch: { on: "id", request: "GET http://127.0.0.1:1/prices", window: 10 } },
    },
  });
  batched.close();
  await createClient({
    // @ts-expect-error a batch endpoint names the parameter it batches
    mappings: { product: { url: "http://x/p/:id", batch: { request: "GET http://x/p" } } },
  });
  await createClient({
    // @ts-expect-error no such window
    mappings: { product: { url: "http://x/p/:id", batch: { on: "id", request: "GET http://x/p", window: "soon" } } },
  });
  const plan = explain("from hero", { mappings: { hero: "http://x/:id" } });
  return r.status + calls + (cc ? 1 : 0) + plan.text.length;
}

export async function handlerUsage(): Promise<number> {
  const handler: Handler = createHandler({
    mappings: { hero: "http://127.0.0.1:1/hero/:id" },
    tenants: { OTHER: { hero: "http://127.0.0.1:2/hero/:id" } },
    queries: { demo: { hero: ["from hero with id = $id"] } },
    forwardHeaders: ["authorization"],
    upstreamHeaders: ["location"],
    maxBodyBytes: 65536,
    timeoutMs: 1000,
    onError: (error, request) => console.log(error, request.url),
  });
  const worker = { fetch: handler };
  const response: Response = await worker.fetch(new Request("http://x/run-query/demo/hero/1?id=1"));
  handler.close();
  // @ts-expect-error revisions are lists of texts
  createHandler({ queries: { demo: { hero: "from hero" } } });
  // @ts-expect-error forwardHeaders is a list
  createHandler({ mappings: {}, forwardHeaders: "authorization" });
  return response.status;
}
