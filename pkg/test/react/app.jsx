// Bundled by react.test.mjs with esbuild and loaded in headless Chromium: components using
// useQuery against the services named by `?upstream=`. The test mounts, updates and unmounts
// them through `window.restqlTest`, and reads every state they rendered from its `log`.
import { StrictMode, createElement } from "react";
import { createRoot } from "react-dom/client";
import { flushSync } from "react-dom";
import { init, createClient, RestqlError } from "../../index.js";
import { RestqlProvider, useQuery } from "../../react.js";

const upstream = new URLSearchParams(location.search).get("upstream");
const client = init("/dist/restql_bg.wasm").then(() =>
  createClient({
    mappings: {
      hero: `${upstream}/hero/:id`,
      sidekick: `${upstream}/sidekick/:id`,
      slow: `${upstream}/slow/:id?:ms`,
    },
  }),
);

const HERO_QUERY = `from hero with id = $id
from sidekick with id = hero.sidekickId only name`;

const log = {};
const refetchers = {};

function record(name, state) {
  (log[name] ??= []).push({
    loading: state.loading,
    status: state.status,
    body: state.data,
    stats: state.stats,
    error: state.error && {
      name: state.error.name,
      message: state.error.message,
      isRestqlError: state.error instanceof RestqlError,
      code: state.error.code,
    },
  });
}

/**
 * A hero and its sidekick (or the body of another query). `variables` come as props, so that
 * the test can pass new objects.
 */
function Hero({ name, query = HERO_QUERY, variables, enabled }) {
  const state = useQuery(query, { variables, enabled });
  record(name, state);
  refetchers[name] = state.refetch;
  const { data, loading, error } = state;
  if (error) return <p>error: {error.message}</p>;
  if (!data) return <p>loading…</p>;
  const text = data.hero
    ? `${data.hero.result.name} with ${data.sidekick.result.name}`
    : JSON.stringify(data);
  return <p>{loading ? `${text} (updating)` : text}</p>;
}

const roots = {};
const components = { Hero };

window.restqlTest = {
  log,
  /** Renders `component` with `props` in its own root, synchronously; `strict` adds <StrictMode>. */
  render(name, component, props, strict) {
    if (!roots[name]) {
      const element = document.createElement("div");
      element.id = name;
      document.getElementById("roots").append(element);
      roots[name] = createRoot(element);
    }
    const app = (
      <RestqlProvider client={client}>
        {createElement(components[component], { name, ...props })}
      </RestqlProvider>
    );
    flushSync(() => roots[name].render(strict ? <StrictMode>{app}</StrictMode> : app));
  },
  refetch(name) {
    flushSync(() => refetchers[name]());
  },
  unmount(name) {
    roots[name].unmount();
    delete roots[name];
  },
  text(name) {
    return document.getElementById(name)?.textContent;
  },
};
window.restqlTest.ready = true;
