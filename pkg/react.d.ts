/**
 * restql-wasm/react: `useQuery` and `RestqlProvider`. The client comes from the app, so the
 * same hook works with the web build and with the react-native build.
 * @packageDocumentation
 */
import type { ReactNode, JSX } from "react";
import type { Client, RestqlBody, RestqlError, RunStats } from "./index.js";

/** A client, or the promise `createClient` returns. Create it once, outside render. */
export type ClientSource = Client | Promise<Client>;

/** Supplies a client to every `useQuery` below it. */
export function RestqlProvider(props: { client: ClientSource; children?: ReactNode }): JSX.Element;

/** What `useQuery` accepts besides the query. */
export interface UseQueryOptions {
  /** The client to run with; defaults to the nearest `RestqlProvider`'s. */
  client?: ClientSource;
  /** Values of `$variables`; compared by value, so a new object with the same values does not re-run. */
  variables?: Record<string, unknown>;
  /** Headers forwarded to every upstream call; compared by value. */
  headers?: Record<string, string>;
  /** `false` holds the query (nothing runs, `loading` is false). Default `true`. */
  enabled?: boolean;
  /** `true` holds the query; the opposite of `enabled`. */
  skip?: boolean;
  /** Adds `details.debug` to every statement. */
  debug?: boolean;
}

/** What `useQuery` returns. The last answer stays while a newer run is loading. */
export interface QueryState<TBody = RestqlBody> {
  /** restQL's response body of the last answer. */
  data: TBody | undefined;
  /**
   * A RestqlError when the query does not parse, validate or plan, or failed as a whole at
   * run time (e.g. its deadline, status 408); any other error the client rejected with.
   */
  error: RestqlError | Error | undefined;
  /** True while the answer shown is not the answer for the current inputs. */
  loading: boolean;
  /** The aggregated HTTP status of the last answer. */
  status: number | undefined;
  headers: Record<string, string> | undefined;
  stats: RunStats | undefined;
  /** Runs the query again (the current run, if any, is aborted). */
  refetch: () => void;
}

/**
 * Runs a query and re-runs it when the query text, variables or headers change (by value);
 * aborts the run in flight when superseded or unmounted. Throws when there is no client.
 */
export function useQuery<TBody = RestqlBody>(query: string, options?: UseQueryOptions): QueryState<TBody>;
