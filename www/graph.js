// The plan as a drawn dependency graph (SVG): one column per wave, a node per statement, an
// edge from each statement to the ones that wait for it (chains in parameters and headers,
// depends-on).

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 168;
const NODE_H = 54;
const GAP_X = 64;
const GAP_Y = 18;
const PAD = 16;

/**
 * Draws `plan` (what `explain` returns) into the `<svg>` element.
 * @returns `{ nodes: string[], edges: Array<[from, to]> }`, what was drawn
 */
export function drawGraph(svg, plan) {
  svg.replaceChildren();
  const waves = plan?.waves ?? [];
  const byId = new Map((plan?.statements ?? []).map((s) => [s.id, s]));
  const position = new Map();
  const tallest = Math.max(1, ...waves.map((w) => w.length));
  waves.forEach((ids, wave) => {
    const columnHeight = ids.length * NODE_H + (ids.length - 1) * GAP_Y;
    const top = PAD + ((tallest * NODE_H + (tallest - 1) * GAP_Y) - columnHeight) / 2;
    ids.forEach((id, row) => {
      position.set(id, { x: PAD + wave * (NODE_W + GAP_X), y: top + row * (NODE_H + GAP_Y) });
    });
  });
  const width = PAD * 2 + waves.length * NODE_W + Math.max(0, waves.length - 1) * GAP_X;
  const height = PAD * 2 + 18 + tallest * NODE_H + (tallest - 1) * GAP_Y;
  svg.setAttribute("viewBox", `0 0 ${Math.max(width, 200)} ${height}`);
  svg.setAttribute("width", String(Math.max(width, 200)));
  svg.setAttribute("height", String(height));

  const defs = el("defs");
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  marker.append(el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow-head" }));
  defs.append(marker);
  svg.append(defs);

  waves.forEach((_, wave) => {
    const label = el("text", { x: PAD + wave * (NODE_W + GAP_X) + NODE_W / 2, y: height - 6, class: "wave-label", "text-anchor": "middle" });
    label.textContent = `wave ${wave + 1}`;
    svg.append(label);
  });

  const edges = [];
  for (const s of byId.values()) {
    for (const dep of s.dependsOn ?? []) {
      const from = position.get(dep.target);
      const to = position.get(s.id);
      if (!from || !to) continue;
      const kind = dep.dependsOn ? "depends-on" : dep.header ? "header" : "chain";
      const x1 = from.x + NODE_W;
      const y1 = from.y + NODE_H / 2;
      const x2 = to.x - 2;
      const y2 = to.y + NODE_H / 2;
      const bend = Math.max(24, (x2 - x1) / 2);
      const path = el("path", {
        d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`,
        class: `edge ${kind}`,
        "marker-end": "url(#arrow)",
        "data-from": dep.target,
        "data-to": s.id,
      });
      const title = el("title");
      title.textContent = `${s.id} waits for ${dep.target}${dep.param ? ` (with ${dep.param})` : dep.header ? ` (header ${dep.header})` : " (depends-on)"}`;
      path.append(title);
      svg.append(path);
      const label = el("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, class: "edge-label", "text-anchor": "middle" });
      label.textContent = dep.param ?? dep.header ?? "depends-on";
      svg.append(label);
      edges.push([dep.target, s.id]);
    }
  }

  // The most common timeout is the default; only the others are worth a mention.
  const defaultTimeout = mostCommon([...byId.values()].map((s) => s.timeoutMs));
  const nodes = [];
  for (const [id, { x, y }] of position) {
    const s = byId.get(id);
    const calls = s.calls == null ? null : [s.calls].flat(Infinity).length;
    const classes = ["node"];
    if (s.multiplexed) classes.push("multiplexed");
    if (s.calls == null) classes.push("chained");
    if (s.hidden) classes.push("hidden");
    if (s.ignoreErrors) classes.push("ignore-errors");
    const group = el("g", { class: classes.join(" "), "data-id": id, transform: `translate(${x} ${y})` });
    if (s.multiplexed) group.append(el("rect", { x: 5, y: 5, width: NODE_W, height: NODE_H, rx: 8, class: "stack" }));
    group.append(el("rect", { width: NODE_W, height: NODE_H, rx: 8, class: "box" }));
    const name = el("text", { x: 10, y: 20, class: "node-name" });
    name.textContent = id === s.resource ? id : `${id} (${s.resource})`;
    const detail = el("text", { x: 10, y: 40, class: "node-detail" });
    const what = s.multiplexed ? `×${calls} calls` : calls === 1 ? "1 call" : calls === 0 ? "no call" : "calls when chained";
    const flags = [s.hidden && "hidden", s.ignoreErrors && "ignore-errors", s.timeoutMs !== defaultTimeout && `timeout ${s.timeoutMs} ms`].filter(Boolean);
    detail.textContent = [s.method, what, ...flags].join(" · ");
    const title = el("title");
    title.textContent = `${s.method} ${s.url}`;
    group.append(name, detail, title);
    svg.append(group);
    nodes.push(id);
  }
  return { nodes, edges };
}

function mostCommon(values) {
  const counts = new Map();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}

function el(name, attributes = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}
