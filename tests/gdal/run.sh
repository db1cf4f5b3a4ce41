#!/usr/bin/env bash
# GDAL's OAPIF driver reads every collection of the default atlas through the real server
# and finds as many features as the API's numberMatched, following `next` links.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v ogrinfo >/dev/null || { echo "ogrinfo not found: install gdal-bin" >&2; exit 1; }
PORT=${GDAL_TEST_PORT:-18631}
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

failures=0
collections=$(curl -sf "$BASE/collections" | python3 -c 'import json,sys; print(" ".join(c["id"] for c in json.load(sys.stdin)["collections"]))')
for id in $collections; do
  expected=$(curl -sf "$BASE/collections/$id/items?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["numberMatched"])')
  # Page size 100 so that GDAL must follow `next` links on the larger layers.
  got=$(ogrinfo -ro -al -so -oo PAGE_SIZE=100 "OAPIF:$BASE/collections/$id" 2>&1 | sed -n 's/^Feature Count: //p' | head -1)
  # Count features by iterating too, not only the advertised count.
  iterated=$(ogrinfo -ro -al -q -oo PAGE_SIZE=100 "OAPIF:$BASE/collections/$id" 2>/dev/null | grep -c '^OGRFeature(' || true)
  if [[ "$got" == "$expected" && "$iterated" == "$expected" ]]; then
    echo "ok   $id: numberMatched=$expected, ogrinfo count=$got, iterated=$iterated"
  else
    echo "FAIL $id: numberMatched=$expected, ogrinfo count=$got, iterated=$iterated"
    failures=$((failures + 1))
  fi
done
# A filtered read: GDAL passes the bbox as a spatial filter.
bbox_expected=$(curl -sf "$BASE/collections/places/items?limit=1&bbox=66,32,71.5,36" | python3 -c 'import json,sys; print(json.load(sys.stdin)["numberMatched"])')
bbox_got=$(ogrinfo -ro -al -q -oo PAGE_SIZE=100 -spat 66 32 71.5 36 "OAPIF:$BASE/collections/places" 2>/dev/null | grep -c '^OGRFeature(' || true)
if [[ "$bbox_got" == "$bbox_expected" ]]; then echo "ok   places bbox: $bbox_got"; else echo "FAIL places bbox: API $bbox_expected, GDAL $bbox_got"; failures=$((failures + 1)); fi
exit $failures
