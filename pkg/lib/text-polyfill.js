// UTF-8 TextEncoder/TextDecoder for runtimes without them (Hermes). The wasm-bindgen glue
// creates both when it loads, so this module must be evaluated before the glue.
// Functions at top level: Hermes 0.12 has no block scoping. The decoder reads what Rust
// writes (valid UTF-8); other bytes become U+FFFD. No encodeInto: the glue falls back to encode.

function encodeUtf8(text) {
  const s = String(text);
  const out = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

function decodeUtf8(input) {
  const bytes =
    input instanceof Uint8Array
      ? input
      : input && input.buffer
        ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
        : new Uint8Array(input || 0);
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let c = 0xfffd;
    let n = 1;
    if (b < 0x80) c = b;
    else if (b >= 0xc2 && b < 0xe0 && i + 1 < bytes.length) {
      c = ((b & 31) << 6) | (bytes[i + 1] & 63);
      n = 2;
    } else if (b >= 0xe0 && b < 0xf0 && i + 2 < bytes.length) {
      c = ((b & 15) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63);
      n = 3;
    } else if (b >= 0xf0 && b < 0xf5 && i + 3 < bytes.length) {
      c = ((b & 7) << 18) | ((bytes[i + 1] & 63) << 12) | ((bytes[i + 2] & 63) << 6) | (bytes[i + 3] & 63);
      n = 4;
    }
    if (c >= 0x10000) {
      c -= 0x10000;
      out += String.fromCharCode(0xd800 + (c >> 10), 0xdc00 + (c & 1023));
    } else {
      out += String.fromCharCode(c);
    }
    i += n;
  }
  return out;
}

function PolyTextEncoder() {}
PolyTextEncoder.prototype.encode = function (text) {
  return encodeUtf8(text === undefined ? "" : text);
};
Object.defineProperty(PolyTextEncoder.prototype, "encoding", { value: "utf-8" });

function PolyTextDecoder() {}
PolyTextDecoder.prototype.decode = function (input) {
  return input === undefined ? "" : decodeUtf8(input);
};
Object.defineProperty(PolyTextDecoder.prototype, "encoding", { value: "utf-8" });

if (typeof globalThis.TextEncoder === "undefined") globalThis.TextEncoder = PolyTextEncoder;
if (typeof globalThis.TextDecoder === "undefined") globalThis.TextDecoder = PolyTextDecoder;
