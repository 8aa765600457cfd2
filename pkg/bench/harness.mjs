// The peer benchmark harness (`shared/bench` beside the repository, or --peers DIR), copied to
// a temporary folder with its npm dependencies installed, so that benchmarks can add clients
// to it without touching it.
import { cp, mkdtemp, access } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const DEFAULT_PEERS = resolve(ROOT, "..", "shared", "bench");

/** Copies the harness at `peers` and installs its dependencies; resolves to the copy's folder. */
export async function copyHarness(peers) {
  await access(join(peers, "scenarios.js")).catch(() => {
    console.error(`no peer harness at ${peers}: pass --peers DIR`);
    process.exit(2);
  });
  const work = await mkdtemp(join(tmpdir(), "restql-peers-"));
  await cp(peers, work, { recursive: true, filter: (src) => !src.includes("node_modules") });
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: work, stdio: "inherit" });
  return work;
}
