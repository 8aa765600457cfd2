// createHandler called directly with Requests, against real services on 127.0.0.1: restQL's
// HTTP API (ad-hoc, saved queries, validate-query), tenants, variables, forwarded headers,
// body limits and the error statuses.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { createHandler } from "restql-wasm";
import { startUpstream, mappingsFor } from "./support/upstream.mjs";

let upstream;
let mappings;
const handlers = [];

before(async () => {
  upstream = await startUpstream();
  mappings = mappingsFor(upstream.url);
});

after(async () => {
  handlers.forEach((h) => h.close());
  await upstream?.close();
});

function handlerWith(options) {
  const handler = createHandler(options);
  handlers.push(handler);
  return handler;
}

/** Sends one request; resolves to the response, its parsed body and the upstream calls it caused. */
async function send(handler, path, init = {}) {
  const start = upstream.calls.length;
  const response = await handler(new Request(`http://restql.test${path}`, init));
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  return { response, status: response.status, body, text, calls: upstream.calls.slice(start) };
}

const post = (body, headers = {}) => ({ method: "POST", body, headers });
const paths = (calls) => calls.map((c) => c.path + c.search);

const SAVED = {
  demo: {
    hero: ["from hero with id = $id", "from hero as h with id = $id"],
    team: ["from hero with id = $id\nfrom sidekick with id = hero.sidekickId"],
    broken: ["from hero with"],
    many: ["from hero with id = $ids"],
  },
};

