// createHandler: restQL's HTTP API (run-query, saved queries, validate-query) as a fetch
// handler, `(request: Request) => Promise<Response>`, for Workers, Deno.serve and Node.
// Statuses and bodies follow restQL-golang v6.7.2 (see the README for the few deviations).
// No class syntax: this module is also part of the Hermes build.

import { RUN_TO_TEXT, createClient, parse } from "./api.js";

const JSON_TYPE = "application/json; charset=utf-8";
const DEFAULT_TENANT = "DEFAULT";
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const PARSE_CACHE_SIZE = 100;
const CLIENT_OPTIONS = [
  "fetch",
  "timeoutMs",
  "queryTimeoutMs",
  "maxCalls",
  "maxStatements",
  "maxResponseBytes",
];

/** Binds createHandler to an entry point's `init`, which loads the module on first use. */
export function handlerFactory(init) {
  return function createHandler(options) {
    return makeHandler(init, options ?? {});
  };
}

function makeHandler(init, options) {
  const tenants = tenantsOf(options);
  const defaultTenant = options.tenant ?? (options.mappings ? DEFAULT_TENANT : undefined);
  const queries = freezeQueries(options.queries ?? {});
  const forwardHeaders = lowerCaseList(options.forwardHeaders ?? [], "forwardHeaders");
  const upstreamHeaders = upstreamHeadersRule(options.upstreamHeaders ?? true);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!(Number.isSafeInteger(maxBodyBytes) && maxBodyBytes >= 0)) {
    throw new TypeError("restql-wasm: maxBodyBytes must be a non-negative integer");
  }
  const allowDebug = options.allowDebug ?? true;
  const onError = options.onError ?? ((error) => console.error("restql-wasm handler:", error));
  const clientOptions = {};
  for (const key of CLIENT_OPTIONS) if (options[key] !== undefined) clientOptions[key] = options[key];

  // One client per tenant, made on first use; a failed creation is retried next time.
  const clients = new Map();
  function clientFor(tenant) {
    let pending = clients.get(tenant);
    if (!pending) {
      pending = createClient({ ...clientOptions, mappings: tenants.get(tenant) });
      pending.catch(() => clients.delete(tenant));
      clients.set(tenant, pending);
    }
    return pending;
  }

  // The variables a query text names, for the header lookup: parsed once per text, like
  // restQL's parser cache (most recent texts kept).
  const namesByText = new Map();
  function variableNamesOf(text) {
    let names = namesByText.get(text);
    if (!names) {
      names = variableNames(parse(text));
      if (namesByText.size >= PARSE_CACHE_SIZE) namesByText.delete(namesByText.keys().next().value);
      namesByText.set(text, names);
    }
    return names;
  }

  const context = {
    tenants,
    defaultTenant,
    queries,
    forwardHeaders,
    upstreamHeaders,
    maxBodyBytes,
    allowDebug,
    clientFor,
    variableNamesOf,
  };

  async function handler(request) {
    try {
      await init();
      return await route(request, context);
    } catch (thrown) {
      if (thrown && thrown.httpStatus) return errorResponse(thrown.httpStatus, thrown.body, thrown.headers);
      if (isAbort(thrown, request)) return errorResponse(499, { error: "request aborted" });
      try {
        onError(thrown, request);
      } catch (_) {
        // A failing logger must not leave the request without an answer.
      }
      return errorResponse(500, { error: "internal error" });
    }
  }

  /** Releases the clients; the handler answers 500 afterwards if called again. */
  handler.close = () => {
    for (const pending of clients.values()) pending.then((c) => c.close(), () => {});
    clients.clear();
    context.clientFor = () => Promise.reject(new Error("restql-wasm: this handler was closed"));
  };
  return handler;
}

// --- configuration -------------------------------------------------------------------------

function tenantsOf(options) {
  const tenants = new Map();
  for (const [name, mappings] of Object.entries(options.tenants ?? {})) {
    tenants.set(name, mappings);
  }
  if (options.mappings) {
    const name = options.tenant ?? DEFAULT_TENANT;
    if (tenants.has(name)) {
      throw new TypeError(`restql-wasm: tenant ${name} is given both by \`mappings\` and \`tenants\``);
    }
    tenants.set(name, options.mappings);
  }
  if (options.tenant !== undefined && !tenants.has(options.tenant)) {
    throw new TypeError(`restql-wasm: the default tenant ${options.tenant} has no mappings`);
  }
  return tenants;
}

/** A deep, frozen copy: later changes to the caller's object cannot alter a revision. */
function freezeQueries(queries) {
  const copy = Object.create(null);
  for (const [namespace, names] of Object.entries(queries)) {
    const byName = Object.create(null);
    for (const [name, revisions] of Object.entries(names ?? {})) {
      if (!Array.isArray(revisions) || revisions.some((text) => typeof text !== "string")) {
        throw new TypeError(`restql-wasm: queries.${namespace}.${name} must be a list of query texts`);
      }
      byName[name] = Object.freeze(revisions.slice());
    }
    copy[namespace] = Object.freeze(byName);
  }
  return Object.freeze(copy);
}

