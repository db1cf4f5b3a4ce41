#!/usr/bin/env bash
# Start-up with POINTS points (default 1M, ../shared/bench/gen_data.py) read from a PostGIS
# table against the same points read from their GeoJSON file (figures, not pass/fail).
#
#   bash benches/pg_load.sh
#   POINTS=100000 RUNS=3 bash benches/pg_load.sh
#
# The table is made by GDAL's ogr2ogr (COPY mode) on a throwaway cluster
# (tests/support/pg_cluster.sh); the server reads it as a `postgis = { ... }` layer. For each
# source, RUNS starts of the release server: milliseconds from the start of the process to its
# first 200 from /health, its CPU time by then, and RSS after the load. Also checks that both
# layers list the same number of features. Port 18330; the cluster on the first free port
# from 18150 (PG_PORT to choose). SKIP_BUILD=1 reuses target/release/khorasan-atlas.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/pg_cluster.sh

POINTS=${POINTS:-1000000}
RUNS=${RUNS:-2}
PORT=${PORT:-18330}
BENCH=${BENCH:-../shared/bench}
SCRATCH=${SCRATCH:-benches/data/dense}
BIN=target/release/khorasan-atlas
[[ -f $BENCH/gen_data.py ]] || { echo "pg_load.sh: no bench kit at $BENCH (set BENCH)" >&2; exit 2; }
command -v ogr2ogr >/dev/null || { echo "pg_load.sh: ogr2ogr is needed (scripts/install-deps.sh)" >&2; exit 1; }
[[ ${SKIP_BUILD:-0} == 1 ]] || cargo build --release --quiet --bin khorasan-atlas

mkdir -p "$SCRATCH"
data="$SCRATCH/points_$POINTS.geojson"
[[ -s $data ]] || python3 "$BENCH/gen_data.py" "$POINTS" "$data"
data=$(cd "$(dirname "$data")" && pwd)/$(basename "$data")

WORK=$(mktemp -d)
SERVER=""
cleanup() {
  if [[ -n $SERVER ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  stop_pg_cluster
  rm -rf "$WORK"
}
trap cleanup EXIT
start_pg_cluster
trap cleanup EXIT

echo "== loading $POINTS points into PostGIS (ogr2ogr)"
started=$(date +%s%N)
PG_USE_COPY=YES ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=$PG_PORT user=postgres dbname=atlas" \
  "$data" -nln points -lco GEOMETRY_NAME=geom -lco FID=fid -lco SPATIAL_INDEX=NONE -gt 100000
echo "   $((($(date +%s%N) - started) / 1000000)) ms"
properties=$(python3 -c '
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    line = f.readline()
    line = f.readline().rstrip().rstrip(",")
print(json.dumps(list(json.loads(line)["properties"])))' "$data")

cat >"$WORK/file.toml" <<TOML
[[layers]]
id = "points"
file = "$data"
TOML
cat >"$WORK/postgis.toml" <<TOML
[server]
postgis_url = "$PG_URL"

[[layers]]
id = "points"
postgis = { table = "points", id_column = "fid", properties = $properties }
TOML

# One start: prints "ms cpu_ms rss_mb matched".
measure() {
  local config=$1 t0 ms ticks rss matched
  t0=$(date +%s%N)
  RUST_LOG=warn "$BIN" --config "$config" --listen "127.0.0.1:$PORT" --no-watch \
    --data-dir "$WORK/data" >"$WORK/server.log" 2>&1 &
  SERVER=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/health"; do
    kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.02
  done
  ms=$((($(date +%s%N) - t0) / 1000000))
  ticks=$(awk '{ print $14 + $15 }' "/proc/$SERVER/stat")
  rss=$(awk '$1 == "VmRSS:" { printf "%.0f", $2 / 1024 }' "/proc/$SERVER/status")
  matched=$(curl -sf "http://127.0.0.1:$PORT/collections/points/items?limit=1" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["numberMatched"])')
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
  echo "$ms $((ticks * 1000 / $(getconf CLK_TCK))) $rss $matched"
}

echo "== $POINTS points, $RUNS starts each; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| source | to /health | CPU | RSS after load | features |\n|---|---|---|---|---|\n'
for source in file postgis; do
  for _ in $(seq 1 "$RUNS"); do
    read -r ms cpu rss matched < <(measure "$WORK/$source.toml")
    printf '| %s | %s ms | %s ms | %s MB | %s |\n' "$source" "$ms" "$cpu" "$rss" "$matched"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