test("an ad-hoc query runs and answers with restQL's status, Cache-Control and body", async () => {
  const handler = handlerWith({ mappings });
  const r = await send(
    handler,
    "/run-query?tenant=DEFAULT&id=1",
    post("from hero with id = $id\nfrom sidekick with id = hero.sidekickId only name", {
      "content-type": "text/plain",
    }),
  );
  assert.equal(r.status, 200);
  assert.equal(r.response.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(r.response.headers.get("cache-control"), "max-age=30");
  assert.equal(r.response.headers.get("hero-cache-control"), "max-age=60");
  assert.deepEqual(r.body.hero.details, { status: 200, success: true, metadata: {} });
  assert.equal(r.body.hero.result.name, "Batman");
  assert.deepEqual(r.body.sidekick.result, { name: "Robin" });
  assert.deepEqual(paths(r.calls), ["/hero/1", "/sidekick/10"]);
});

test("an upstream failure gives restQL's aggregated status and no Cache-Control", async () => {
  const handler = handlerWith({ mappings });
  const r = await send(handler, "/run-query", post("from hero with id = 1\nfrom broken"));
  assert.equal(r.status, 503);
  assert.equal(r.body.broken.details.status, 503);
  assert.equal(r.body.hero.result.name, "Batman");
  assert.equal(r.response.headers.get("cache-control"), null);
});

test("saved queries: revision N is the N-th text, and revisions cannot change", async () => {
  const queries = structuredClone(SAVED);
  const handler = handlerWith({ mappings, queries });
  queries.demo.hero[0] = "from sidekick with id = 10";
  queries.demo.hero.push("from sidekick as s with id = 10");

  const first = await send(handler, "/run-query/demo/hero/1?tenant=DEFAULT&id=2");
  assert.equal(first.status, 200);
  assert.equal(first.response.headers.get("cache-control"), "max-age=60");
  assert.deepEqual(Object.keys(first.body), ["hero"]);
  assert.equal(first.body.hero.result.name, "Wonder Woman");
  assert.deepEqual(paths(first.calls), ["/hero/2"]);

  const second = await send(handler, "/run-query/demo/hero/2?id=1", { method: "POST" });
  assert.equal(second.status, 200);
  assert.deepEqual(Object.keys(second.body), ["h"]);
  assert.deepEqual(paths(second.calls), ["/hero/1"]);

  const third = await send(handler, "/run-query/demo/hero/3?id=1");
  assert.equal(third.status, 404);
  assert.deepEqual(third.body, { error: "query not found" });
  assert.equal(third.calls.length, 0);
});

test("saved-query errors: unknown query, revision 0, revision not an integer", async () => {
  const handler = handlerWith({ mappings, queries: SAVED });
  const cases = [
    ["/run-query/demo/nope/1", 404, "query not found"],
    ["/run-query/other/hero/1", 404, "query not found"],
    ["/run-query/demo/hero/0", 422, "validation error: revision must be greater than 0"],
    ["/run-query/demo/hero/-2", 422, "validation error: revision must be greater than 0"],
    ["/run-query/demo/hero/abc", 400, "invalid revision : must be an integer"],
    ["/run-query/demo/hero/1.5", 400, "invalid revision : must be an integer"],
  ];
  for (const [path, status, error] of cases) {
    const r = await send(handler, path);
    assert.equal(r.status, status, path);
    assert.deepEqual(r.body, { error }, path);
    assert.equal(r.response.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(r.calls.length, 0);
  }
});

test("a saved query that does not parse is a server error (500); the same text ad hoc is 400", async () => {
  const handler = handlerWith({ mappings, queries: SAVED });
  const saved = await send(handler, "/run-query/demo/broken/1");
  assert.equal(saved.status, 500);
  assert.match(saved.body.error, /^parsing error: invalid query syntax 1:15 \(14\): /);
  assert.equal(saved.body.code, "syntax");
  assert.equal(saved.body.line, 1);
  assert.equal(saved.body.column, 15);

  const adHoc = await send(handler, "/run-query", post("from hero with"));
  assert.equal(adHoc.status, 400);
  assert.equal(adHoc.body.error, saved.body.error);
  assert.equal(adHoc.body.code, "syntax");
  assert.equal(adHoc.body.phase, "parse");
});

test("validation and planning errors: unknown chain target 400, unknown resource 500", async () => {
  const handler = handlerWith({ mappings });
  const chain = await send(handler, "/run-query", post("from hero with id = foo.id"));
  assert.equal(chain.status, 400);
  assert.match(chain.body.error, /^parsing error: .*foo/);
  assert.equal(chain.body.code, "unknown-chain-target");
  assert.equal(chain.body.line, 1);
  assert.equal(chain.calls.length, 0);

  const resource = await send(handler, "/run-query", post("from hero with id = 1\nfrom villain"));
  assert.equal(resource.status, 500);
  assert.match(resource.body.error, /^unknown mappings: .*villain/);
  assert.equal(resource.body.code, "unknown-resource");
  assert.equal(resource.body.line, 2);
  assert.equal(resource.calls.length, 0);
});

test("regex errors from variables are 500 as in restQL; a bad literal regex ad hoc is 400", async () => {
  const handler = handlerWith({ mappings });
  const query = "from hero with id = 1 only name -> matches($pattern)";
  const invalid = await send(handler, "/run-query?pattern=(", post(query));
  assert.equal(invalid.status, 500);
  assert.match(invalid.body.error, /^error parsing regexp: /);
  assert.equal(invalid.body.code, "invalid-regex");

  const missing = await send(handler, "/run-query", post(query));
  assert.equal(missing.status, 500);
  assert.match(missing.body.error, /^failed to parse match argument : /);
  assert.equal(missing.body.code, "missing-variable");

  const literal = await send(handler, "/run-query", post('from hero with id = 1 only name -> matches("(")'));
  assert.equal(literal.status, 400);
  assert.equal(literal.body.code, "invalid-regex");
  assert.equal(invalid.calls.length + missing.calls.length + literal.calls.length, 0);
});

test("a query past its deadline gives 408 with restQL's body and the code", async () => {
  const handler = handlerWith({ mappings });
  const r = await send(handler, "/run-query", post("use timeout 100\nfrom slow with id = 7, ms = 3000"));
  assert.equal(r.status, 408);
  assert.equal(r.body.error, "timeout: query timed out");
  assert.equal(r.body.code, "query-timeout");
  assert.equal(r.response.headers.get("cache-control"), null);
});

test("validate-query: 200 and no body for a good query, 422 with the position for a bad one", async () => {
  const handler = handlerWith({ mappings });
  const good = await send(handler, "/validate-query", post("from hero with id = 1"));
  assert.equal(good.status, 200);
  assert.equal(good.text, "");

  const bad = await send(handler, "/validate-query", post("from hero\n  with id = "));
  assert.equal(bad.status, 422);
  assert.match(bad.body.error, /^invalid query: parsing error: invalid query syntax 2:/);
  assert.equal(bad.body.code, "syntax");
  assert.equal(bad.body.line, 2);
  assert.equal(good.calls.length + bad.calls.length, 0);
});

test("tenants: ?tenant= picks the mappings; none given uses the default; unknown is 404", async () => {
  const handler = handlerWith({
    tenants: { DEFAULT: mappings, OTHER: { ...mappings, hero: `${upstream.url}/sidekick/:id` } },
    tenant: "DEFAULT",
  });
  const other = await send(handler, "/run-query?tenant=OTHER", post("from hero with id = 10"));
  assert.equal(other.status, 200);
  assert.equal(other.body.hero.result.name, "Robin");
  assert.deepEqual(paths(other.calls), ["/sidekick/10"]);

  const fallback = await send(handler, "/run-query", post("from hero with id = 1"));
  assert.deepEqual(paths(fallback.calls), ["/hero/1"]);

  const unknown = await send(handler, "/run-query?tenant=NOPE", post("from hero with id = 1"));
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.body, { error: "mappings not found: tenant NOPE" });
  assert.equal(unknown.calls.length, 0);
});

test("without a default tenant, a request naming none is 400 as in restQL", async () => {
  const handler = handlerWith({ tenants: { A: mappings }, queries: SAVED });
  const adHoc = await send(handler, "/run-query", post("from hero with id = 1"));
  assert.equal(adHoc.status, 400);
  assert.deepEqual(adHoc.body, { error: "invalid tenant : no value provided" });
  const saved = await send(handler, "/run-query/demo/hero/1?id=1");
  assert.equal(saved.status, 400);
  const named = await send(handler, "/run-query/demo/hero/1?id=1&tenant=A");
  assert.equal(named.status, 200);
  assert.equal(adHoc.calls.length + saved.calls.length, 0);
});

test("variables: a repeated query parameter is a list and multiplexes", async () => {
  const handler = handlerWith({ mappings, queries: SAVED });
  const r = await send(handler, "/run-query/demo/many/1?ids=1&ids=2");
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.hero.result.map((h) => h.name), ["Batman", "Wonder Woman"]);
  assert.deepEqual(paths(r.calls).sort(), ["/hero/1", "/hero/2"]);
});

