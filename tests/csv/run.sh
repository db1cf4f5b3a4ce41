#!/usr/bin/env bash
# CSV round trip against the release server (tests/csv/roundtrip.py: Python's csv module
# reads every page of a query's CSV and compares it with the GeoJSON of the same page):
#   1. build the server (cargo build --release; SKIP_BUILD=1 reuses target/release)
#   2. serve the default atlas on $CSV_TEST_PORT (default 18341) and the hostile atlas of
#      tests/fixtures/hostile-atlas.toml (markup, formulas, arrays and objects, a feature
#      without geometry, every geometry type) on the next port
#   3. for every layer of both: items in pages of 50; on the default atlas also a radius
#      (paged) and a nearest query on a point and a polygon layer, both with no match, and a
#      properties= selection; each run is limited to 120 s
#   4. stop the servers; exit 1 if any run failed or no layer was found
# Needs python3 (standard library only) and curl.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PORT="${CSV_TEST_PORT:-18341}"
cd "$ROOT"
# Writes stay off (no token), so the servers create no store.
unset KHORASAN_WRITE_TOKEN
# shellcheck source=../support/atlas_server.sh
source tests/support/atlas_server.sh
start_atlas_server "$PORT"
ATLAS="$BASE"
SKIP_BUILD=1 start_atlas_server "$((PORT + 1))" --config tests/fixtures/hostile-atlas.toml
HOSTILE="$BASE"

STATUS=0
RUNS=0
roundtrip() {
  RUNS=$((RUNS + 1))
  timeout 120 python3 tests/csv/roundtrip.py "$@" || { echo "FAILED: roundtrip.py $*" >&2; STATUS=1; }
}
layers_of() {
  curl -fsS "$1/collections" |
    python3 -c 'import json,sys; print(" ".join(c["id"] for c in json.load(sys.stdin)["collections"]))'
}

ATLAS_LAYERS=$(layers_of "$ATLAS")
HOSTILE_LAYERS=$(layers_of "$HOSTILE")
if [ -z "$ATLAS_LAYERS" ] || [ -z "$HOSTILE_LAYERS" ]; then
  echo "csv/run.sh: no layers listed by $ATLAS or $HOSTILE" >&2
  exit 1
fi
for layer in $ATLAS_LAYERS; do roundtrip "$ATLAS" "$layer" items limit=50; done
for layer in $HOSTILE_LAYERS; do roundtrip "$HOSTILE" "$layer" items; done
KABUL='coords=POINT(69.17%2034.53)'
roundtrip "$ATLAS" incidents radius "$KABUL&within=300&within-units=km&limit=7"
roundtrip "$ATLAS" incidents nearest "$KABUL&limit=5"
roundtrip "$ATLAS" provinces radius "$KABUL&within=150&limit=4"
roundtrip "$ATLAS" provinces nearest "$KABUL&limit=3"
roundtrip "$ATLAS" incidents items "properties=title,deaths,sources&limit=40"
roundtrip "$HOSTILE" notes radius "$KABUL&within=2000&limit=2"
roundtrip "$ATLAS" incidents radius 'coords=POINT(0%200)&within=1'
roundtrip "$ATLAS" incidents nearest 'coords=POINT(0%200)&within=1'

if [ "$STATUS" = 0 ]; then echo "csv: $RUNS round trips passed"; else echo "csv: FAILED" >&2; fi
exit "$STATUS"
