// Does the page stay interactive while a query with hundreds of calls runs? Loads the
// playground in headless Chromium, runs the "Hundreds of calls" sample (301 calls) with the
// run in the module worker and then on the page's own thread (`?inline`), and reports the
// longest gap between animation frames and the long tasks (>50 ms) seen from click to answer.
//
//   node www/bench/responsiveness.mjs [RUNS]      (needs pkg/dist: bash pkg/build.sh)
// Chromium as the package tests launch it (playwright-core from pkg/node_modules).
import { launchChromium } from "../../pkg/test/support/chromium.mjs";
import { start } from "../services.mjs";
import { startDemo } from "../server.mjs";
import { SAMPLES } from "../samples.js";

const RUNS = Number(process.argv[2] ?? 5);
const SAMPLE = String(SAMPLES.findIndex((s) => s.name === "Hundreds of calls"));

const services = await start();
const demo = await startDemo({ services, port: 0 });
const browser = await launchChromium();
try {
  for (const mode of ["worker", "inline"]) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${demo.url}/${mode === "inline" ? "?inline" : ""}`);
    await page.waitForFunction(() => document.body.dataset.state === "ready");
    await page.selectOption("#samples", SAMPLE);
    // Every run goes upstream: with the client cache, runs after the first would make no call.
    await page.uncheck("#cache");
    const gaps = [];
    const longTasks = [];
    for (let run = 0; run < RUNS; run++) {
      await page.waitForFunction(() => document.body.dataset.state !== "running");
      await page.evaluate(() => {
        window.measure = { gaps: [], longTasks: [], stop: false };
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) window.measure.longTasks.push(entry.duration);
        }).observe({ type: "longtask" });
        let last = null;
        const tick = (now) => {
          if (last !== null) window.measure.gaps.push(now - last);
          last = now;
          if (!window.measure.stop) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
      await page.click("#run");
      await page.waitForFunction(() => document.body.dataset.state === "done", null, { timeout: 30_000 });
      const m = await page.evaluate(() => {
        window.measure.stop = true;
        return window.measure;
      });
      gaps.push(Math.max(...m.gaps));
      longTasks.push(m.longTasks.reduce((a, b) => a + b, 0));
    }
    const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `${mode.padEnd(6)} longest frame gap: median ${median(gaps).toFixed(0)} ms, max ${Math.max(...gaps).toFixed(0)} ms; ` +
        `long tasks per run: median ${median(longTasks).toFixed(0)} ms (${RUNS} runs of 301 calls)`,
    );
    await page.close();
  }
} finally {
  await browser.close();
  await demo.close();
  await services.close();
}
