// The light editor: a textarea with a line-number gutter and a marker under the problem's
// line and column. The textarea's font is monospace, so a column is a fixed width.

/** Writes one gutter line per text line. */
export function lineNumbers(textarea, gutter) {
  const count = textarea.value.split("\n").length;
  if (gutter.children.length === count) return;
  const lines = [];
  for (let i = 1; i <= count; i++) {
    const line = document.createElement("div");
    line.textContent = String(i);
    lines.push(line);
  }
  gutter.replaceChildren(...lines);
  gutter.scrollTop = textarea.scrollTop;
}

/**
 * Puts the marker under `error`'s line and column (UTF-16, what the textarea counts), or hides
 * it when there is no error.
 */
export function placeMarker(textarea, marker, error) {
  if (!error?.line) {
    marker.hidden = true;
    return;
  }
  const style = getComputedStyle(textarea);
  const lineHeight = parseFloat(style.lineHeight);
  const charWidth = measureChar(style.font);
  const line = textarea.value.split("\n")[error.line - 1] ?? "";
  const column = (error.columnUtf16 ?? error.column) - 1;
  // The error's width: its byte span on one line, at least one character.
  const width = Math.max(1, Math.min(line.length - column, (error.end ?? 0) - (error.start ?? 0)) || 1);
  marker.hidden = false;
  marker.style.top = `${parseFloat(style.paddingTop) + error.line * lineHeight - textarea.scrollTop - 3}px`;
  marker.style.left = `${parseFloat(style.paddingLeft) + column * charWidth - textarea.scrollLeft}px`;
  marker.style.width = `${width * charWidth}px`;
  marker.title = error.message;
}

let measured = { font: "", width: 0 };
function measureChar(font) {
  if (measured.font !== font) {
    const context = document.createElement("canvas").getContext("2d");
    context.font = font;
    measured = { font, width: context.measureText("0".repeat(100)).width / 100 };
  }
  return measured.width;
}
