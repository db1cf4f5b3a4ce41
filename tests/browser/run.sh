#!/usr/bin/env bash
# Browser test of the map page against the real server, from a clean checkout:
#   1. build the page (web/: npm ci && npm run build -> web/dist/)
#   2. build the server (cargo build --release)
#   3. start target/release/khorasan-atlas --listen 127.0.0.1:$PORT (default atlas + web/dist)
#   4. wait for GET /health, run tests/browser/map.test.mjs (the Leaflet map page),
#      tiles.test.mjs (the vector tiles in MapLibre GL JS) and ogc.test.mjs (OGC API - Tiles
#      through OpenLayers), stop the server
# Exits with the test's status. Needs node/npm and Debian's chromium (/usr/bin/chromium, or
# $CHROMIUM). Environment: ATLAS_PORT (default 18080), SKIP_BUILD=1 to reuse existing builds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PORT="${ATLAS_PORT:-18080}"
URL="http://127.0.0.1:${PORT}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
ART="$ROOT/tests/browser/artifacts"
mkdir -p "$ART"

if [ ! -x "$CHROMIUM" ]; then
  echo "run.sh: $CHROMIUM not found; install Debian's chromium (apt-get install -y chromium)" >&2
  exit 2
fi

if [ "${SKIP_BUILD:-0}" != "1" ]; then
  echo "== building the map page (web/)"
  (cd "$ROOT/web" && npm ci --no-audit --no-fund && npm run build)
  echo "== building the server"
  (cd "$ROOT" && cargo build --release)
fi
(cd "$ROOT/tests/browser" && { npm ls --depth=0 >/dev/null 2>&1 || npm ci --no-audit --no-fund; })

if curl -fsS -o /dev/null "$URL/health" 2>/dev/null; then
  echo "run.sh: something already answers on $URL; set ATLAS_PORT to a free port" >&2
  exit 2
fi

echo "== starting the server on $URL"
cd "$ROOT"
./target/release/khorasan-atlas --listen "127.0.0.1:${PORT}" >"$ART/server.log" 2>&1 &
SERVER_PID=$!
stop_server() {
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap stop_server EXIT

for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null "$URL/health" 2>/dev/null; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "run.sh: the server exited early; its log:" >&2
    cat "$ART/server.log" >&2
    exit 1
  fi
  sleep 0.2
done
if ! curl -fsS -o /dev/null "$URL/health"; then
  echo "run.sh: $URL/health did not answer within 20 s; server log:" >&2
  cat "$ART/server.log" >&2
  exit 1
fi

STATUS=0
for test in map tiles ogc; do
  echo "== browser test: $test.test.mjs"
  ATLAS_URL="$URL" CHROMIUM="$CHROMIUM" node "$ROOT/tests/browser/$test.test.mjs" || STATUS=1
done
stop_server
trap - EXIT
exit "$STATUS"
