#!/usr/bin/env bash
# Instructions per query (plan + execute + response text, the trace off) for scenarios (a),
# (b), (c) and (c) with batch endpoints, counted by callgrind: the same figure for the same
# build whatever else the machine is doing. Each scenario runs 100 and 300 times; the
# difference over 200 leaves out what the program does once.
#   bash benches/instructions.sh [SCENARIO ...]   (default: a b c c-batched)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || {
  echo "needs valgrind (Debian: apt-get install valgrind)" >&2
  exit 2
}
bin="$(cargo bench --bench instructions --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*instructions[^"]*\)".*/\1/p' | tail -1)"
[ -x "$bin" ] || {
  echo "the instructions bench did not build: cargo bench --bench instructions --no-run" >&2
  exit 1
}
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 |
    sed -n 's/.*refs: *\([0-9,]*\).*/\1/p' | tr -d ,
}
printf '%-10s %14s\n' scenario "instructions"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(a b c c-batched)
for scenario in "${scenarios[@]}"; do
  few="$(count "$scenario" 100)"
  many="$(count "$scenario" 300)"
  printf '%-10s %14s\n' "($scenario)" "$(((many - few) / 200))"
done
