import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RestqlProvider } from "restql-wasm/react";
import { client } from "./client.js";
import { App } from "./App.jsx";

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <RestqlProvider client={client}>
      <App />
    </RestqlProvider>
  </StrictMode>,
);
