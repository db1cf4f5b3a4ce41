#!/usr/bin/env bash
# CSV round trip against the release server: starts target/release/khorasan-atlas on
# $ATLAS_PORT (default 18341), reads every page of each layer's CSV with Python's csv module
# (roundtrip.py) and compares with the GeoJSON, then stops the server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PORT="${ATLAS_PORT:-18341}"
URL="http://127.0.0.1:${PORT}"
cd "$ROOT"
./target/release/khorasan-atlas --listen "127.0.0.1:${PORT}" >/dev/null 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$URL/health" 2>/dev/null && break
  sleep 0.2
done
STATUS=0
for layer in $(curl -fsS "$URL/collections" | python3 -c 'import json,sys; print(" ".join(c["id"] for c in json.load(sys.stdin)["collections"]))'); do
  timeout 120 python3 "$ROOT/tests/csv/roundtrip.py" "$URL" "$layer" || STATUS=1
done
exit "$STATUS"
