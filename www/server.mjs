// The demo server: the playground's files, the built package under /pkg/, the playground's
// configuration (mappings of the sample services, saved queries) and restQL's HTTP API
// (createHandler) with a few saved queries, on one localhost origin.
//
//   node www/server.mjs [--port 8080]   starts the sample services and this server
//   import { startDemo } from "./server.mjs"   for tests: startDemo({ services, port: 0 })
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { createHandler } from "../pkg/node.js";
import { start as startServices } from "./services.mjs";

const WWW = fileURLToPath(new URL(".", import.meta.url));
const PKG = fileURLToPath(new URL("../pkg/", import.meta.url));

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
};

/** What the page may read under /pkg/: the browser entry point, its helpers and the build. */
const PKG_FILES = /^\/pkg\/(index\.js|lib\/[\w-]+\.js|dist\/restql(\.js|_bg\.wasm)|dist\/snippets\/[\w-]+\/inline\d+\.js)$/;

/** Saved queries served at /run-query/:namespace/:name/:revision (revision N is the N-th). */
export const SAVED_QUERIES = {
  shop: {
    "product-page": [
      "from product with id = $id\nfrom price with sku = product.sku only amount, currency",
      "from product with id = $id only id, name, brand, sku\nfrom price with sku = product.sku only amount, currency, onSale",
    ],
    "search-with-prices": [
      "from search with q = $q, limit = 6 only ids, total\nfrom product with id = search.ids only id, name, sku\nfrom price with sku = product.sku only amount",
    ],
    "customer-cart": [
      "from customer with id = $customer only name, tier, zip\nfrom cart with id = customer.cartId only items\nfrom product with id = cart.items.productId only name\nfrom shipping timeout 2000 with zip = customer.zip, sku = cart.items.sku ignore-errors",
    ],
  },
};

/** Upstream calls longer than this many are left out of a run's trace header. */
const TRACE_LIMIT = 300;

/**
 * Starts the demo server for running sample services.
 * @param {{ services: { mappings: object }, port?: number, host?: string }} options
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startDemo({ services, port = 0, host = "127.0.0.1" }) {
  const handlerOptions = { mappings: services.mappings, queries: SAVED_QUERIES, timeoutMs: 5000 };
  const handler = createHandler(handlerOptions);
  const config = JSON.stringify({ mappings: services.mappings, savedQueries: SAVED_QUERIES });

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, `http://${req.headers.host ?? host}`);
      if (url.pathname.startsWith("/run-query") || url.pathname === "/validate-query") {
        return await serveApi(req, res, url);
      }
      if (url.pathname === "/playground/config.json") {
        res.writeHead(200, { "content-type": TYPES[".json"], "cache-control": "no-store" });
        return res.end(config);
      }
      return await serveFile(url.pathname, res);
    } catch (error) {
      console.error(error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });

  /**
   * restQL's API. A request with `x-playground-trace: 1` gets its own handler whose fetch
   * records every upstream call, returned as JSON in the `x-playground-trace` header: a
   * handler per run keeps concurrent runs' calls apart.
   */
  async function serveApi(req, res, url) {
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await readAll(req);
    const request = new Request(url, { method: req.method, headers: headersOf(req), body });
    const tracing = req.headers["x-playground-trace"] === "1";
    let response;
    const extra = {};
    if (tracing) {
      const calls = [];
      const origin = performance.now();
      const traced = createHandler({ ...handlerOptions, fetch: recordingFetch(calls, origin) });
      response = await traced(request);
      traced.close();
      extra["x-playground-trace"] = JSON.stringify(calls.slice(0, TRACE_LIMIT));
    } else {
      response = await handler(request);
    }
    res.writeHead(response.status, { ...Object.fromEntries(response.headers), ...extra });
    res.end(Buffer.from(await response.arrayBuffer()));
  }

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return {
    url: `http://${host}:${server.address().port}`,
    close: async () => {
      handler.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A fetch that records each call's method, URL, start, end (ms from `origin`) and status. */
function recordingFetch(calls, origin) {
  return async (input, init = {}) => {
    const call = { method: init.method ?? "GET", url: String(input), start: performance.now() - origin };
    calls.push(call);
    try {
      const response = await fetch(input, init);
      const bytes = await response.arrayBuffer();
      call.end = performance.now() - origin;
      call.status = response.status;
      return new Response(bytes, { status: response.status, headers: response.headers });
    } catch (error) {
      call.end = performance.now() - origin;
      call.error = error?.name === "AbortError" ? "aborted" : String(error?.message ?? error);
      throw error;
    }
  };
}

async function serveFile(pathname, res) {
  let file;
  if (pathname === "/" || pathname === "/index.html") file = join(WWW, "index.html");
  else if (PKG_FILES.test(pathname)) file = join(PKG, pathname.slice("/pkg/".length));
  else {
    const relative = normalize(decodeURIComponent(pathname)).replace(/^[/\\]+/, "");
    if (relative.startsWith("..") || relative.split(sep).includes("..")) return notFound(res);
    file = join(WWW, relative);
  }
  try {
    const bytes = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
    res.end(bytes);
  } catch {
    notFound(res);
  }
}

function notFound(res) {
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found");
}

function headersOf(req) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === "host" || name === "connection") continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return headers;
}

async function readAll(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const portArg = process.argv.indexOf("--port");
  const port = Number(portArg > 0 ? process.argv[portArg + 1] : (process.env.PORT ?? 8080));
  const services = await startServices();
  let demo;
  try {
    demo = await startDemo({ services, port });
  } catch (error) {
    if (error.code !== "EADDRINUSE") throw error;
    console.log(`port ${port} is taken; using a free one`);
    demo = await startDemo({ services, port: 0 });
  }
  console.log("sample services:");
  for (const [name, url] of Object.entries(services.urls)) console.log(`  ${name.padEnd(10)} ${url}`);
  console.log(`\nrestql playground: ${demo.url}/\n(Ctrl-C stops everything)`);
  const stop = async () => {
    await demo.close();
    await services.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
