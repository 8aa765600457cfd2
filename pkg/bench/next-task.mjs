// How long a callback scheduled after an HTTP answer waits, in Node: a `MessageChannel`
// message (restql-wasm's batch window `task`) received through `onmessage` and through Node's
// `on("message")` listener (what restql-wasm uses where ports have it), `setImmediate`,
// `Atomics.waitAsync` resolved by a notify (a standard way to a later task), and a microtask
// (the batch window `microtask`). Each is
// measured right after a keep-alive request to a local server that answers in 20 ms.
//
//   node pkg/bench/next-task.mjs [--answers 500]
import { Agent, createServer, request } from "node:http";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({ options: { answers: { type: "string", default: "500" } } });
const server = createServer((_, response) => setTimeout(() => response.end("{}"), 20));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const agent = new Agent({ keepAlive: true });
const answered = () =>
  new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port: server.address().port, agent }, (response) => {
      response.resume();
      response.on("end", resolve);
    });
    req.end();
  });

const channel = new MessageChannel();
let onMessage = () => {};
channel.port1.onmessage = () => onMessage(performance.now());
const listened = new MessageChannel();
let onListened = () => {};
listened.port1.on("message", () => onListened(performance.now()));
const cell = new Int32Array(new SharedArrayBuffer(4));
const schedulers = {
  "MessageChannel message, onmessage": (done) => {
    onMessage = done;
    channel.port2.postMessage(0);
  },
  'MessageChannel message, on("message")': (done) => {
    onListened = done;
    listened.port2.postMessage(0);
  },
  setImmediate: (done) => setImmediate(() => done(performance.now())),
  "Atomics.waitAsync, notified": (done) => {
    const waiting = Atomics.waitAsync(cell, 0, 0);
    waiting.value.then(() => done(performance.now()));
    Atomics.notify(cell, 0);
  },
  microtask: (done) => queueMicrotask(() => done(performance.now())),
};
const waits = Object.fromEntries(Object.keys(schedulers).map((name) => [name, []]));
const warmup = 100;
for (let i = 0; i < warmup + Number(opt.answers); i++) {
  for (const [name, schedule] of Object.entries(schedulers)) {
    await answered();
    const posted = performance.now();
    const ran = await new Promise(schedule);
    if (i >= warmup) waits[name].push((ran - posted) * 1000);
  }
}
const at = (xs, q) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)];
console.log(`node ${process.version}, ${opt.answers} answers each`);
console.log("| scheduled after an HTTP answer | p50 | p90 |\n|---|---:|---:|");
for (const [name, xs] of Object.entries(waits)) console.log(`| ${name} | ${at(xs, 0.5).toFixed(1)} µs | ${at(xs, 0.9).toFixed(1)} µs |`);
channel.port1.close();
listened.port1.close();
agent.destroy();
server.close();
