// Runs inside Hermes (bundled by esbuild with the "react-native" condition, as Metro does):
// the logic of examples/react-native, with a fetch that answers like the example's services.
import { HERO_QUERY, createHeroClient, heroCardModel } from "../../../examples/react-native/heroCardLogic.js";

const HEROES = {
  1: { id: 1, name: "Batman", sidekickId: 10 },
  2: { id: 2, name: "Wonder Woman", sidekickId: 20 },
};
const SIDEKICKS = { 10: { id: 10, name: "Robin" }, 20: { id: 20, name: "Etta" } };

const requests = [];
function servicesFetch(url, init) {
  requests.push(init.method + " " + url);
  const parts = url.split("/");
  const table = parts[parts.length - 2] === "hero" ? HEROES : SIDEKICKS;
  const found = table[parts[parts.length - 1]];
  const bytes = new TextEncoder().encode(JSON.stringify(found || { error: "not found" }));
  return Promise.resolve({
    status: found ? 200 : 404,
    headers: [["content-type", "application/json"]],
    arrayBuffer: () => Promise.resolve(bytes.buffer),
  });
}

const report = {
  hasWebAssembly: typeof WebAssembly !== "undefined",
  hasURL: typeof URL !== "undefined",
  cards: {},
  loadingCard: heroCardModel({ loading: true }),
};
createHeroClient("http://services.test", servicesFetch)
  .then((client) => {
    const show = (name, query, variables) =>
      client.run(query, { variables: variables }).then(
        (r) => {
          const state = { data: r.body, status: r.status, error: r.error, loading: false };
          report.cards[name] = heroCardModel(state);
        },
        (error) => {
          report.cards[name] = heroCardModel({ error: error, loading: false });
        },
      );
    return show("batman", HERO_QUERY, { id: 1 })
      .then(() => show("wonderWoman", HERO_QUERY, { id: 2 }))
      .then(() => show("missing", HERO_QUERY, { id: 3 }))
      .then(() => show("bad", "from hero with id = ,", {}));
  })
  .catch((e) => {
    report.failure = String(e && e.stack ? e.stack : e);
  })
  .then(() => {
    report.requests = requests;
    print(JSON.stringify(report));
  });
