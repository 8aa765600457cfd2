// The peer benchmark harness (`shared/bench` beside the repository, or --peers DIR), copied to
// a temporary folder with its npm dependencies installed, so that benchmarks can add clients
// to it without touching it.
import { cp, mkdtemp, access, readFile, writeFile } from "node:fs/promises";
import { execFileSync, fork } from "node:child_process";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const DEFAULT_PEERS = resolve(ROOT, "..", "shared", "bench");

// The getter's `getBytes(path)`, added to the copy's `clients/http.js` for its HTTP and fetch
// transports: the same call (the same sockets, counted alike) answered with the body's bytes,
// as a fetch gives them, not parsed. The harness's JS clients take parsed objects, which they
// would parse themselves from a fetch; restql-wasm takes bytes and parses them in the module,
// so the getter's JSON.parse is not a cost it would have. (The in-memory transport has no
// bytes: its answers are objects.)
const GETTER_RETURN = "  return {\n    get: (path) => track(raw(path)),";
const GET_BYTES = `  // Added by restql-wasm's benchmarks (pkg/bench/harness.mjs).
  const bytesOf = (path) => {
    if (transport === 'fetch') {
      return fetch(base + path).then((r) => {
        if (!r.ok) throw new Error(\`\${r.status} \${path}\`);
        return r.arrayBuffer().then((b) => new Uint8Array(b));
      });
    }
    return new Promise((resolve, reject) => {
      http.get(base + path, { agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(\`\${res.statusCode} \${path}\`));
          resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
        });
      }).on('error', reject);
    });
  };
`;

/** Copies the harness at `peers` and installs its dependencies; resolves to the copy's folder. */
export async function copyHarness(peers) {
  await access(join(peers, "scenarios.js")).catch(() => {
    console.error(`no peer harness at ${peers}: pass --peers DIR`);
    process.exit(2);
  });
  const work = await mkdtemp(join(tmpdir(), "restql-peers-"));
  await cp(peers, work, { recursive: true, filter: (src) => !src.includes("node_modules") });
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: work, stdio: "inherit" });
  const getter = join(work, "clients", "http.js");
  const source = await readFile(getter, "utf8");
  if (!source.includes(GETTER_RETURN) || !source.includes("let raw, close") || !source.includes("const agent = new http.Agent")) {
    console.error(`the harness's getter (${getter}) is not the one these benchmarks extend`);
    process.exit(2);
  }
  // \`agent\` is the HTTP transport's; hoisted so that getBytes shares its sockets.
  const extended = source
    .replace("let raw, close", "let raw, agent, close")
    .replace("const agent = new http.Agent", "agent = new http.Agent")
    .replace(
      GETTER_RETURN,
      `${GET_BYTES}  return {\n    getBytes: transport === 'memory' ? undefined : (path) => track(bytesOf(path)),\n    get: (path) => track(raw(path)),`,
    );
  await writeFile(getter, extended);
  return work;
}

/**
 * The harness copied (`copyHarness`), a loader for its modules, and its upstream server
 * started on 127.0.0.1 with `latency` ms a route: `{ work, load, server, base }`.
 */
export async function startUpstream(peers, latency) {
  const work = await copyHarness(peers);
  const load = (rel) => import(pathToFileURL(join(work, rel)).href);
  const server = fork(join(work, "server.js"), ["--port", "0", "--latency", String(latency)], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const port = await new Promise((resolve) => server.once("message", (m) => resolve(m.port)));
  return { work, load, server, base: `http://127.0.0.1:${port}` };
}
