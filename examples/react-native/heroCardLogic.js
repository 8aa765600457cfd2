// The logic behind HeroCard.js, free of React Native so that it runs (and is tested) in a bare
// Hermes: the client, the query, and what the card shows for each state of useQuery.
// "restql-wasm" resolves to the package's pure-JS build under Metro (the "react-native"
// export condition): Hermes has no WebAssembly.
import { init, createClient, RestqlError } from "restql-wasm";

/** A hero, then its sidekick: the second call waits for the first one's sidekickId. */
export const HERO_QUERY = `
from hero with id = $id
from sidekick with id = hero.sidekickId only name
`;

/**
 * The client, created once for the whole app. `baseUrl` is where the services run;
 * `fetchFn` defaults to the global fetch (React Native has one).
 */
export function createHeroClient(baseUrl, fetchFn) {
  return init().then(() =>
    createClient({
      mappings: {
        hero: baseUrl + "/hero/:id",
        sidekick: baseUrl + "/sidekick/:id",
      },
      fetch: fetchFn,
      timeoutMs: 3000,
    }),
  );
}

/** What the card shows, from `useQuery`'s state: `{ title, subtitle, busy }`. */
export function heroCardModel(state) {
  if (state.error instanceof RestqlError) {
    return { title: "Bad query", subtitle: state.error.message, busy: false };
  }
  if (state.error) return { title: "Could not load", subtitle: state.error.message, busy: false };
  if (!state.data) return { title: "Loading…", subtitle: "", busy: true };
  // Each statement reports its own status: a missing hero is a 404 and its sidekick is skipped.
  const hero = state.data.hero;
  const sidekick = state.data.sidekick;
  return {
    title: hero.details.success ? hero.result.name : "No such hero (status " + hero.details.status + ")",
    subtitle: sidekick.details.success ? "Sidekick: " + sidekick.result.name : "No sidekick",
    busy: state.loading,
  };
}
