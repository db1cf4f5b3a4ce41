#!/usr/bin/env bash
# GDAL reads the default atlas through the real server:
#   - the OAPIF driver reads every collection and finds as many features as the API's
#     numberMatched, following `next` links, and honours a spatial filter;
#   - the MVT driver (over /vsicurl/, which probes with HEAD first) decodes tiles whose ids,
#     properties and point positions equal the API's (tests/gdal/mvt_check.py), and GEOS finds
#     every polygon of every tile at z0-2 valid as a whole feature.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v ogrinfo >/dev/null || { echo "ogrinfo not found: install gdal-bin" >&2; exit 1; }
# shellcheck source=tests/support/atlas_server.sh
source tests/support/atlas_server.sh
start_atlas_server "${GDAL_TEST_PORT:-18631}"

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

# Vector tiles through GDAL's MVT driver, compared with the feature API.
for t in "incidents 3 5 3" "incidents 6 44 25" "incidents 10 708 407" "provinces 6 44 25" "places 7 88 51" \
         "countries 0 0 0" "countries 2 2 1" "khorasan 5 22 12"; do
  # shellcheck disable=SC2086
  python3 tests/gdal/mvt_check.py "$BASE" $t || failures=$((failures + 1))
done
checked=0
invalid=0
for layer in countries countries_region provinces khorasan; do
  for z in 0 1 2; do
    n=$((1 << z))
    for x in $(seq 0 $((n - 1))); do
      for y in $(seq 0 $((n - 1))); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/tiles/$layer/$z/$x/$y") == 200 ]] || continue
        counts=$(ogrinfo -ro -q "/vsicurl/$BASE/tiles/$layer/$z/$x/$y.mvt" -oo X="$x" -oo Y="$y" -oo Z="$z" \
          -dialect SQLite -sql "SELECT count(*) AS n, count(CASE WHEN ST_IsValid(geometry) THEN 1 END) AS valid FROM $layer" 2>/dev/null \
          | sed -n 's/^ *\(n\|valid\) (Integer) = //p' | tr '\n' ' ')
        read -r total valid <<<"$counts"
        checked=$((checked + ${total:-0}))
        if [[ -z "$total" || "$total" != "$valid" ]]; then
          echo "FAIL $layer $z/$x/$y: GEOS finds $valid of $total features valid"
          invalid=$((invalid + 1))
        fi
      done
    done
  done
done
if ((invalid == 0 && checked > 0)); then echo "ok   GEOS: all $checked polygon features of z0-2 tiles valid"; else failures=$((failures + 1)); fi
exit $failures
