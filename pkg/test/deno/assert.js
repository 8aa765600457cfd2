// The few assertions the Deno tests need, without fetching @std/assert from a registry.
/** Deep equality of JSON-like values; object keys in any order (JSON objects are unordered). */
export function assertEquals(actual, expected) {
  const a = JSON.stringify(canonical(actual));
  const e = JSON.stringify(canonical(expected));
  if (a !== e) throw new Error(`not equal:\n  actual:   ${a}\n  expected: ${e}`);
}

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
  }
  return value;
}

export function assertInstanceOf(value, type) {
  if (!(value instanceof type)) throw new Error(`expected an instance of ${type.name}, got ${value}`);
}

export function assertThrows(fn) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the function to throw");
}
