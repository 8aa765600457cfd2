// The plan's batch calls, as a short list under the graph: per batch group (explain's
// `batches`) its endpoint, unique keys and chunks; per statement whose keys come from a chain
// the endpoint it will use, since its keys are known only at run time.

/**
 * Draws the list into `container` (an element).
 * @param plan what `explain` returns; `parsed` what `parse` returns (for `-> no-batch`)
 * @returns the lines drawn, as `{ resource, chunks?, keys?, statement? }`
 */
export function drawBatches(container, plan, parsed, mappings) {
  container.replaceChildren();
  const lines = [];
  for (const group of plan?.batches ?? []) {
    const items = group.keys.reduce((n, k) => n + k.items.length, 0);
    const chunks = group.chunks.length;
    const li = item(
      `${group.resource} via ${group.request}: ${items} items, ${group.keys.length} unique keys, ` +
        `${chunks} call${chunks === 1 ? "" : "s"}`,
    );
    li.dataset.resource = group.resource;
    li.dataset.chunks = String(chunks);
    const list = document.createElement("ul");
    group.chunks.forEach((chunk, i) => {
      const line = item(`chunk ${i}: ${chunk.keys.length} keys `);
      const code = document.createElement("code");
      code.textContent = `${chunk.method} ${chunk.url}`;
      line.append(code);
      list.append(line);
    });
    li.append(list);
    container.append(li);
    lines.push({ resource: group.resource, chunks, keys: group.keys.length });
  }
  // Statements whose keys come from a chain: explain cannot list their chunks.
  const planned = new Set((plan?.batches ?? []).flatMap((g) => g.keys.flatMap((k) => k.items.map((i) => i.replace(/\[\d+\]$/, "")))));
  const parsedById = new Map((parsed?.statements ?? []).map((s) => [s.alias ?? s.resource, s]));
  for (const s of plan?.statements ?? []) {
    const batch = mappings?.[s.resource]?.batch;
    const statement = parsedById.get(s.id);
    if (!batch || planned.has(s.id) || statement?.method !== "from") continue;
    const param = statement.with?.params?.find((p) => p.key === batch.on);
    if (!param?.value?.chain || param.fns?.includes("no-batch")) continue;
    const li = item(`${s.id} via ${batch.request}: keys from ${param.value.chain.join(".")}, chunked at run time (max ${batch.max ?? 100} per call)`);
    li.dataset.resource = s.resource;
    li.dataset.statement = s.id;
    container.append(li);
    lines.push({ resource: s.resource, statement: s.id });
  }
  container.hidden = lines.length === 0;
  return lines;
}

function item(text) {
  const li = document.createElement("li");
  li.textContent = text;
  return li;
}
