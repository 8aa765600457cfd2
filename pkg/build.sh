#!/usr/bin/env bash
# Builds pkg/dist from a fresh machine: the wasm32 target, the wasm-bindgen CLI pinned to the
# crate's version, npm's binaryen for wasm-opt (Debian's corrupts wasm-bindgen output), then the
# size-tuned release build with LTO really applied (`cargo rustc --crate-type cdylib`; a
# cdylib+rlib crate type would silently drop it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true

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

cargo rustc --lib --release --locked --target wasm32-unknown-unknown --crate-type cdylib
rm -rf "$here/dist"
wasm-bindgen target/wasm32-unknown-unknown/release/restql.wasm \
  --target web --out-dir "$here/dist" --out-name restql --no-typescript
"$here/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-sign-ext \
  --enable-reference-types --enable-nontrapping-float-to-int --enable-mutable-globals \
  "$here/dist/restql_bg.wasm" -o "$here/dist/restql_bg.wasm"
ls -l "$here/dist"
