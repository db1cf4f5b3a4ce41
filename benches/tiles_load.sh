#!/usr/bin/env bash
# Loopback load test of the vector tiles (figures, not pass/fail).
#
#   bash benches/tiles_load.sh                               # 1M points + world countries
#   SIZE=100k DURATION=10 bash benches/tiles_load.sh
#   MODES='cold cached' bash benches/tiles_load.sh           # some modes only
#   MARTIN=/path/to/martin bash benches/tiles_load.sh        # and the same against Martin
#
# Points (benches/data/points_$SIZE.geojson, examples/gen_points.rs), one server per mode:
#   cold       default settings (budget on), tile cache off: every request renders
#   raw        no budget, no clustering, cache off: like for like with Martin
#   clustered  clustering up to z14 (budget on), cache off
#   cached     default settings with the cache; one warm-up pass over the lists first
# Countries (geodata/countries_world.geojson): countries-cold and countries-cached.
# wrk (THREADS threads, CONNS connections, DURATION s) requests random tiles at z4, z8,
# z12 and z6-10 (benches/tiles_urls.py: for points, tiles of points drawn from the data;
# for countries, uniform over latitudes -56..72), walking the list (benches/urls.lua).
# wrk sends no Accept-Encoding: bytes are uncompressed MVT for us and Martin alike.
# Martin (its GeoJSON source, tile cache off) serves the same two files.
# Results are appended to benches/data/tiles-load-results.txt; the summary shows this run only.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=benches/data
SIZE=${SIZE:-1m}
DURATION=${DURATION:-15}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18391}
MARTIN=${MARTIN:-}
MODES=${MODES:-cold raw clustered cached countries-cold countries-cached}
points="$DATA/points_$SIZE.geojson"
countries=geodata/countries_world.geojson
results="$DATA/tiles-load-results.txt"

command -v wrk >/dev/null || { echo "tiles_load.sh: wrk is needed (apt-get install -y wrk)" >&2; exit 1; }
case "$SIZE" in *k) n=$(( ${SIZE%k} * 1000 )) ;; *m) n=$(( ${SIZE%m} * 1000000 )) ;; *) n=$SIZE ;; esac
cargo build --release --quiet --bin khorasan-atlas --example gen_points
[[ -s $points ]] || target/release/examples/gen_points "$n" "$points"
[[ -s $DATA/tiles_z6-10.txt ]] || python3 benches/tiles_urls.py "$points" "$DATA" 20000 /tiles/points
[[ -s $DATA/countries_z6-10.txt ]] || STEM=countries python3 benches/tiles_urls.py --uniform "$DATA" 20000 /tiles/countries
source benches/support/server.sh

run_wrk() { # mode stem [sed expression rewriting the paths]
  local mode=$1 stem=$2 rewrite=${3:-}
  for set in z4 z8 z12 z6-10; do
    local list="$DATA/${stem}_${set}.txt"
    if [[ -n $rewrite ]]; then
      sed "$rewrite" "$list" >"$DATA/${stem}_${set}.$mode.txt"
      list="$DATA/${stem}_${set}.$mode.txt"
    fi
    local before; before=$(loadavg)
    out=$(timeout $((DURATION + 60)) wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s \
      -s benches/urls.lua "http://127.0.0.1:$PORT" -- "$list")
    result=$(grep '^RESULT' <<<"$out" | sed 's/^RESULT //')
    echo "size=$SIZE mode=$mode tiles=$set $result loadavg_before=$before" | tee -a "$results"
  done
}

first_line=$(( $( { cat "$results" 2>/dev/null || true; } | wc -l) + 1 ))
{
  echo "# tiles_load.sh $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "# $(nproc) cores, shared; wrk -t$THREADS -c$CONNS -d${DURATION}s on the same machine; $SIZE points"
} | tee -a "$results"

for mode in $MODES; do
  cfg="$DATA/tiles_$mode.toml"
  cache=0 extra="" file=$points id=points
  case $mode in
    raw) extra=$'max_features = 0\nmax_bytes = 0' ;;
    clustered) extra=$'[layers.tiles.cluster]\nenabled = true\nmax_zoom = 14\nsum = ["value"]' ;;
    cached) cache=512 ;;
    countries-cold) file=$countries id=countries ;;
    countries-cached) file=$countries id=countries cache=512 ;;
  esac
  printf '[server]\nlisten = "127.0.0.1:%s"\n[server.tiles]\ncache_mib = %s\n[[layers]]\nid = "%s"\nfile = "%s"\n[layers.tiles]\n%s\n' \
    "$PORT" "$cache" "$id" "$(realpath "$file")" "$extra" >"$cfg"
  log="$DATA/tiles_server_$mode.log"
  target/release/khorasan-atlas --config "$cfg" >"$log" 2>&1 &
  SERVER_PID=$!
  wait_ready "http://127.0.0.1:$PORT/health" "$log" 180
  stem=tiles
  [[ $id == countries ]] && stem=countries
  if [[ $cache != 0 ]]; then
    for set in z4 z8 z12 z6-10; do # warm: the whole list once (wrk stops at the duration)
      timeout 200 wrk -t"$THREADS" -c"$CONNS" -d30s -s benches/urls.lua "http://127.0.0.1:$PORT" \
        -- "$DATA/${stem}_${set}.txt" >/dev/null
    done
  fi
  run_wrk "$mode" "$stem"
  echo "size=$SIZE mode=$mode rss_mb=$(rss)" | tee -a "$results"
  cleanup
done

if [[ -n $MARTIN ]]; then
  log="$DATA/tiles_server_martin.log"
  printf 'listen_addresses: "127.0.0.1:%s"\ncache_size_mb: 0\ngeojson:\n  sources:\n    points: %s\n    countries: %s\n' \
    "$PORT" "$(realpath "$points")" "$(realpath "$countries")" >"$DATA/martin.yaml"
  "$MARTIN" --config "$DATA/martin.yaml" >"$log" 2>&1 &
  SERVER_PID=$!
  wait_ready "http://127.0.0.1:$PORT/catalog" "$log" 180
  DURATION=${MARTIN_DURATION:-$DURATION}
  run_wrk martin-points tiles 's#^/tiles/points/#/points/#'
  run_wrk martin-countries countries 's#^/tiles/countries/#/countries/#'
  echo "size=$SIZE mode=martin rss_mb=$(rss)" | tee -a "$results"
  cleanup
fi

echo "== summary of this run"
tail -n +"$first_line" "$results" | grep "^size=$SIZE mode=.* tiles=" | awk '{
  for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  printf "%-17s %-6s %9s req/s  p50 %8s ms  p99 %8s ms  %8s B/tile  non-2xx %s  load %s\n",
    v["mode"], v["tiles"], v["rps"], v["p50_ms"], v["p99_ms"], v["bytes_per_req"], v["non2xx"], v["loadavg_before"] }'
