import { useState } from "react";
import { RestqlError } from "restql-wasm";
import { useQuery } from "restql-wasm/react";

// Two calls, the second one waiting for the first: restQL chains them.
const HERO_AND_SIDEKICK = `
from hero with id = $id
from sidekick with id = hero.sidekickId only name
`;

export function App() {
  const [id, setId] = useState(1);
  return (
    <main>
      <h1>restql-wasm + React</h1>
      <nav>
        <button onClick={() => setId(1)} disabled={id === 1}>Hero 1</button>{" "}
        <button onClick={() => setId(2)} disabled={id === 2}>Hero 2</button>
      </nav>
      <HeroCard id={id} />
    </main>
  );
}

function HeroCard({ id }) {
  const { data, error, loading, status, stats } = useQuery(HERO_AND_SIDEKICK, { variables: { id } });

  if (error instanceof RestqlError) return <p role="alert">Bad query: {error.message}</p>;
  if (error) return <p role="alert">Failed: {error.message}</p>;
  if (!data) return <p aria-busy="true">Loading…</p>;

  // Each statement reports its own status: a missing hero is a 404 and its sidekick is skipped.
  const { hero, sidekick } = data;
  return (
    <section aria-busy={loading}>
      <h2 id="hero">
        {hero.details.success ? hero.result.name : `No such hero (status ${hero.details.status})`}
      </h2>
      <p id="sidekick">{sidekick.details.success ? `Sidekick: ${sidekick.result.name}` : "No sidekick"}</p>
      <p>
        <small id="stats">
          status {status}, {stats.calls} calls in {Math.round(stats.durationMs)} ms
          {loading ? " (updating…)" : ""}
        </small>
      </p>
    </section>
  );
}
