/**
 * restql-wasm: a restQL query orchestrator compiled to WebAssembly.
 * @packageDocumentation
 */

/** What `init` accepts: a URL or path, the module's bytes, a fetch Response, or a compiled module. */
export type InitInput =
  | string
  | URL
  | Request
  | Response
  | BufferSource
  | WebAssembly.Module
  | Promise<Response>;

/**
 * Loads the WebAssembly module. Call once before anything else; later calls return the first
 * call's promise.
 * @param input where the module comes from; by default the file bundled with the package.
 */
export function init(input?: InitInput): Promise<void>;

/** The pipeline stage that reported an error. */
export type Phase = "parse" | "validate" | "plan" | "execute";

/** Stable error codes. Messages may improve between versions; codes do not change. */
export type ErrorCode =
  | "syntax"
  | "invalid-literal"
  | "invalid-regex"
  | "too-large"
  | "too-deep"
  | "unknown-chain-target"
  | "unknown-depends-on-target"
  | "duplicate-identifier"
  | "dependency-cycle"
  | (string & {});

/** One problem in a query, with its position. */
export interface ErrorDetail {
  /** Stable code, e.g. `"syntax"`. */
  code: ErrorCode;
  /** The stage that found it. */
  phase: Phase;
  /** One line, e.g. `expected a value after '=', found ','`. */
  message: string;
  /** 1-based line. */
  line: number;
  /** 1-based column, in Unicode code points. */
  column: number;
  /** 1-based column in UTF-16 code units: what editors such as Monaco and CodeMirror count. */
  columnUtf16: number;
  /** Byte offset where the problem starts in the UTF-8 query text. */
  start: number;
  /** Byte offset where it ends. */
  end: number;
  /** What would have been accepted there. */
  expected: string[];
  /** What was there instead, e.g. `"','"` or `"end of input"`. */
  found?: string;
  /** The source line with a caret under the problem. */
  snippet: string;
}

/** Thrown by every restql function for a bad query; carries the first problem's details. */
export class RestqlError extends Error {
  name: "RestqlError";
}
export interface RestqlError extends ErrorDetail {
  /** Every problem found (validation reports them all), the first one included. */
  errors: ErrorDetail[];
}

/** A value in the canonical JSON form of a query. */
export type QueryValue =
  | { str: string }
  | { int: number }
  | { float: number }
  | { bool: boolean }
  | { null: true }
  | { var: string }
  | { chain: Array<string | { var: string }> }
  | { list: QueryValue[] }
  | { object: Array<[string, QueryValue]> };

/** A function applied to a `with` parameter. */
export type ParamFunction =
  | "no-multiplex"
  | "no-explode"
  | "base64"
  | "json"
  | "as-body"
  | "as-query"
  | "flatten";

/** An `only` filter function. */
export type FilterFunction =
  | { matches: { str: string } | { var: string } }
  | {
      filterByRegex: {
        path: { str: string } | { var: string };
        regex: { str: string } | { var: string };
      };
    };

/** One statement in canonical JSON form. */
export interface ParsedStatement {
  method: "from" | "to" | "into" | "update" | "delete";
  resource: string;
  alias?: string;
  /** `in target.path`: the target statement, then the path. */
  in?: string[];
  headers?: Array<{ name: string; value: QueryValue }>;
  timeout?: QueryValue;
  max_age?: QueryValue;
  s_max_age?: QueryValue;
  depends_on?: string;
  with?: {
    body: { var: string; fns: ParamFunction[] } | null;
    params: Array<{ key: string; value: QueryValue; fns: ParamFunction[] }>;
  };
  only?: Array<{ path: string[]; fns: FilterFunction[] }>;
  hidden?: true;
  ignore_errors?: true;
}

/** A whole query in canonical JSON form. */
export interface ParsedQuery {
  use?: Array<{ key: "timeout" | "max-age" | "s-max-age"; value: QueryValue }>;
  statements: ParsedStatement[];
}

/**
 * Parses and validates a query.
 * @returns its canonical JSON form.
 * @throws {RestqlError} with the position of every problem.
 */
export function parse(text: string): ParsedQuery;

/**
 * A resource's endpoint that takes many keys at once: the query stays the same, its calls
 * collapse into `ceil(unique keys / max)` calls and the answer is split back per item.
 * Malformed fields make `createClient` reject with the resource and field named.
 */
