// What work costs in Node right after the process has waited, as a query's process waits for
// each upstream answer: the same three pieces of work run after no wait (the next
// `setImmediate`), after 2 ms and after 20 ms of sleep, medians of microseconds.
//
// - a loop of arithmetic that touches no memory (its instructions alone);
// - reading one field of 2,500 objects laid out over about 160 KB (memory touched, little
//   computing);
// - `JSON.parse` of a 726-byte text shaped like restql's answer to (a);
// - the runtime's own small operations a hop makes: a timer set and cleared, a microtask
//   queued, the clock read.
//
// When the first stays the same and the others grow with the wait, what a piece of work costs
// after an idle wait is the memory (data and code) it touches again, not its instructions.
//
//   node pkg/bench/after-idle.mjs [--rounds 400]
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({ options: { rounds: { type: "string", default: "400" } } });
const rounds = Number(opt.rounds);

function arithmetic() {
  let x = 1;
  for (let i = 0; i < 20000; i++) x = (x * 1103515245 + 12345) | 0;
  return x;
}
const objects = Array.from({ length: 20000 }, (_, i) => ({ a: i, b: String(i) }));
function readObjects() {
  let sum = 0;
  for (let i = 0; i < objects.length; i += 8) sum += objects[i].a;
  return sum;
}
const part = (result) => ({ details: 200, result });
const answer = JSON.stringify({
  status: 200,
  headers: { "cart-content-type": "application/json", "customer-content-type": "application/json" },
  body: {
    cart: part({ id: "C42", customerId: "42", items: [1, 2, 3].map((q) => ({ productId: `112${q}`, qty: q })) }),
    customer: part({ id: "42", name: "Customer 42", zip: "10294", cartId: "C42" }),
    price: part({ id: "P1001", amount: 237, currency: "BRL" }),
    product: part({ id: "1001", name: "Product 1001", priceId: "P1001", categoryId: 15 }),
  },
  stats: { calls: 4, deduped: 0, batched: 3, cacheHits: 0, durationMs: 14 },
  error: null,
}).padEnd(726);
const noop = () => {};
const work = {
  arithmetic,
  "reading 2,500 objects": readObjects,
  "JSON.parse, 726 B": () => JSON.parse(answer),
  "setTimeout, then clearTimeout": () => clearTimeout(setTimeout(noop, 5000)),
  queueMicrotask: () => queueMicrotask(noop),
  "Date.now()": () => Date.now(),
};

// Every piece hot before the first measure.
for (let i = 0; i < 2000; i++) for (const f of Object.values(work)) f();

const sleep = (ms) => new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
console.log(`node ${process.version}, ${rounds} rounds a wait, medians\n`);
console.log(`| work | no wait | after 2 ms | after 20 ms |\n|---|---:|---:|---:|`);
const rows = Object.keys(work).map(() => []);
for (const wait of [0, 2, 20]) {
  const times = Object.keys(work).map(() => []);
  for (let r = 0; r < rounds; r++) {
    await sleep(wait);
    // One piece a round, in turn, so that each runs first after its wait.
    const k = r % times.length;
    const f = Object.values(work)[k];
    const start = performance.now();
    f();
    times[k].push((performance.now() - start) * 1000);
  }
  times.forEach((t, k) => rows[k].push(median(t)));
}
Object.keys(work).forEach((name, k) => console.log(`| ${name} | ${rows[k].map((us) => `${us.toFixed(1)} µs`).join(" | ")} |`));