function lowerCaseList(list, option) {
  if (!Array.isArray(list) || list.some((name) => typeof name !== "string")) {
    throw new TypeError(`restql-wasm: ${option} must be a list of header names`);
  }
  return new Set(list.map((name) => name.toLowerCase()));
}

function upstreamHeadersRule(rule) {
  if (rule === true || rule === false) return rule;
  return lowerCaseList(rule, "upstreamHeaders");
}

// --- routing -------------------------------------------------------------------------------

async function route(request, context) {
  const url = new URL(request.url);
  const segments = url.pathname.split("/").slice(1);
  if (segments[0] === "run-query" && segments.length === 1) {
    allowMethods(request, ["POST"]);
    return runAdHoc(request, url, context);
  }
  if (segments[0] === "run-query" && segments.length === 4) {
    allowMethods(request, ["GET", "POST"]);
    return runSaved(request, url, segments.slice(1).map(decodeSegment), context);
  }
  if (segments[0] === "validate-query" && segments.length === 1) {
    allowMethods(request, ["POST"]);
    return validate(request, context);
  }
  throw httpError(404, "not found");
}

function allowMethods(request, methods) {
  if (!methods.includes(request.method)) {
    throw httpError(405, `method ${request.method} not allowed`, { allow: methods.join(", ") });
  }
}

function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch (_) {
    throw httpError(404, "not found");
  }
}

async function runAdHoc(request, url, context) {
  const tenant = tenantOf(url, context);
  const text = await readBody(request, context.maxBodyBytes);
  // restQL reads a JSON body as variables whatever the endpoint, so an ad-hoc query sent as
  // application/json fails here or at parsing, as it does there.
  const body = isJson(request) ? jsonVariables(text) : null;
  return run(text, { request, url, tenant, body, saved: false }, context);
}

async function runSaved(request, url, [namespace, name, revisionText], context) {
  if (!/^[+-]?\d+$/.test(revisionText) || !Number.isSafeInteger(Number(revisionText))) {
    throw httpError(400, "invalid revision : must be an integer");
  }
  const tenant = tenantOf(url, context);
  const revision = Number(revisionText);
  if (revision <= 0) throw httpError(422, "validation error: revision must be greater than 0");
  const revisions = context.queries[namespace]?.[name];
  const text = revisions?.[revision - 1];
  if (text === undefined) throw httpError(404, "query not found");
  const body =
    request.method === "POST" && isJson(request)
      ? jsonVariables(await readBody(request, context.maxBodyBytes))
      : null;
  return run(text, { request, url, tenant, body, saved: true }, context);
}

async function validate(request, context) {
  const text = await readBody(request, context.maxBodyBytes);
  try {
    parse(text);
  } catch (error) {
    if (error?.name !== "RestqlError") throw error;
    throw queryError(422, `invalid query: ${restqlMessage(error)}`, error);
  }
  return new Response(null, { status: 200 });
}

/** The query's tenant: `?tenant=`, else the handler's default (restQL requires one). */
function tenantOf(url, context) {
  const name = url.searchParams.get("tenant") || context.defaultTenant;
  if (!name) throw httpError(400, "invalid tenant : no value provided");
  if (!context.tenants.has(name)) throw httpError(404, `mappings not found: tenant ${name}`);
  return name;
}

// --- running -------------------------------------------------------------------------------

async function run(text, { request, url, tenant, body, saved }, context) {
  let names;
  try {
    names = context.variableNamesOf(text);
  } catch (error) {
    if (error?.name !== "RestqlError") throw error;
    throw queryError(statusOf(error, saved), restqlMessage(error), error);
  }
  const client = await context.clientFor(tenant);
  // The client going away aborts the run. The listener is removed once the run is over:
  // some servers (Deno.serve) abort request.signal after every response.
  const aborter = new AbortController();
  const clientGone = () => aborter.abort(request.signal.reason);
  request.signal?.addEventListener("abort", clientGone);
  if (request.signal?.aborted) clientGone();
  let result;
  try {
    // The body goes out as the JSON text the module wrote, without a parse and a stringify.
    result = await client[RUN_TO_TEXT](text, {
      variables: variablesOf(names, request, url, body),
      headers: forwardedHeaders(request, context.forwardHeaders),
      debug: context.allowDebug && url.searchParams.get("_debug") === "true",
      signal: aborter.signal,
    });
  } catch (error) {
    if (error?.name !== "RestqlError") throw error;
    throw queryError(statusOf(error, saved), restqlMessage(error), error);
  } finally {
    request.signal?.removeEventListener("abort", clientGone);
  }
  const headers = new Headers({ "content-type": JSON_TYPE });
  let answer;
  const bodyValue = () => {
    if (answer === undefined) answer = JSON.parse(result.bodyText);
    return answer;
  };
  for (const [name, value] of Object.entries(result.headers)) {
    if (name === "cache-control" || keepsUpstreamHeader(name, bodyValue, context.upstreamHeaders)) {
      headers.set(name, value);
    }
  }
  const payload = result.error ? JSON.stringify({ ...bodyValue(), ...errorFields(result.error) }) : result.bodyText;
  return new Response(payload, { status: result.status, headers });
}

