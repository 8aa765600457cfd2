// Runs inside Hermes (bundled by esbuild): the react-native build, with Hermes's own globals.
import { init, parse, createClient, RestqlError } from "../../react-native.js";

// Hermes has no fetch: a stand-in that answers like one, and records what it was asked.
const requests = [];
function fakeFetch(url, init) {
  requests.push({ url, method: init.method });
  const id = Number(url.split("/").pop());
  const bytes = new TextEncoder().encode(JSON.stringify({ id, name: "Hero " + id, friend: id + 10 }));
  return Promise.resolve({
    status: 200,
    headers: [["content-type", "application/json"], ["cache-control", "max-age=5"]],
    arrayBuffer: () => Promise.resolve(bytes.buffer),
  });
}

const report = {
  hasWebAssembly: typeof WebAssembly !== "undefined",
};
init()
  .then(() => {
    report.parsed = parse('from hero as h with name = "Ünïcødé 😀"\nfrom sidekick with id = h.id');
    try {
      parse("from hero\nfrom villain with id = ,");
    } catch (e) {
      report.error = {
        isRestqlError: e instanceof RestqlError,
        isError: e instanceof Error,
        code: e.code,
        line: e.line,
        column: e.column,
        message: e.message,
      };
    }
    // A large input makes the pure-JS memory grow: the glue must follow the new buffer.
    const big = "x".repeat(3 * 1024 * 1024);
    try {
      parse(`from hero with q = "${big}"`);
    } catch (e) {
      report.large = e.code;
    }
    report.afterGrowth = parse("from after").statements[0].resource;
    return createClient({
      mappings: { hero: "http://services.test/hero/:id", friend: "http://services.test/hero/:id" },
      fetch: fakeFetch,
    });
  })
  .then((client) =>
    client.run("from hero with id = [1, 2, 1]\nfrom friend with id = hero.friend only name").then((r) => {
      report.run = { status: r.status, headers: r.headers, body: r.body, stats: r.stats };
      report.requests = requests;
    }),
  )
  .catch((e) => {
    report.failure = String(e && e.stack ? e.stack : e);
  })
  .then(() => {
    print(JSON.stringify(report));
  });
