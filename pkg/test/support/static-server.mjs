// A static file server on 127.0.0.1 for browser tests: serves `root` with the MIME types
// browsers insist on for modules and wasm.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
};

/**
 * Starts the server; resolves to `{ url, close }`. `extra` maps paths to in-memory contents
 * (e.g. a bundle built by the test) served before the files under `root`.
 */
export async function serveStatic(root, extra = {}) {
  const server = createServer(async (request, response) => {
    const asked = normalize(decodeURIComponent(new URL(request.url, "http://x").pathname));
    const path = asked.endsWith("/") ? `${asked}index.html` : asked;
    if (path.includes("..")) {
      response.writeHead(403).end();
      return;
    }
    if (Object.hasOwn(extra, path)) {
      response.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
      response.end(extra[path]);
      return;
    }
    try {
      const body = await readFile(join(root, path));
      response.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
