#!/usr/bin/env bash
# Every test of the project, from a fresh machine: installs what it needs, then runs the format
# and lint checks (host and wasm32), the Rust tests and the doc build.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
cargo --version

step "format"
cargo fmt --all --check

step "clippy (host)"
cargo clippy --all-targets --locked -- -D warnings

step "clippy (wasm32)"
cargo clippy --lib --test wasm_edge --target wasm32-unknown-unknown --locked -- -D warnings

step "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet

step "tests"
cargo test --locked --all-targets
cargo test --locked --doc

step "system packages"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null
fi

step "npm package: build"
bash pkg/build.sh

# wasm-bindgen-test-runner comes with the wasm-bindgen CLI that the build installed.
step "wasm edge: Node"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --locked --target wasm32-unknown-unknown --test wasm_edge

step "wasm edge: Chromium"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER="$(command -v chromedriver)" \
  cargo test --locked --target wasm32-unknown-unknown --test wasm_edge

step "npm package: types"
pkg/node_modules/.bin/tsc -p pkg/test/types/tsconfig.json

step "npm package: Deno"
NO_COLOR=1 pkg/node_modules/.bin/deno test --allow-read --allow-net=127.0.0.1 pkg/test/deno/

step "npm package: Node, workerd, Chromium, Hermes"
(cd pkg && node --test test/*.test.mjs)
