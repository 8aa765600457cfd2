#!/usr/bin/env bash
# The demo: builds the npm package (installing what the build needs on first run), starts the
# sample services and serves the playground on localhost. Ctrl-C stops everything.
#   bash www/demo.sh [PORT]     (default 8080; a free port if it is taken)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if ! command -v node >/dev/null; then
  echo "the demo needs Node.js 20 or later (https://nodejs.org)" >&2
  exit 1
fi
bash pkg/build.sh
exec node www/server.mjs --port "${1:-${PORT:-8080}}"
