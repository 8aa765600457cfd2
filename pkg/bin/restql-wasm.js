#!/usr/bin/env node
// `restql-wasm serve`: restQL's HTTP API from Node, through createHandler.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { createHandler } from "../node.js";

const USAGE = `usage: restql-wasm serve --mappings m.json [--queries q.json] [--port 9000]
                         [--host 127.0.0.1] [--tenant DEFAULT] [--forward-headers a,b]
                         [--max-body-bytes N] [--timeout-ms N]

  --mappings         JSON file: {"resource": "http://host/path/:id", ...}
  --queries          JSON file of saved queries: {"namespace": {"name": ["revision 1", ...]}}
  --port             port to listen on (default 9000; 0 picks a free one)
  --host             address to listen on (default 127.0.0.1)
  --tenant           tenant name of the mappings (default DEFAULT)
  --forward-headers  client headers sent on to upstreams (default: none)
  --max-body-bytes   largest request body accepted (default 1048576)
  --timeout-ms       per-statement timeout (default 5000)`;

function fail(message) {
  process.stderr.write(`restql-wasm: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function readJson(path, what) {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    fail(`cannot read the ${what} file ${path}: ${error.message}`);
  }
}

function integer(text, option) {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) fail(`--${option} takes a non-negative integer`);
  return value;
}

/** Adapts node:http to the fetch handler; an answer's client going away aborts its run. */
function nodeListener(handler) {
  return async (req, res) => {
    const aborter = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) aborter.abort();
    });
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    let response;
    try {
      const request = new Request(new URL(req.url, "http://localhost"), {
        method: req.method,
        headers,
        body: hasBody ? Readable.toWeb(req) : undefined,
        duplex: "half",
        signal: aborter.signal,
      });
      response = await handler(request);
    } catch (error) {
      response = Response.json({ error: `bad request: ${error.message}` }, { status: 400 });
    }
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  };
}

async function serve(args) {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        mappings: { type: "string" },
        queries: { type: "string" },
        port: { type: "string", default: "9000" },
        host: { type: "string", default: "127.0.0.1" },
        tenant: { type: "string" },
        "forward-headers": { type: "string" },
        "max-body-bytes": { type: "string" },
        "timeout-ms": { type: "string" },
      },
    }));
  } catch (error) {
    fail(error.message);
  }
  if (!values.mappings) fail("--mappings is required");
  const handler = createHandler({
    mappings: await readJson(values.mappings, "mappings"),
    queries: values.queries ? await readJson(values.queries, "queries") : {},
    tenant: values.tenant,
    forwardHeaders: values["forward-headers"]?.split(",").map((h) => h.trim()).filter(Boolean) ?? [],
    maxBodyBytes: integer(values["max-body-bytes"], "max-body-bytes"),
    timeoutMs: integer(values["timeout-ms"], "timeout-ms"),
  });
  const server = createServer(nodeListener(handler));
  server.on("error", (error) => {
    process.stderr.write(`restql-wasm: ${error.message}\n`);
    process.exit(1);
  });
  server.listen(integer(values.port, "port"), values.host, () => {
    const { address, port } = server.address();
    const host = address.includes(":") ? `[${address}]` : address;
    process.stdout.write(`restql-wasm serving http://${host}:${port}\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    handler.close();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

const [command, ...rest] = process.argv.slice(2);
if (command === "serve") {
  await serve(rest);
} else if (command === "--help" || command === "-h" || command === "help") {
  process.stdout.write(`${USAGE}\n`);
} else {
  fail(command ? `unknown command ${command}` : "a command is required");
}
