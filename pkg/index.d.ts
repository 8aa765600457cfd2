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
