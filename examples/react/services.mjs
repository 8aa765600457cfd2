// Two small services for the example, on 127.0.0.1:8787 (or PORT): heroes and sidekicks, with
// CORS so that the Vite page (another origin) may call them.
import { createServer } from "node:http";

const HEROES = {
  1: { id: 1, name: "Batman", sidekickId: 10 },
  2: { id: 2, name: "Wonder Woman", sidekickId: 20 },
};
const SIDEKICKS = { 10: { id: 10, name: "Robin" }, 20: { id: 20, name: "Etta" } };

const port = Number(process.env.PORT ?? 8787);
createServer((request, response) => {
  const [, kind, id] = new URL(request.url, "http://x").pathname.split("/");
  const found = kind === "hero" ? HEROES[id] : kind === "sidekick" ? SIDEKICKS[id] : undefined;
  response.writeHead(found ? 200 : 404, {
    "content-type": "application/json",
    "access-control-allow-origin": "*",
  });
  response.end(JSON.stringify(found ?? { error: "not found" }));
}).listen(port, "127.0.0.1", () => console.log(`services on http://127.0.0.1:${port}`));
