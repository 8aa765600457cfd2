// React bindings. This file imports only React: the client comes from the app (props or
// context), so the same hook works with the web build and with the pure-JS react-native build.
// No class syntax: Hermes 0.12 has none.
import { createContext, createElement, useCallback, useContext, useEffect, useState } from "react";

const ClientContext = createContext(null);

/** Supplies a client (or a promise of one) to every `useQuery` below it. */
export function RestqlProvider(props) {
  return createElement(ClientContext.Provider, { value: props.client }, props.children);
}

/**
 * Runs `query` and re-runs it when the query text, the variables or the headers change (by
 * value), when the client changes, or on `refetch()`. A superseded or unmounted run is aborted
 * and its answer ignored. While a run is in flight the last answer stays visible.
 */
export function useQuery(query, options = {}) {
  const fromContext = useContext(ClientContext);
  const client = options.client ?? fromContext;
  if (!client) {
    throw new Error("restql-wasm/react: no client: pass `client` or render inside <RestqlProvider>");
  }
  const enabled = options.enabled !== false && !options.skip;
  const variablesKey = stableKey(options.variables);
  const headersKey = stableKey(options.headers);
  const debug = Boolean(options.debug);
  const [attempt, setAttempt] = useState(0);
  // The inputs of the run that settled last: loading is "the answer shown is not for these
  // inputs", known during render, so no frame shows an old answer as current.
  const runKey = JSON.stringify([query, variablesKey, headersKey, debug, attempt]);
  const [state, setState] = useState({ key: null, client: null, result: undefined, error: undefined });

  useEffect(() => {
    if (!enabled) return undefined;
    // React Native provides AbortController; a bare engine may not. Without it runs still
    // settle, their answers are just ignored.
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    let current = true;
    const settle = (result, error) => {
      if (current) setState({ key: runKey, client, result, error });
    };
    Promise.resolve(client)
      .then((c) =>
        c.run(query, {
          variables: options.variables,
          headers: options.headers,
          debug,
          signal: controller ? controller.signal : undefined,
        }),
      )
      .then(
        (result) => settle(result, result.error),
        (error) => settle(undefined, error),
      );
    return () => {
      current = false;
      if (controller) controller.abort();
    };
    // Variables and headers are compared by value, through runKey.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, runKey, enabled]);

  const refetch = useCallback(() => setAttempt((n) => n + 1), []);
  const result = state.result;
  return {
    data: result ? result.body : undefined,
    error: state.error,
    loading: enabled && (state.key !== runKey || state.client !== client),
    status: result ? result.status : undefined,
    headers: result ? result.headers : undefined,
    stats: result ? result.stats : undefined,
    refetch,
  };
}

/** JSON with object keys sorted, so that `{a, b}` and `{b, a}` give the same key. */
function stableKey(value) {
  if (value === undefined) return "";
  return JSON.stringify(value, (_, v) => {
    if (!v || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted = Object.create(null);
    Object.keys(v)
      .sort()
      .forEach((k) => {
        sorted[k] = v[k];
      });
    return sorted;
  });
}
