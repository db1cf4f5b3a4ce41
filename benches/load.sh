#!/usr/bin/env bash
# Loopback load test of the feature endpoints on generated points (figures, not pass/fail).
#
#   bash benches/load.sh            # 100k and 1M points
#   bash benches/load.sh 1m         # only 1M (sizes: 100k, 1m, or any count such as 250000)
#   DURATION=20 CONNS=64 THREADS=2 PORT=18390 bash benches/load.sh
#
# For each size: generates benches/data/points_<size>.geojson if missing (examples/gen_points.rs,
# deterministic), starts target/release/khorasan-atlas --layer points=FILE, reads the load
# time from its "layer loaded ... ms=" log line (and the CPU time it took, from /proc/PID/stat)
# and VmRSS/VmHWM from /proc after load, then
# runs wrk (64 connections, 2 threads, DURATION seconds) against items?bbox&limit=100,
# radius (50 km, limit=100) and nearest (limit=10) with a different query for every request
# (benches/urls.lua over benches/data/urls_*.txt). The load average is printed with every
# figure: the machine is shared. Results go to stdout and benches/data/load-results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=benches/data
DURATION=${DURATION:-20}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18390}
URLS=${URLS:-20000}
SIZES=("$@")
((${#SIZES[@]})) || SIZES=(100k 1m)

command -v wrk >/dev/null || { echo "load.sh: wrk is needed (apt-get install -y wrk)" >&2; exit 1; }
mkdir -p "$DATA"

count_of() {
  case "$1" in
    *k) echo $(( ${1%k} * 1000 )) ;;
    *m) echo $(( ${1%m} * 1000000 )) ;;
    *) echo "$1" ;;
  esac
}

echo "== build (release)"
cargo build --release --quiet --bin khorasan-atlas --example gen_points

for size in "${SIZES[@]}"; do
  file="$DATA/points_$size.geojson"
  [[ -s $file ]] || target/release/examples/gen_points "$(count_of "$size")" "$file"
done
[[ -s $DATA/urls_nearest.txt ]] || target/release/examples/gen_points urls "$URLS" "$DATA" points

source benches/support/server.sh

results="$DATA/load-results.txt"
{
  echo "# load.sh $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo '+dirty')"
  echo "# $(nproc) cores; wrk -t$THREADS -c$CONNS -d${DURATION}s on the same machine"
} | tee "$results"

for size in "${SIZES[@]}"; do
  file="$DATA/points_$size.geojson"
  log="$DATA/server_$size.log"
  echo "== $size points ($(du -m "$file" | cut -f1) MB), load average $(loadavg)"
  RUST_LOG=info NO_COLOR=1 target/release/khorasan-atlas --layer "points=$file" \
    --listen "127.0.0.1:$PORT" >"$log" 2>&1 &
  SERVER_PID=$!
  started=$(date +%s%N)
  for _ in $(seq 1 600); do
    grep -q "serving http" "$log" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  grep -q "serving http" "$log" || { echo "server did not start in 60 s" >&2; exit 1; }
  wall_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  # Strip ANSI colours, then take ms= of the "layer loaded" line.
  load_ms=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep "layer loaded" | sed -n 's/.* ms=\([0-9]*\).*/\1/p' | head -1)
  # CPU time (user + system) the server spent until it served: the load, less sensitive to
  # other processes on the machine than the wall time.
  cpu_ms=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%d", ($12 + $13) * 1000 / hz }' "/proc/$SERVER_PID/stat")
  sleep 1
  rss_kb_load=$(rss VmRSS); hwm_load=$(rss VmHWM)
  line="size=$size load_ms=$load_ms load_cpu_ms=$cpu_ms start_to_serving_ms=$wall_ms rss_mb=$rss_kb_load hwm_mb=$hwm_load loadavg=$(loadavg)"
  echo "$line" | tee -a "$results"
  # Warm-up: touch the pages of the index and the features.
  timeout 30 wrk -t"$THREADS" -c"$CONNS" -d2s -s benches/urls.lua "http://127.0.0.1:$PORT" \
    -- "$DATA/urls_items.txt" >/dev/null
  for ep in items radius nearest; do
    before=$(loadavg)
    out=$(timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 5s \
      -s benches/urls.lua "http://127.0.0.1:$PORT" -- "$DATA/urls_$ep.txt")
    result=$(grep '^RESULT' <<<"$out" | sed 's/^RESULT //')
    echo "size=$size endpoint=$ep $result loadavg_before=$before loadavg_after=$(loadavg)" | tee -a "$results"
  done
  echo "size=$size after_load rss_mb=$(rss VmRSS) hwm_mb=$(rss VmHWM)" | tee -a "$results"
  cleanup
done

echo "== summary"
awk '
  /^size=.* load_ms=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%-6s load %6s ms (cpu %s ms)  RSS %5s MB (peak %5s MB)  load average %s\n", v["size"], v["load_ms"], v["load_cpu_ms"], v["rss_mb"], v["hwm_mb"], v["loadavg"] }
  / endpoint=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%-6s %-8s %9s req/s  p50 %7s ms  p99 %7s ms  non-2xx %s  errors %s  load average %s\n",
      v["size"], v["endpoint"], v["rps"], v["p50_ms"], v["p99_ms"], v["non2xx"], v["errors"], v["loadavg_before"] }
' "$results"
