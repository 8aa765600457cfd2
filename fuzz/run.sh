#!/usr/bin/env bash
# Fuzz the parser: `bash fuzz/run.sh [SECONDS]` (default 300). Seeds the corpus with every query
# of the conformance corpus. Needs cargo-fuzz (installed here when missing); libFuzzer's
# sanitizer flags need nightly features, which RUSTC_BOOTSTRAP enables on the stable toolchain.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-300}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
mkdir -p corpus/parse
python3 - <<'PY'
import hashlib, json, pathlib
cases = json.load(open("../tests/data/restql-cases.json"))["cases"]
for case in cases:
    q = case["query"].encode()
    pathlib.Path("corpus/parse", hashlib.sha1(q).hexdigest()).write_bytes(q)
PY
RUSTC_BOOTSTRAP=1 cargo fuzz run parse corpus/parse -- \
  -dict=restql.dict -max_total_time="$seconds" -max_len=4096 -timeout=5 -print_final_stats=1
