#!/usr/bin/env bash
# Builds pkg/dist from a fresh machine: the wasm32 target, the wasm-bindgen CLI pinned to the
# crate's version, npm's binaryen for wasm-opt (Debian's corrupts wasm-bindgen output), then the
# release builds with LTO really applied (`cargo rustc --crate-type cdylib`; a cdylib+rlib crate
# type would silently drop it): size-tuned for browsers, speed-tuned for servers, and the
# pure-JS one for React Native.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
# The standard library is rebuilt with the immediate-abort panic strategy: panics become a bare
# trap (as `panic = "abort"` already made them), without the message formatting, locations and
# the `core::fmt` machinery they pull in (13 KB brotli), and with the library's
# `optimize_for_size` feature (small sorts and string searches: 6 KB brotli). That needs the
# library's source and the unstable `-Zbuild-std`, enabled on the stable compiler through
# RUSTC_BOOTSTRAP.
rustup component add rust-src >/dev/null 2>&1 || true
std_flags=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size)
abort_flags="-Zunstable-options -Cpanic=immediate-abort"
export RUSTC_BOOTSTRAP=1

want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" || true
if [ "$have" != "$want" ]; then
  echo "installing wasm-bindgen-cli $want"
  cargo install wasm-bindgen-cli --version "$want" --force
fi

# Install again whenever the lockfile changed since the last install. (`npm ci` refuses this
# lockfile: it lacks entries for other platforms' optional deno binaries.)
if ! cmp -s "$here/package-lock.json" "$here/node_modules/.installed-lock.json"; then
  (cd "$here" && npm install --no-audit --no-fund --loglevel=error)
  cp "$here/package-lock.json" "$here/node_modules/.installed-lock.json"
fi

RUSTFLAGS="$abort_flags" cargo rustc --lib --release --locked --target wasm32-unknown-unknown \
  --crate-type cdylib --target-dir target/pkg "${std_flags[@]}"
rm -rf "$here/dist"
wasm-bindgen target/pkg/wasm32-unknown-unknown/release/restql.wasm \
  --target web --out-dir "$here/dist" --out-name restql --no-typescript
"$here/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-sign-ext \
  --enable-reference-types --enable-nontrapping-float-to-int --enable-mutable-globals \
  "$here/dist/restql_bg.wasm" -o "$here/dist/restql_bg.wasm"
ls -l "$here/dist"

# The server build (Node, Deno, Workers: `node.js`, `server.js`, `workerd.js`), tuned for
# speed: where the module is not downloaded by every visitor, 1.7 to 2 times less CPU per
# query is worth a larger module. Its own glue, as the glue names the module's exports.
# opt-level 2, not 3: 42 KB smaller (9 KB brotli) at the same speed in paired runs over
# HTTP and in memory (BENCHMARKS.md, "The server build at opt-level 2").
server="$here/dist/server"
RUSTFLAGS="$abort_flags" CARGO_PROFILE_RELEASE_OPT_LEVEL=2 \
  cargo rustc --lib --release --locked --target wasm32-unknown-unknown \
  --crate-type cdylib --target-dir target/pkg-server -Zbuild-std=std,panic_abort
wasm-bindgen target/pkg-server/wasm32-unknown-unknown/release/restql.wasm \
  --target web --out-dir "$server" --out-name restql --no-typescript
"$here/node_modules/.bin/wasm-opt" -O3 --enable-bulk-memory --enable-sign-ext \
  --enable-reference-types --enable-nontrapping-float-to-int --enable-mutable-globals \
  "$server/restql_bg.wasm" -o "$server/restql_bg.wasm"
ls -l "$server"

# The pure-JS build for React Native / Hermes. wasm2js takes one function table only, so no
# externref: an MVP target CPU, and the target_features section stripped so that wasm-bindgen
# falls back to its JS heap ABI.
RUSTFLAGS="-Ctarget-cpu=mvp $abort_flags" CARGO_PROFILE_RELEASE_STRIP=true \
  cargo rustc --lib --release --locked --target wasm32-unknown-unknown --crate-type cdylib \
  --target-dir target/mvp "${std_flags[@]}"
rn="$here/dist/rn"
wasm-bindgen target/mvp/wasm32-unknown-unknown/release/restql.wasm \
  --target bundler --out-dir "$rn" --out-name restql --no-typescript
"$here/node_modules/.bin/wasm2js" -Oz --enable-bulk-memory --enable-sign-ext \
  --enable-nontrapping-float-to-int --enable-mutable-globals \
  "$rn/restql_bg.wasm" -o "$rn/restql_bg.wasm.js"
rm "$rn/restql_bg.wasm"
sed -i 's#"./restql_bg.wasm"#"./restql_bg.wasm.js"#' "$rn/restql.js" "$rn/restql_bg.js"
# wasm2js replaces the memory's ArrayBuffer when it grows without detaching the old one; the
# glue only refreshes its cached views when the old one reads as detached.
sed -i -E 's/(cached[A-Za-z0-9]+Memory0)\.byteLength === 0/\1.buffer !== wasm.memory.buffer/g' "$rn/restql_bg.js"
ls -l "$rn"
