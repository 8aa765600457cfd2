// Compiled with `tsc --noEmit`: the React bindings' declarations (the @ts-expect-error lines
// must be errors).
import { init, createClient, RestqlError } from "restql-wasm";
import { RestqlProvider, useQuery, type QueryState } from "restql-wasm/react";

const client = init().then(() => createClient({ mappings: { hero: "http://127.0.0.1:1/hero/:id" } }));

interface HeroBody {
  hero: { result: { name: string } };
}

function Hero(props: { id: number }) {
  const { data, error, loading, status, stats, refetch } = useQuery<HeroBody>("from hero with id = $id", {
    variables: { id: props.id },
    headers: { authorization: "token" },
    enabled: props.id > 0,
  });
  if (loading) return <p>loading</p>;
  if (error instanceof RestqlError) return <p>{`${error.code} at ${error.line}:${error.column}`}</p>;
  if (error) return <p>{error.message}</p>;
  const name: string | undefined = data?.hero.result.name;
  const calls: number = stats ? stats.calls : 0;
  return (
    <button onClick={refetch}>
      {name} {status} {calls}
    </button>
  );
}

export function App() {
  return (
    <RestqlProvider client={client}>
      <Hero id={1} />
    </RestqlProvider>
  );
}

export function WithClient(): QueryState {
  const state = useQuery("from hero", { client, skip: true, debug: true });
  // @ts-expect-error variables are an object
  useQuery("from hero", { client, variables: 1 });
  // @ts-expect-error the query is text
  useQuery(42);
  return state;
}
