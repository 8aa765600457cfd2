// Where the card goes in an app: one client for the whole tree, supplied by RestqlProvider.
import { useState } from "react";
import { Button, SafeAreaView } from "react-native";
import { RestqlProvider } from "restql-wasm/react";
import { createHeroClient } from "./heroCardLogic.js";
import { HeroCard } from "./HeroCard.js";

// The services from examples/react (`npm run services` there). From an Android emulator the
// host machine is 10.0.2.2; from a device, use the machine's address on your network.
const client = createHeroClient("http://127.0.0.1:8787");

export default function App() {
  const [id, setId] = useState(1);
  return (
    <RestqlProvider client={client}>
      <SafeAreaView style={{ padding: 24, gap: 12 }}>
        <HeroCard id={id} />
        <Button title="Next hero" onPress={() => setId(id === 1 ? 2 : 1)} />
      </SafeAreaView>
    </RestqlProvider>
  );
}