/**
 * Variables, first hit wins (restQL): the JSON body, then the query string (a repeated key
 * gives a list), then request headers named like a variable of the query.
 */
function variablesOf(names, request, url, body) {
  const variables = Object.create(null);
  for (const name of names) {
    const value = headerValue(request.headers, name);
    if (value !== null) variables[name] = value;
  }
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    variables[key] = values.length === 1 ? values[0] : values;
  }
  if (body) for (const [key, value] of Object.entries(body)) variables[key] = value;
  return variables;
}

function variableNames(parsed) {
  const names = new Set();
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== "object") return;
    if (typeof node.var === "string") names.add(node.var);
    Object.values(node).forEach(walk);
  };
  walk(parsed);
  return names;
}

function headerValue(headers, name) {
  try {
    return headers.get(name);
  } catch (_) {
    return null; // `$a.b` is a variable name but not a header name
  }
}

/** Only allowlisted client headers reach upstreams (restQL forwards them all, credentials included). */
function forwardedHeaders(request, allowed) {
  const forwarded = {};
  for (const name of allowed) {
    const value = request.headers.get(name);
    if (value !== null) forwarded[name] = value;
  }
  return forwarded;
}

/** `<id>-<header>` copies of upstream headers, restricted to an allowlist when one is given. */
function keepsUpstreamHeader(name, bodyValue, rule) {
  if (rule === true) return true;
  if (rule === false) return false;
  return Object.keys(bodyValue()).some((id) => {
    const prefix = `${id.toLowerCase()}-`;
    return name.startsWith(prefix) && rule.has(name.slice(prefix.length));
  });
}

// --- request bodies ------------------------------------------------------------------------

/** Variables come from the body only for exactly `application/json`, as in restQL. */
function isJson(request) {
  return request.headers.get("content-type") === "application/json";
}

function jsonVariables(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw httpError(400, `failed to read and unmarshal request body: ${error.message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw httpError(400, "failed to read and unmarshal request body: expected a JSON object");
  }
  return value;
}

/** The body as text, refusing more than `limit` bytes without reading them all. */
async function readBody(request, limit) {
  const tooLarge = () => httpError(413, `request body too large: the limit is ${limit} bytes`);
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

// --- errors --------------------------------------------------------------------------------

/**
 * restQL's status for a query that fails before running. A saved query that does not parse is
 * the server's fault, hence 500 (restQL agrees); the same text sent ad hoc is the client's.
 */
function statusOf(error, saved) {
  switch (error.code) {
    case "unknown-resource":
    case "invalid-mapping":
    case "missing-variable":
      return 500;
    case "invalid-regex":
      // A literal regex is part of the text; one from a variable fails at planning (restQL: 500).
      return error.phase === "plan" || saved ? 500 : 400;
    case "query-timeout":
      return 408;
    default:
      if (error.phase === "plan" && error.code.startsWith("invalid-")) return 500; // bad config
      return saved ? 500 : 400;
  }
}

/** restQL's `error` text: its prefixes, then this implementation's more specific message. */
function restqlMessage(error) {
  if (error.phase === "parse") {
    return `parsing error: invalid query syntax ${error.line}:${error.column} (${error.start}): ${error.message}`;
  }
  switch (error.code) {
    case "unknown-resource":
      return `unknown mappings: ${error.message}`;
    case "missing-variable":
      return `failed to parse match argument : ${error.message}`;
    case "invalid-regex":
      return error.phase === "plan" ? `error parsing regexp: ${error.message}` : `parsing error: ${error.message}`;
    default:
      return error.phase === "validate" ? `parsing error: ${error.message}` : error.message;
  }
}

/** The structured error, added next to restQL's `error` string. */
function errorFields(error) {
  return { code: error.code, phase: error.phase, message: error.message, line: error.line, column: error.column };
}

function httpError(status, message, headers) {
  return { httpStatus: status, body: { error: message }, headers };
}

function queryError(status, message, error) {
  return { httpStatus: status, body: { error: message, ...errorFields(error) } };
}

function errorResponse(status, body, headers) {
  return new Response(JSON.stringify(body), { status, headers: { ...headers, "content-type": JSON_TYPE } });
}

function isAbort(thrown, request) {
  return Boolean(request?.signal?.aborted) || thrown?.name === "AbortError";
}