test("variables: a JSON body wins over the query string, which wins over headers", async () => {
  const handler = handlerWith({ mappings, queries: SAVED });
  const json = { "content-type": "application/json" };
  const body = await send(handler, "/run-query/demo/team/1?id=1", post('{"id": 2}', { ...json, id: "1" }));
  assert.equal(body.status, 200);
  assert.deepEqual(paths(body.calls), ["/hero/2", "/sidekick/20"]);

  const query = await send(handler, "/run-query/demo/team/1?id=1", { headers: { id: "2" } });
  assert.deepEqual(paths(query.calls), ["/hero/1", "/sidekick/10"]);

  const header = await send(handler, "/run-query/demo/team/1", { headers: { id: "2" } });
  assert.deepEqual(paths(header.calls), ["/hero/2", "/sidekick/20"]);

  // Only exactly application/json carries variables (restQL ignores `; charset=...`).
  const charset = await send(
    handler,
    "/run-query/demo/team/1?id=1",
    post('{"id": 2}', { "content-type": "application/json; charset=utf-8" }),
  );
  assert.deepEqual(paths(charset.calls), ["/hero/1", "/sidekick/10"]);
});

test("a JSON body keeps its types: a list multiplexes", async () => {
  const handler = handlerWith({ mappings, queries: SAVED });
  const json = { "content-type": "application/json" };
  const r = await send(handler, "/run-query/demo/many/1", post('{"ids": [2, 1]}', json));
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.hero.result.map((h) => h.id), [2, 1]);
});

test("a malformed JSON body is 400", async () => {
  const handler = handlerWith({ mappings, queries: SAVED });
  const json = { "content-type": "application/json" };
  for (const text of ['{"id": ', "[1, 2]"]) {
    const r = await send(handler, "/run-query/demo/hero/1", post(text, json));
    assert.equal(r.status, 400, text);
    assert.match(r.body.error, /^failed to read and unmarshal request body: /);
    assert.equal(r.calls.length, 0);
  }
  // An ad-hoc query sent as application/json is read as variables too, as restQL does.
  const adHoc = await send(handler, "/run-query", post("from hero with id = 1", json));
  assert.equal(adHoc.status, 400);
  assert.match(adHoc.body.error, /^failed to read and unmarshal request body: /);
});