export interface BatchMapping {
  /** The `with` parameter batched; a placeholder of the mapping's `url`. */
  on: string;
  /** `GET URL` or `POST URL` of the batch endpoint; its `:path` placeholders take other `with` values. */
  request: string;
  /** Query string templates: `"$keys -> repeat"` (or `csv`, `brackets`, `pipes`, `spaces`, `in`, `json`), `"$name"`, or literal text. */
  query?: Record<string, string>;
  /** JSON body templates, for a POST endpoint. */
  body?: Record<string, string>;
  /** Keys per call (default 100). */
  max?: number;
  /** Longest URL in bytes (default 4096); keys are packed greedily. */
  "max-url"?: number;
  /** Where the items are in the answer: `$`, `$.data`, `$.entry[*].resource` (default `$`). */
  items?: string;
  /** The path in each item equal to its key, or `@key` when `items` is an object keyed by id (default `id`). */
  key?: string;
  /** A key absent from the answer: `null` (result null, status 404; the default) or `error`. */
  missing?: "null" | "error" | null;
  /** A path whose presence marks an item failed. */
  "item-error"?: string;
  /** Required `true` for a POST endpoint that only reads. */
  safe?: boolean;
  /**
   * How long a client collects keys across queries: `"task"` (the end of the current task; the
   * default), `"microtask"` (once the promise reactions already queued have run), a number of
   * milliseconds (or `"10ms"`), or `"off"`.
   */
  window?: "task" | "microtask" | "off" | number | `${number}ms`;
}

/** A mapping's object form: its URL template and, optionally, its batch endpoint. */
export interface MappingObject {
  url: string;
  batch?: BatchMapping;
  [field: string]: unknown;
}

/**
 * Per resource, a URL template (`http://host/path/:id?:q&:page`: path and query placeholders)
 * or the object form with a batch endpoint.
 */
export type Mappings = Record<string, string | MappingObject>;

/** What `createClient` accepts. */
export interface ClientOptions {
  /** Resource name -> URL template. Malformed templates make `createClient` reject. */
  mappings: Mappings;
  /**
   * Sends every upstream request; defaults to `globalThis.fetch`. Pass a Workers service
   * binding's fetch, a test double or a fetch with a custom agent here.
   */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Per-statement timeout when a statement has no `timeout` clause, in ms (default 5000). */
  timeoutMs?: number;
  /** Whole-query deadline when the query has no `use timeout`, in ms (default 30000). */
  queryTimeoutMs?: number;
  /** Most upstream calls one query may make after multiplexing (default 1000). */
  maxCalls?: number;
  /** Most statements one query may have (default 100). */
  maxStatements?: number;
  /** Most bytes read from one upstream answer (default 8 MiB); a longer one fails with 502. */
  maxResponseBytes?: number;
  /**
   * Keep upstream answers as their `Cache-Control` allows (`max-age`; never `no-store`,
   * `no-cache` or errors), per request and per batched item, shared by the client's runs.
   * Off by default; `true` takes the defaults.
   */
  cache?: boolean | CacheOptions;
}

/** Bounds and kind of the client cache. */
export interface CacheOptions {
  /** Most answers kept; the least recently used goes first (default 1000). */
  maxEntries?: number;
  /** Most body bytes kept (default 8 MiB). */
  maxBytes?: number;
  /**
   * A shared cache (an edge serving many users): `private` answers are not kept and
   * `s-maxage` counts. Default false (a browser's own cache).
   */
  shared?: boolean;
}

/** One call a statement item made, or was served without making: a waterfall row. */
export interface CallTrace {
  /** The statement's identifier. */
  statement: string;
  /** The item's index in multiplex order (0 for a single call). */
  item: number;
  method: string;
  /** The item's own URL. */
  url: string;
  /** `METHOD URL` of the batch call that served the item, when one did. */
  batch?: string;
  /** Milliseconds from the run's start. */
  startMs: number;
  endMs: number;
  status: number;
  /** How the item was served: its own call, another item's call, a call another run had on the wire, a batch call, or the cache. */
  served: "sent" | "deduped" | "joined" | "batched" | "cached";
  /** Which batch call of the run, when batched. */
  chunk?: number;
  failure?: "timeout" | "failed";
}

/** What `run` accepts besides the query. */
export interface RunOptions {
  /** Values of `$variables`. */
  variables?: Record<string, unknown>;
  /** Headers forwarded to every upstream call (restQL forwards the client's headers). */
  headers?: Record<string, string>;
  /** Aborts the run: calls in flight are aborted and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Adds `details.debug` (URL, headers, timings) to every statement. */
  debug?: boolean;
  /** Adds `trace` to the result: every call with its times and how it was served. Off by default: for a large fan-out it costs about as much as the body. */
  trace?: boolean;
}

/** One statement's details in restQL's response. */
export interface StatementDetails {
  status: number;
  success: boolean;
  metadata: { "ignore-errors"?: "ignore" };
  debug?: Record<string, unknown>;
}

/** restQL's response body: one entry per visible statement (arrays when multiplexed). */
export type RestqlBody = Record<
  string,
  { details: StatementDetails | StatementDetails[] | unknown[]; result?: unknown }
> & { error?: string };

/** What one run did. */
export interface RunStats {
  /** Upstream calls sent. */
  calls: number;
  /** Calls not sent because an identical one was in flight or done (in this run or another of the client's). */
  deduped: number;
  /** Items served by batch calls. */
  batched: number;
  /** Calls answered from the cache. */
  cacheHits: number;
  durationMs: number;
}

