#!/usr/bin/env bash
# Vector tiles side by side with Martin's GeoJSON source, on the shared dense benchmark data
# and request lists (../shared/bench). Figures, not pass/fail: one table, both servers, the
# same run, the same files, the same lists, one server at a time on the same cores.
#
#   bash benches/versus_martin.sh                       # installs Martin when missing (long)
#   MARTIN=/path/to/martin bash benches/versus_martin.sh
#   SIZES="1000000" DURATION=10 bash benches/versus_martin.sh
#
# Martin: `cargo install martin --no-default-features --features geojson` into
# benches/data/martin (MARTIN_VERSION pins the release; its tile cache is turned off). It
# takes a long time to compile (tens of minutes of CPU on two cores), once.
#
# Rows, for each size (SIZES, default 1M and 100k points from gen_data.py):
#   tiles z6-10 and tiles z4, 20,000 paths each from gen_workload.py, replayed by paths.lua
#   (wrk, THREADS threads, CONNS connections, DURATION s, no Accept-Encoding: plain MVT);
#   servers:
#     atlas       khorasan-atlas, default tile budget, tile cache off: every request renders
#     atlas-raw   khorasan-atlas, no budget (every point), cache off: the same work as Martin
#     martin      Martin's GeoJSON source on the same file, cache off
# Each row prints req/s, p50 and p99, bytes per tile and the load average before it. The
# servers' start time to the first answer and RSS after the run are printed too.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH=${BENCH:-../shared/bench}
[[ -d $BENCH ]] || { echo "versus_martin.sh: no bench kit at $BENCH (set BENCH)" >&2; exit 2; }
SCRATCH=${SCRATCH:-benches/data/dense}
SIZES=${SIZES:-1000000 100000}
DURATION=${DURATION:-15}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18160}
BIN=${BIN:-target/release/khorasan-atlas}
MARTIN_VERSION=${MARTIN_VERSION:-1.14.0}
MARTIN=${MARTIN:-}

command -v wrk >/dev/null || { echo "versus_martin.sh: wrk is needed (apt-get install -y wrk)" >&2; exit 1; }
[[ -x $BIN ]] || cargo build --release --quiet --bin khorasan-atlas
if [[ -z $MARTIN ]]; then
  MARTIN=benches/data/martin/bin/martin
  if [[ ! -x $MARTIN ]]; then
    echo "== installing Martin $MARTIN_VERSION (GeoJSON source only) into benches/data/martin"
    cargo install "martin@$MARTIN_VERSION" --locked --no-default-features --features geojson \
      --root benches/data/martin
  fi
fi
mkdir -p "$SCRATCH"
source benches/support/server.sh


# Starts a server (the command in "$@") and waits until URL answers; STARTED_MS is the time
# it took.
STARTED_MS=0
start() { # url log command...
  local url=$1 log=$2; shift 2
  local t0; t0=$(date +%s%N)
  "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  wait_ready "$url" "$log"
  STARTED_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}

# One wrk run over a path list; prints one table row.
row() { # size server set list
  local before; before=$(loadavg)
  local out
  out=$(timeout $((DURATION + 60)) wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s \
    -s "$BENCH/paths.lua" "http://127.0.0.1:$PORT" -- "$4" 2>&1 | grep '^RESULT' | sed 's/^RESULT //')
  python3 - "$1" "$2" "$3" "$before" "$out" <<'EOF'
import json, sys
size, server, tiles, load, text = sys.argv[1:6]
r = json.loads(text)
n = max(r["requests"], 1)
bad = sum(r["errors"].values())
print(f"{size:>8}  {server:<10} {tiles:<11} {r['rps']:>9.1f} req/s  p50 {r['lat_ms']['p50']:>8.1f} ms"
      f"  p99 {r['lat_ms']['p99']:>8.1f} ms  {r['bytes'] / n / 1024:>7.1f} KB/tile  errors {bad}  load {load}")
EOF
}

printf '# versus_martin.sh %s, commit %s, %s cores, wrk -t%s -c%s -d%ss on the same machine\n' \
  "$(date -u +%FT%TZ)" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" "$(nproc)" \
  "$THREADS" "$CONNS" "$DURATION"
if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
  echo "versus_martin.sh: port $PORT is taken (set PORT)" >&2; exit 1
fi
for size in $SIZES; do
  data="$SCRATCH/points_$size.geojson"
  [[ -s $data ]] || python3 "$BENCH/gen_data.py" "$size" "$data"
  z610="$SCRATCH/martin_tiles_z6-10.txt"
  z4="$SCRATCH/martin_tiles_z4.txt"
  [[ -s $z610 ]] || python3 "$BENCH/gen_workload.py" tiles 20000 '/points/{z}/{x}/{y}' >"$z610"
  [[ -s $z4 ]] || python3 "$BENCH/gen_workload.py" tiles 20000 '/points/{z}/{x}/{y}' --zmin 4 --zmax 4 >"$z4"
  for server in atlas atlas-raw martin; do
    log="$SCRATCH/versus_$server.log"
    if [[ $server == martin ]]; then
      conf="$SCRATCH/martin.yaml"
      printf 'listen_addresses: "127.0.0.1:%s"\ncache_size_mb: 0\ngeojson:\n  sources:\n    points: %s\n' \
        "$PORT" "$(realpath "$data")" >"$conf"
      start "http://127.0.0.1:$PORT/catalog" "$log" "$MARTIN" --config "$conf"
      prefix=""
    else
      conf="$SCRATCH/versus_$server.toml"
      budget=""
      [[ $server == atlas-raw ]] && budget=$'[layers.tiles]\nmax_features = 0\nmax_bytes = 0\n'
      printf '[server]\nlisten = "127.0.0.1:%s"\n[server.tiles]\ncache_mib = 0\n[[layers]]\nid = "points"\nfile = "%s"\n%s' \
        "$PORT" "$(realpath "$data")" "$budget" >"$conf"
      start "http://127.0.0.1:$PORT/health" "$log" "$BIN" --config "$conf"
      prefix="/tiles"
    fi
    for set in z6-10 z4; do
      list="$SCRATCH/martin_tiles_$set.txt"
      if [[ -n $prefix ]]; then
        sed "s#^/points/#$prefix/points/#" "$list" >"$SCRATCH/versus_$set.atlas.txt"
        list="$SCRATCH/versus_$set.atlas.txt"
      fi
      row "$size" "$server" "tiles $set" "$list"
    done
    printf '%8s  %-10s started in %s ms, RSS %s MB after the runs\n' "$size" "$server" "$STARTED_MS" "$(rss)"
    cleanup
  done
done
