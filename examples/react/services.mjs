// Two small services for the example, on 127.0.0.1:8787 (or PORT): heroes and sidekicks, with
// CORS so that the Vite page (another origin) may call them.
import { createServer } from "node:http";

const HEROES = {
  1: { id: 1, name: "Batman", sidekickId: 10 },
  2: { id: 2, name: "Wonder Woman", sidekickId: 20 },
};
const SIDEKICKS = { 10: { id: 10, name: "Robin" }, 20: { id: 20, name: "Etta" } };

const server = createServer((request, response) => {
  response.setHeader("access-control-allow-origin", "*");
  // The browser asks first (a CORS preflight) before calls that carry non-simple headers.
  if (request.method === "OPTIONS") {
    response.writeHead(204, {
      "access-control-allow-methods": "GET",
      "access-control-allow-headers": request.headers["access-control-request-headers"] ?? "*",
    });
    return response.end();
  }
  const [, kind, id] = new URL(request.url, "http://x").pathname.split("/");
  const found = kind === "hero" ? HEROES[id] : kind === "sidekick" ? SIDEKICKS[id] : undefined;
  response.writeHead(found ? 200 : 404, { "content-type": "application/json" });
  response.end(JSON.stringify(found ?? { error: "not found" }));
});
server.listen(Number(process.env.PORT ?? 8787), "127.0.0.1", () => {
  console.log(`services on http://127.0.0.1:${server.address().port}`);
});
