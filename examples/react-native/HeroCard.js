// A React Native card showing a hero and its sidekick. The logic lives in heroCardLogic.js.
import { ActivityIndicator, StyleSheet, Text, View } from "react-native";
import { useQuery } from "restql-wasm/react";
import { HERO_QUERY, heroCardModel } from "./heroCardLogic.js";

export function HeroCard({ id }) {
  const state = useQuery(HERO_QUERY, { variables: { id } });
  const card = heroCardModel(state);
  return (
    <View style={styles.card}>
      <Text style={styles.title}>{card.title}</Text>
      {card.subtitle ? <Text>{card.subtitle}</Text> : null}
      {card.busy ? <ActivityIndicator /> : null}
    </View>
  );
}

const styles = StyleSheet.create({
  card: { padding: 16, borderRadius: 8, backgroundColor: "#f4f4f5", gap: 4 },
  title: { fontSize: 18, fontWeight: "600" },
});