test("client headers reach upstreams only when allowlisted", async () => {
  const secrets = { authorization: "Bearer secret", cookie: "session=abc", "x-trace": "t-1" };
  const closed = handlerWith({ mappings });
  const none = await send(closed, "/run-query", post("from hero with id = 1", secrets));
  assert.equal(none.status, 200);
  assert.equal(none.calls[0].headers.authorization, undefined);
  assert.equal(none.calls[0].headers.cookie, undefined);
  assert.equal(none.calls[0].headers["x-trace"], undefined);

  const open = handlerWith({ mappings, forwardHeaders: ["Authorization", "x-trace"] });
  const some = await send(open, "/run-query", post("from hero with id = 1", secrets));
  assert.equal(some.calls[0].headers.authorization, "Bearer secret");
  assert.equal(some.calls[0].headers["x-trace"], "t-1");
  assert.equal(some.calls[0].headers.cookie, undefined);
});

test("request bodies over maxBodyBytes are refused with 413 before running", async () => {
  const handler = handlerWith({ mappings, queries: SAVED, maxBodyBytes: 40 });
  const query = `from hero with id = 1 ${" ".repeat(40)}`;
  // Streamed without a length: counted while read.
  const streamed = await send(handler, "/run-query", post(query));
  assert.equal(streamed.status, 413);
  assert.match(streamed.body.error, /request body too large/);
  // With a Content-Length: refused without reading.
  const declared = await send(handler, "/run-query", post(query, { "content-length": String(query.length) }));
  assert.equal(declared.status, 413);
  const json = await send(
    handler,
    "/run-query/demo/hero/1",
    post(JSON.stringify({ id: 1, pad: "x".repeat(40) }), { "content-type": "application/json" }),
  );
  assert.equal(json.status, 413);
  assert.equal(streamed.calls.length + declared.calls.length + json.calls.length, 0);

  const small = await send(handler, "/run-query", post("from hero with id = 1"));
  assert.equal(small.status, 200);
});

test("?_debug=true adds each call's details, unless debugging is off", async () => {
  const handler = handlerWith({ mappings });
  const debug = await send(handler, "/run-query?_debug=true", post("from hero with id = 1"));
  assert.equal(debug.body.hero.details.debug.method, "GET");
  assert.equal(debug.body.hero.details.debug.url, `${upstream.url}/hero/1`);

  const quiet = handlerWith({ mappings, allowDebug: false });
  const r = await send(quiet, "/run-query?_debug=true", post("from hero with id = 1"));
  assert.equal(r.body.hero.details.debug, undefined);
});

test("upstreamHeaders restricts the <id>-<header> copies", async () => {
  const handler = handlerWith({ mappings, upstreamHeaders: ["Content-Type"] });
  const r = await send(handler, "/run-query", post("from hero with id = 1"));
  assert.equal(r.response.headers.get("hero-content-type"), "application/json");
  assert.equal(r.response.headers.get("hero-cache-control"), null);
  assert.equal(r.response.headers.get("cache-control"), "max-age=60");
});

test("unknown paths are 404 and wrong methods 405, in JSON", async () => {
  const handler = handlerWith({ mappings, queries: SAVED });
  const missing = await send(handler, "/elsewhere");
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, { error: "not found" });
  const method = await send(handler, "/run-query");
  assert.equal(method.status, 405);
  assert.equal(method.response.headers.get("allow"), "POST");
  const saved = await send(handler, "/run-query/demo/hero/1", { method: "DELETE" });
  assert.equal(saved.status, 405);
  assert.equal(saved.response.headers.get("allow"), "GET, POST");
});

test("an unexpected failure answers 500 in JSON and is reported", async () => {
  const reported = [];
  const handler = handlerWith({
    tenants: { BAD: { hero: "not a url template" } },
    tenant: "BAD",
    onError: (error) => reported.push(error),
  });
  const r = await send(handler, "/run-query", post("from hero with id = 1"));
  assert.equal(r.status, 500);
  assert.deepEqual(r.body, { error: "internal error" });
  assert.equal(reported.length, 1);
});

test("bad options are refused when the handler is made", () => {
  assert.throws(() => createHandler({ mappings, queries: { demo: { q: "from hero" } } }), TypeError);
  assert.throws(() => createHandler({ mappings, forwardHeaders: "authorization" }), TypeError);
  assert.throws(() => createHandler({ tenants: { A: mappings }, tenant: "B" }), TypeError);
  assert.throws(() => createHandler({ mappings, maxBodyBytes: -1 }), TypeError);
});
