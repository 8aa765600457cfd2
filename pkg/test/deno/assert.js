// The few assertions the Deno tests need, without fetching @std/assert from a registry.
export function assertEquals(actual, expected) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`not equal:\n  actual:   ${a}\n  expected: ${e}`);
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