/** The answer to a query. */
export interface RunResult {
  /** The aggregated HTTP status: the highest of the statements' (restQL's rule). */
  status: number;
  /** At least `cache-control` when one applies (the smallest max-age; none on errors). */
  headers: Record<string, string>;
  body: RestqlBody;
  stats: RunStats;
  /** With `trace: true`: every call the run's statements made, with its times and how it was served. */
  trace?: CallTrace[];
  /** Set when the whole query failed at run time (e.g. its deadline passed, status 408). */
  error?: RestqlError;
}

/** A client bound to mappings and a fetch function. */
export interface Client {
  /**
   * Runs a query. Rejects with a RestqlError when the query does not parse, validate or plan
   * (before any call), and with the signal's reason when aborted; otherwise resolves, whatever
   * the upstream statuses.
   */
  run(query: string, options?: RunOptions): Promise<RunResult>;
  /** Releases the client; later runs reject. */
  close(): void;
}

/** Creates a client. Call `init()` first. */
export function createClient(options: ClientOptions): Promise<Client>;

/** The plan of a query, as data. */
export interface ExplainResult {
  /** The indented text form (what `restql explain --format text` prints). */
  text: string;
  [key: string]: unknown;
}

/**
 * Plans a query without running it: waves, calls, multiplexing, dedupe.
 * @throws {RestqlError} for a query that does not parse, validate or plan.
 */
export function explain(
  text: string,
  options: { mappings: Mappings; variables?: Record<string, unknown> },
): ExplainResult;

/** Saved queries: per namespace and name, the revisions' texts (revision N is the N-th). */
export type SavedQueries = Record<string, Record<string, readonly string[]>>;

/** What `createHandler` accepts. */
export interface HandlerOptions {
  /**
   * The mappings of the default tenant (named by `tenant`, else `"DEFAULT"`): served when a
   * request names no tenant and when it names this one.
   */
  mappings?: Mappings;
  /** Mappings per tenant name, chosen by `?tenant=NAME`; an unknown name answers 404. */
  tenants?: Record<string, Mappings>;
  /**
   * The tenant used when a request has no `?tenant=`. Without it (and without `mappings`),
   * such a request answers 400 as restQL does.
   */
  tenant?: string;
  /**
   * Saved queries for `GET|POST /run-query/:namespace/:name/:revision`. Copied and frozen
   * when the handler is made: revisions never change afterwards.
   */
  queries?: SavedQueries;
  /**
   * Client request headers sent on to every upstream call, by name (case-insensitive).
   * Default: none. restQL forwards every header, `Authorization` and `Cookie` included.
   */
  forwardHeaders?: string[];
  /**
   * Which upstream response headers are copied into the response as `<id>-<header>` (restQL's
   * copies for successful, non-multiplexed statements): `true` (default, all, as restQL),
   * `false` (none) or a list of header names.
   */
  upstreamHeaders?: boolean | string[];
  /** Largest request body read, in bytes (default 1 MiB); a larger one answers 413. */
  maxBodyBytes?: number;
  /** Whether `?_debug=true` adds each call's details (URL, headers, timings); default true. */
  allowDebug?: boolean;
  /** Told about unexpected failures, which answer 500 `{"error":"internal error"}`; default console.error. */
  onError?: (error: unknown, request: Request) => void;
  /** Sends every upstream request; see {@link ClientOptions.fetch}. */
  fetch?: ClientOptions["fetch"];
  /** Per-statement timeout in ms; see {@link ClientOptions.timeoutMs}. */
  timeoutMs?: number;
  /** Whole-query deadline in ms; see {@link ClientOptions.queryTimeoutMs}. */
  queryTimeoutMs?: number;
  /** Most upstream calls per query; see {@link ClientOptions.maxCalls}. */
  maxCalls?: number;
  /** Most statements per query; see {@link ClientOptions.maxStatements}. */
  maxStatements?: number;
  /** Most bytes read from one upstream answer; see {@link ClientOptions.maxResponseBytes}. */
  maxResponseBytes?: number;
}

/** A fetch handler serving restQL's HTTP API. It always resolves, to a JSON response on errors. */
export interface Handler {
  (request: Request): Promise<Response>;
  /** Releases the tenants' clients. */
  close(): void;
}

/**
 * restQL's HTTP API as a fetch handler, for `export default { fetch: handler }` in a Worker,
 * `Deno.serve(handler)` or Node: `POST /run-query`, `GET|POST /run-query/:namespace/:name/:revision`
 * and `POST /validate-query`, with restQL's statuses, `Cache-Control` and bodies. Loads the
 * module on first use (no `init()` needed).
 * @throws {TypeError} for malformed options.
 */
export function createHandler(options: HandlerOptions): Handler;
