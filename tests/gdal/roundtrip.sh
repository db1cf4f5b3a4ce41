#!/usr/bin/env bash
# GDAL reads tests/fixtures/roundtrip.geojson back through the real server (OAPIF driver,
# paging with `next` links) and writes it as GeoJSON; tests/gdal/roundtrip_compare.py
# compares the result with the fixture feature by feature.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v ogr2ogr >/dev/null || { echo "ogr2ogr not found: install gdal-bin" >&2; exit 1; }
# shellcheck source=tests/support/atlas_server.sh
source tests/support/atlas_server.sh
start_atlas_server "${GDAL_TEST_PORT:-18301}" --layer rt=tests/fixtures/roundtrip.geojson
out=$(mktemp -d)
trap 'kill $ATLAS_SERVER_PID 2>/dev/null || true; rm -rf "$out" "$ATLAS_SERVER_LOG"' EXIT
timeout 120 ogr2ogr -f GeoJSON "$out/out.geojson" -oo PAGE_SIZE=100 "OAPIF:$BASE/collections/rt" rt
python3 tests/gdal/roundtrip_compare.py tests/fixtures/roundtrip.geojson "$out/out.geojson"
