// Real upstream services on 127.0.0.1 for the package tests: a small catalogue with chains,
// a slow route, a failing route and Cache-Control headers. Counts every call by path, with
// the time it came in.
import { createServer } from "node:http";

const HEROES = {
  1: { id: 1, name: "Batman", sidekickId: 10, weapons: ["belt", "fists"] },
  2: { id: 2, name: "Wonder Woman", sidekickId: 20, weapons: ["lasso"] },
};
const SIDEKICKS = { 10: { id: 10, name: "Robin" }, 20: { id: 20, name: "Etta" } };

/** Starts the services; resolves to `{ url, calls, aborted, close }`. */
export async function startUpstream() {
  const calls = [];
  const aborted = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url, "http://x");
    calls.push({ method: request.method, path: url.pathname, search: url.search, headers: request.headers, at: performance.now() });
    // Pages on another origin (the browser tests) may call these services.
    response.setHeader("access-control-allow-origin", "*");
    response.setHeader("access-control-expose-headers", "cache-control");
    if (request.method === "OPTIONS") {
      response.writeHead(204, {
        "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE",
        "access-control-allow-headers": request.headers["access-control-request-headers"] ?? "*",
      });
      return response.end();
    }
    const send = (status, body, headers = {}) => {
      response.writeHead(status, { "content-type": "application/json", ...headers });
      response.end(JSON.stringify(body));
    };
    const [, kind, id] = url.pathname.split("/");
    if (kind === "hero" && HEROES[id]) return send(200, HEROES[id], { "cache-control": "max-age=60" });
    if (kind === "sidekick" && SIDEKICKS[id]) return send(200, SIDEKICKS[id], { "cache-control": "max-age=30" });
    if (kind === "proto") return response.end('{"__proto__": {"polluted": true}, "constructor": "c", "ok": 1}');
    if (kind === "slow") {
      const timer = setTimeout(() => send(200, { slow: true }), Number(url.searchParams.get("ms") ?? 2000));
      request.on("close", () => {
        if (!response.writableEnded) {
          clearTimeout(timer);
          aborted.push(url.pathname);
        }
      });
      return;
    }
    // A hero's id, after `ms`: for items that end at different times.
    if (kind === "late") {
      setTimeout(() => send(200, { heroId: Number(id) }), Number(url.searchParams.get("ms") ?? 0));
      return;
    }
    if (kind === "broken") return send(503, { error: "down" });
    // A body of about `id` bytes, with its Content-Length, or chunked without one.
    if (kind === "big") {
      const text = JSON.stringify({ pad: "x".repeat(Math.max(0, Number(id) - 10)) });
      if (url.searchParams.has("chunked")) {
        response.writeHead(200, { "content-type": "application/json", "x-kind": "chunked" });
        response.write(text.slice(0, 5));
        return response.end(text.slice(5));
      }
      response.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), "x-kind": "sized" });
      return response.end(text);
    }
    if (kind === "echo") {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => send(200, { method: request.method, body: body ? JSON.parse(body) : null }));
      return;
    }
    send(404, { error: "not found" });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    calls,
    aborted,
    close: () => {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Mappings for these services. */
export function mappingsFor(url) {
  return {
    hero: `${url}/hero/:id`,
    sidekick: `${url}/sidekick/:id`,
    proto: `${url}/proto`,
    slow: `${url}/slow/:id?:ms`,
    late: `${url}/late/:id?:ms`,
    broken: `${url}/broken`,
    big: `${url}/big/:id?:chunked`,
    echo: `${url}/echo`,
  };
}
