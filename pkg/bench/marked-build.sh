#!/usr/bin/env bash
# Builds a copy of the package whose server module also times its own steps: the `step-marks`
# feature makes the module call `globalThis.__restqlStep(label)` at the run's task, its plan,
# the executor's waits and wakes, a batch flush, the run's end, its shaping and its answer
# written (labels `m:...`). `steps.mjs --package DIR` then lists them among the JS steps.
#
#   bash pkg/bench/marked-build.sh DIR     # after `bash pkg/build.sh`, which installs the tools
#
# Only for measuring: the marks cost about a microsecond each, and the module throws where no
# `__restqlStep` is defined.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: bash pkg/bench/marked-build.sh DIR" >&2; exit 2; }
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$here")"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
cd "$root"

export RUSTC_BOOTSTRAP=1
RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" CARGO_PROFILE_RELEASE_OPT_LEVEL=2 \
  cargo rustc --lib --release --locked --target wasm32-unknown-unknown --features step-marks \
  --crate-type cdylib --target-dir target/pkg-marked -Zbuild-std=std,panic_abort
rm -rf "$out/dist" "$out/lib"
cp -r "$here/node.js" "$here/package.json" "$here/lib" "$out/"
wasm-bindgen target/pkg-marked/wasm32-unknown-unknown/release/restql.wasm \
  --target web --out-dir "$out/dist/server" --out-name restql --no-typescript
"$here/node_modules/.bin/wasm-opt" -O3 --enable-bulk-memory --enable-sign-ext \
  --enable-reference-types --enable-nontrapping-float-to-int --enable-mutable-globals \
  "$out/dist/server/restql_bg.wasm" -o "$out/dist/server/restql_bg.wasm"
echo "marked package: $out"
