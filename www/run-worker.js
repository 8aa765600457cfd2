// The playground's module worker: queries run here, off the page's thread, so that a run with
// hundreds of calls never blocks typing, scrolling or the cancel button.
import { createRunner } from "./runner.js";

const runner = createRunner();

self.onmessage = async ({ data }) => {
  if (data.type === "cancel") return runner.cancel(data.id);
  const reply = data.type === "run-saved" ? await runner.runSaved(data) : await runner.run(data);
  self.postMessage(reply);
};
