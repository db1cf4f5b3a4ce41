#!/usr/bin/env bash
# QGIS (PyQGIS, offscreen) draws the vector tiles of the default atlas served by the real
# binary, and tests/qgis/render_check.py compares the picture with the feature API.
# Needs Debian's python3-qgis and qgis-providers (`.ci/run` installs them); pictures go to
# tests/qgis/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${QGIS_PYTHON:-/usr/bin/python3}
"$PYTHON" -c 'import qgis.core' 2>/dev/null || {
  echo "PyQGIS not found for $PYTHON: install python3-qgis and qgis-providers" >&2
  exit 1
}
PORT=${QGIS_TEST_PORT:-18633}
BASE="http://127.0.0.1:$PORT"
cargo build --release --quiet
LOG=$(mktemp)
./target/release/khorasan-atlas --config geodata/atlas.toml --listen "127.0.0.1:$PORT" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 100); do
  curl -sf "$BASE/health" >/dev/null && break
  sleep 0.2
done
curl -sf "$BASE/health" >/dev/null || { echo "server did not start:"; cat "$LOG"; exit 1; }
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
"$PYTHON" tests/qgis/render_check.py "$BASE" tests/qgis/artifacts
