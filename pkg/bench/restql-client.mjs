// restql-wasm as a client of the peer harness (`shared/bench`): the harness's three
// scenarios as restQL queries, its getter as the fetch function. `batch` declares the
// harness's batch routes (`/products`, `/prices`, `/customers`) in the mappings, as the
// DataLoader client uses them; without it every id is its own call (deduped).
//
// restql receives bytes, as from a real fetch, and parses them in wasm: from the getter's
// `getBytes(path)` (added by `harness.mjs` over HTTP: the same call, the body not parsed), or
// else (the in-memory transport) from `get(path)`'s parsed object, encoded once per path and
// cached.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const ORIGIN = "http://upstream.test";
const encoder = new TextEncoder();
const HEADERS = [["content-type", "application/json"]];

/**
 * `window`: the batch routes' `window` (unset: the default, the end of the task). `build`:
 * `server` (what Node loads) or `browser` (the size-tuned module browsers load, here run by
 * Node). `packageDir`: another built copy of the package to load (its Node entry), in
 * place of this one. `prewarm`: `{ get, rounds }`, a getter (say the harness's in-memory
 * one) over which a client of the same mappings runs each scenario `rounds` times first, so
 * that the engine has compiled the module's hot code before the first measured query.
 */
export async function createRestqlClient({ get, getBytes, p, batch = true, window, build = "server", packageDir, prewarm }) {
  const entry = packageDir ? pathToFileURL(join(packageDir, "node.js")).href : build === "browser" ? "../index.js" : "../node.js";
  const { init, createClient } = await import(entry);
  const encodedFrom = (get) => {
    const encoded = new Map();
    return (path) =>
      get(path).then((body) => {
        let bytes = encoded.get(path);
        if (!bytes) {
          bytes = encoder.encode(JSON.stringify(body));
          encoded.set(path, bytes);
        }
        return bytes;
      });
  };
  // A body as the ArrayBuffer a Response gives: a view of part of a larger buffer (Node's
  // socket reads) is copied out.
  const bufferOf = (bytes) =>
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? bytes.buffer
      : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const fetchOver = (bytesOf) => (url) =>
    bytesOf(url.slice(ORIGIN.length)).then((bytes) => {
      const buffer = bufferOf(bytes);
      return { status: 200, headers: HEADERS, arrayBuffer: () => Promise.resolve(buffer) };
    });
  const batched = (single, route) => {
    if (!batch) return `${ORIGIN}/${single}/:id`;
    const spec = { on: "id", request: `GET ${ORIGIN}/${route}`, max: p.batch };
    if (window !== undefined) spec.window = window;
    return { url: `${ORIGIN}/${single}/:id`, batch: spec };
  };
  await init(build === "browser" ? await readFile(new URL("../dist/restql_bg.wasm", import.meta.url)) : undefined);
  const config = (bytesOf) => ({
    fetch: fetchOver(bytesOf),
    // The growth runs multiplex up to 5,000 ids per statement.
    maxCalls: 100_000,
    mappings: {
      customer: batched("customer", "customers"),
      cart: `${ORIGIN}/cart/:id`,
      product: batched("product", "products"),
      price: batched("price", "prices"),
      shipping: `${ORIGIN}/shipping?:zip&:items`,
      search: `${ORIGIN}/search?:q&:n&:unique`,
    },
  });
  const client = await createClient(config(getBytes ?? encodedFrom(get)));
  const queries = {
    a: `from customer with id = "${p.customerId}"
from cart with id = "C${p.customerId}"
from product with id = "${p.productId}"
from price with id = "P${p.productId}"`,
    b: `from customer with id = "${p.customerId}"
from cart with id = customer.cartId
from shipping with zip = customer.zip, items = cart.items.productId -> no-multiplex`,
    c: `from search with q = "${p.q}", n = ${p.n}, unique = ${p.unique}
from product with id = search.ids
from price with id = product.priceId`,
  };
  if (prewarm) {
    const warm = await createClient(config(encodedFrom(prewarm.get)));
    for (let i = 0; i < prewarm.rounds; i++) for (const scn of ["a", "b", "c"]) await warm.run(queries[scn]);
    warm.close();
  }
  // What the harness wants of each scenario, read from restql's body.
  const pick = {
    a: (b) => ({ customer: b.customer.result, cart: b.cart.result, product: b.product.result, price: b.price.result }),
    b: (b) => ({ customer: b.customer.result, cart: b.cart.result, shipping: b.shipping.result }),
    c: (b) => {
      // Each item is its own object (parsed from the body's text): it takes its price in place.
      const prices = b.price.result;
      const items = b.product.result;
      for (let i = 0; i < items.length; i++) items[i].price = prices[i];
      return { ids: b.search.result.ids, items };
    },
  };
  const checked = (scn, r) => {
    if (r.status !== 200) throw new Error(`restql (${scn}) answered ${r.status}`);
    return r;
  };
  const run = async (scn) => checked(scn, await client.run(queries[scn]));
  // One async function between the harness and the client, as the JS clients have.
  const scenario = (scn) => async () => pick[scn](checked(scn, await client.run(queries[scn])).body);
  return {
    a: scenario("a"),
    b: scenario("b"),
    c: scenario("c"),
    /** The run's whole answer, and the harness's reading of a body: for the floor figures. */
    run,
    pick,
    /** The restql-wasm client itself, and the scenarios' queries: for other queries. */
    client,
    queries,
    close: () => client.close(),
  };
}
