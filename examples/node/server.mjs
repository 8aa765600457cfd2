// restQL's HTTP API on Node: createHandler answers fetch Requests, node:http carries them.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { Readable } from "node:stream";
import { createHandler } from "restql-wasm";

const upstream = process.env.UPSTREAM_URL ?? "https://jsonplaceholder.typicode.com";
const port = Number(process.env.PORT ?? 8080);
const queries = JSON.parse(await readFile(new URL("./queries.json", import.meta.url), "utf8"));

const handler = createHandler({
  mappings: {
    user: `${upstream}/users/:id`,
    posts: `${upstream}/posts?:userId`,
  },
  queries,
});

const server = createServer(async (req, res) => {
  const request = new Request(new URL(req.url, "http://localhost"), {
    method: req.method,
    headers: req.headers,
    body: req.method === "GET" || req.method === "HEAD" ? undefined : Readable.toWeb(req),
    duplex: "half", // required by Node when the body is a stream
  });
  const response = await handler(request);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
});

server.listen(port, "127.0.0.1", () => {
  console.log(`restQL example listening on http://127.0.0.1:${server.address().port}`);
});
