#!/usr/bin/env bash
# Browser test of the map page against the real server, from a clean checkout:
#   1. build the page (web/: npm ci && npm run build -> web/dist/)
#   2. build the server (cargo build --release)
#   3. start target/release/khorasan-atlas --listen 127.0.0.1:$PORT (default atlas + web/dist)
#   4. start the fixture atlas of html.test.mjs (tests/fixtures/hostile-atlas.toml,
#      writes on with a token made for the run, its store in a directory removed at exit) on
#      the next port
#   5. wait for GET /health of both, run tests/browser/map.test.mjs (the Leaflet map page),
#      tiles.test.mjs (the vector tiles in MapLibre GL JS), ogc.test.mjs (OGC API - Tiles
#      through OpenLayers) and html.test.mjs (the HTML pages of the API), each within 10
#      minutes, then stop the servers
# Exits with the tests' status. Needs node/npm and Debian's chromium (/usr/bin/chromium, or
# $CHROMIUM). Environment: ATLAS_PORT (default 18080), ATLAS_FIXTURE_PORT (default
# ATLAS_PORT + 1), SKIP_BUILD=1 to reuse existing builds, BROWSER_TESTS to run only some
# (e.g. BROWSER_TESTS=html).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PORT="${ATLAS_PORT:-18080}"
URL="http://127.0.0.1:${PORT}"
FIXTURE_PORT="${ATLAS_FIXTURE_PORT:-$((PORT + 1))}"
FIXTURE_URL="http://127.0.0.1:${FIXTURE_PORT}"
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

cd "$ROOT"
# shellcheck source=../support/atlas_server.sh
source "$ROOT/tests/support/atlas_server.sh"
FIXTURE_DATA="$ART/fixture-data"
cleanup() {
  stop_atlas_servers
  rm -rf "$FIXTURE_DATA"
}
ATLAS_LOG="$ART/server.log" SKIP_BUILD=1 start_atlas_server "$PORT"
# The fixture atlas of html.test.mjs: hostile markup, a feature without geometry, writes on
# with a token made for this run, its store in a directory removed at exit.
rm -rf "$FIXTURE_DATA"
FIXTURE_TOKEN="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
KHORASAN_WRITE_TOKEN="$FIXTURE_TOKEN" ATLAS_LOG="$ART/fixture-server.log" SKIP_BUILD=1 \
  start_atlas_server "$FIXTURE_PORT" --config tests/fixtures/hostile-atlas.toml \
  --data-dir "$FIXTURE_DATA"
trap cleanup EXIT

STATUS=0
for test in ${BROWSER_TESTS:-map tiles ogc html}; do
  echo "== browser test: $test.test.mjs"
  ATLAS_URL="$URL" ATLAS_FIXTURE_URL="$FIXTURE_URL" ATLAS_FIXTURE_TOKEN="$FIXTURE_TOKEN" \
    CHROMIUM="$CHROMIUM" timeout 600 node "$ROOT/tests/browser/$test.test.mjs" || STATUS=1
done
exit "$STATUS"
