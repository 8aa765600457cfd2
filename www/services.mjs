// Six sample microservices on 127.0.0.1, one port each (as separate hosts would be): search,
// catalog, prices, customers, carts and shipping. Deterministic data (a seeded generator) and
// latency, batch endpoints, Cache-Control headers, CORS for pages on another origin. Shipping
// is slow and flaky: a fixed share of quotes fail, decided by the request itself, so the same
// request fails every time. Node only, no dependencies.
//
//   import { start } from "./services.mjs";
//   const services = await start();   // { urls, mappings, calls, close }
//
// `node www/services.mjs` starts them alone and prints their URLs and mappings.
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

const PRODUCT_COUNT = 300;
const CUSTOMER_COUNT = 50;

/** A small seeded generator (mulberry32): the same data on every start. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string: the per-request dice for latency jitter and failures. */
function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const CATEGORIES = {
  tv: ["OLED TV", "QLED TV", "LED TV", "Soundbar", "TV Wall Mount"],
  laptop: ["Ultrabook", "Gaming Laptop", "Chromebook", "Laptop Sleeve", "USB-C Dock"],
  phone: ["Smartphone", "Phone Case", "Wireless Charger", "Screen Protector", "Power Bank"],
  audio: ["Headphones", "Earbuds", "Bluetooth Speaker", "Turntable", "Microphone"],
  kitchen: ["Espresso Machine", "Air Fryer", "Blender", "Kettle", "Toaster"],
  camera: ["Mirrorless Camera", "Action Camera", "Tripod", "Camera Lens", "Memory Card"],
};
const BRANDS = ["Acme", "Northwind", "Contoso", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"];
const ADJECTIVES = ["Pro", "Lite", "Max", "Mini", "Plus", "Air", "Ultra", "One", "S", "X"];
const FIRST = ["Ana", "Bruno", "Carla", "Diego", "Elena", "Farah", "Gustavo", "Hana", "Igor", "Julia"];
const LAST = ["Silva", "Okafor", "Tanaka", "Novak", "Costa", "Haddad", "Larsen", "Moreau", "Rossi"];
const TIERS = ["bronze", "silver", "gold"];

/** The data every service serves, made once per process. */
function makeData() {
  const random = generator(20260501);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const categories = Object.keys(CATEGORIES);
  const products = [];
  for (let id = 1; id <= PRODUCT_COUNT; id++) {
    const category = categories[(id - 1) % categories.length];
    const kind = pick(CATEGORIES[category]);
    const brand = pick(BRANDS);
    products.push({
      id,
      sku: `SKU-${String(1000 + id)}`,
      name: `${brand} ${kind} ${pick(ADJECTIVES)} ${10 + Math.floor(random() * 90)}`,
      brand,
      category,
      rating: Math.round((3 + random() * 2) * 10) / 10,
      stock: Math.floor(random() * 40),
      sellerId: 1 + Math.floor(random() * 12),
    });
  }
  const prices = new Map(
    products.map((p) => {
      const list = Math.round((20 + random() * 1980) * 100) / 100;
      const onSale = random() < 0.3;
      const amount = onSale ? Math.round(list * 0.85 * 100) / 100 : list;
      return [p.sku, { sku: p.sku, amount, listAmount: list, currency: "USD", onSale }];
    }),
  );
  const customers = [];
  const carts = [];
  for (let id = 1; id <= CUSTOMER_COUNT; id++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const cartId = 500 + id;
    customers.push({
      id,
      name: `${first} ${last}`,
      email: `${first}.${last}${id}@example.test`.toLowerCase(),
      tier: pick(TIERS),
      zip: String(10000 + Math.floor(random() * 89999)),
      cartId,
    });
    const count = 1 + Math.floor(random() * 5);
    const items = [];
    for (let i = 0; i < count; i++) {
      const product = products[Math.floor(random() * products.length)];
      items.push({ productId: product.id, sku: product.sku, quantity: 1 + Math.floor(random() * 3) });
    }
    carts.push({ id: cartId, customerId: id, items });
  }
  return {
    products,
    productsById: new Map(products.map((p) => [String(p.id), p])),
    prices,
    customers: new Map(customers.map((c) => [String(c.id), c])),
    carts: new Map(carts.map((c) => [String(c.id), c])),
  };
}

/**
 * Each service: base latency and jitter in ms, the Cache-Control it answers with, and a
 * route function `(url, data) => [status, body]`.
 */
const SERVICES = {
  search: {
    latency: [40, 30],
    cacheControl: "max-age=60",
    route(url, data) {
      if (url.pathname !== "/search") return notFound();
      const q = (url.searchParams.get("q") ?? "").trim().toLowerCase();
      const limit = clamp(Number(url.searchParams.get("limit") ?? 10), 1, PRODUCT_COUNT);
      const found = data.products.filter(
        (p) => !q || p.name.toLowerCase().includes(q) || p.category === q || p.brand.toLowerCase() === q,
      );
      const facets = {};
      for (const p of found) facets[p.category] = (facets[p.category] ?? 0) + 1;
      return [200, { query: q, total: found.length, ids: found.slice(0, limit).map((p) => p.id), facets }];
    },
  },
  catalog: {
    latency: [25, 20],
    cacheControl: "public, max-age=300",
    route(url, data) {
      // GET /products?id=1&id=2: the batch endpoint, items in the order asked, unknown ids left out.
      if (url.pathname === "/products") {
        const ids = url.searchParams.getAll("id").flatMap((v) => v.split(","));
        return [200, ids.map((id) => data.productsById.get(id)).filter(Boolean)];
      }
      const match = url.pathname.match(/^\/products\/([^/]+)$/);
      const product = match && data.productsById.get(decodeURIComponent(match[1]));
      return product ? [200, product] : notFound();
    },
  },
  prices: {
    latency: [30, 25],
    cacheControl: "max-age=30",
    route(url, data) {
      // GET /prices?sku=a,b: the batch endpoint.
      if (url.pathname === "/prices") {
        const skus = url.searchParams.getAll("sku").flatMap((v) => v.split(","));
        return [200, skus.map((sku) => data.prices.get(sku)).filter(Boolean)];
      }
      const match = url.pathname.match(/^\/prices\/([^/]+)$/);
      const price = match && data.prices.get(decodeURIComponent(match[1]));
      return price ? [200, price] : notFound();
    },
  },
  customers: {
    latency: [20, 15],
    cacheControl: "private, max-age=120",
    route(url, data) {
      const match = url.pathname.match(/^\/customers\/([^/]+)$/);
      const customer = match && data.customers.get(decodeURIComponent(match[1]));
      return customer ? [200, customer] : notFound();
    },
  },
  carts: {
    latency: [35, 20],
    cacheControl: "max-age=5",
    route(url, data) {
      const match = url.pathname.match(/^\/carts\/([^/]+)$/);
      const cart = match && data.carts.get(decodeURIComponent(match[1]));
      return cart ? [200, cart] : notFound();
    },
  },
  shipping: {
    latency: [250, 250],
    cacheControl: "max-age=20",
    route(url) {
      if (url.pathname !== "/quotes") return notFound();
      const zip = url.searchParams.get("zip") ?? "";
      const sku = url.searchParams.get("sku") ?? "";
      if (!zip || !sku) return [400, { error: "zip and sku are required" }];
      const dice = hash(`${zip}|${sku}`);
      if (isFlaky(zip, sku)) return [503, { error: "carrier unavailable, try again later" }];
      const carrier = ["FastShip", "ParcelCo", "PostNet"][dice % 3];
      return [200, { zip, sku, carrier, days: 1 + (dice % 6), amount: Math.round((4 + (dice % 2000) / 100) * 100) / 100 }];
    },
  },
};

/** Whether the shipping service fails this quote: one request in four, the same ones every time. */
export function isFlaky(zip, sku) {
  return hash(`${zip}|${sku}`) % 4 === 0;
}

function notFound() {
  return [404, { error: "not found" }];
}

function clamp(n, low, high) {
  return Number.isFinite(n) ? Math.min(high, Math.max(low, Math.floor(n))) : low;
}

/**
 * Starts the six services on 127.0.0.1.
 * @param {{ host?: string, latencyScale?: number, ports?: Record<string, number> }} [options]
 *   `latencyScale` multiplies every latency (0: answer at once, for benchmarks); `ports`
 *   fixes a service's port (default: a free one).
 * @returns {Promise<{ urls: Record<string, string>, mappings: Record<string, unknown>,
 *   calls: Array<{ service: string, method: string, path: string }>, close: () => Promise<void> }>}
 */
export async function start(options = {}) {
  const host = options.host ?? "127.0.0.1";
  const scale = options.latencyScale ?? 1;
  const data = makeData();
  const calls = [];
  const servers = [];
  const urls = {};
  for (const [name, service] of Object.entries(SERVICES)) {
    const server = createServer((request, response) => {
      const url = new URL(request.url, "http://x");
      calls.push({ service: name, method: request.method, path: url.pathname + url.search });
      response.setHeader("access-control-allow-origin", "*");
      response.setHeader("access-control-expose-headers", "cache-control");
      if (request.method === "OPTIONS") {
        response.writeHead(204, {
          "access-control-allow-methods": "GET, POST",
          "access-control-allow-headers": request.headers["access-control-request-headers"] ?? "*",
          "access-control-max-age": "600",
        });
        return response.end();
      }
      const [status, body] = request.method === "GET" ? service.route(url, data) : [405, { error: "method not allowed" }];
      const [base, jitter] = service.latency;
      const ms = scale * (base + (hash(request.url) % (jitter + 1)));
      const timer = setTimeout(() => {
        const headers = { "content-type": "application/json" };
        if (status < 400) headers["cache-control"] = service.cacheControl;
        response.writeHead(status, headers);
        response.end(JSON.stringify(body));
      }, ms);
      // A caller that gives up (a timeout, a cancelled run) frees the timer.
      response.on("close", () => clearTimeout(timer));
    });
    await new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.ports?.[name] ?? 0, host, resolve);
    });
    servers.push(server);
    urls[name] = `http://${host}:${server.address().port}`;
  }
  return {
    urls,
    mappings: mappingsFor(urls),
    calls,
    close: async () => {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}

/**
 * restql mappings for the services. Products and prices use the object form with their batch
 * endpoints: a multiplexed statement's calls to them go out as one call per 50 keys, unless
 * the statement opts out with `-> no-batch`.
 */
export function mappingsFor(urls) {
  return {
    search: `${urls.search}/search?:q&:limit`,
    product: {
      url: `${urls.catalog}/products/:id`,
      batch: {
        on: "id",
        request: `GET ${urls.catalog}/products`,
        query: { id: "$keys -> repeat" },
        max: 50,
        items: "$",
        key: "id",
      },
    },
    price: {
      url: `${urls.prices}/prices/:sku`,
      batch: {
        on: "sku",
        request: `GET ${urls.prices}/prices`,
        query: { sku: "$keys -> csv" },
        max: 50,
        items: "$",
        key: "sku",
      },
    },
    customer: `${urls.customers}/customers/:id`,
    cart: `${urls.carts}/carts/:id`,
    shipping: `${urls.shipping}/quotes?:zip&:sku`,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const services = await start();
  for (const [name, url] of Object.entries(services.urls)) console.log(`${name.padEnd(10)} ${url}`);
  console.log(JSON.stringify(services.mappings, null, 2));
  const stop = () => services.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
