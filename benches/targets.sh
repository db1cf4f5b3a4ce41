#!/usr/bin/env bash
# The rows of the performance targets, measured on the shared dense benchmark data
# (../shared/bench: 1M points over Afghanistan and Pakistan, 70% in town clusters). Figures,
# not pass/fail; the machine load average is printed with every figure.
#
#   bash benches/targets.sh                 # every row
#   ROWS="load items compress" bash benches/targets.sh
#   BIN=path/to/khorasan-atlas POINTS=1000000 DURATION=10 PORT=18140 bash benches/targets.sh
#
# Rows: load (load + index time and the CPU time it took, the tile preparation that follows,
# RSS after both once freed pages are given back (SETTLE s, default 11), peak), items (bbox
# limit=100), radius (50 km, limit=100), nearest (limit=10), compress (items limit=1000 with
# `Accept-Encoding: gzip` against `gzip, deflate, br, zstd`: throughput ratio and bytes per
# response), tiles (z6-10, cache off), z4 (z4 tiles, cache off), disconnect (CPU left busy
# after wrk stops during a radius and a z4 backlog), growth (RSS after the loads above against
# RSS after load), cached (the first 300 z6-10 tiles from the default tile cache, identity and
# gzip).
# Data and request lists are made once under SCRATCH (default benches/data/dense).
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH=${BENCH:-../shared/bench}
[[ -d $BENCH ]] || { echo "targets.sh: no bench kit at $BENCH (set BENCH)" >&2; exit 2; }
SCRATCH=${SCRATCH:-benches/data/dense}
POINTS=${POINTS:-1000000}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18140}
BIN=${BIN:-target/release/khorasan-atlas}
ROWS=${ROWS:-load items radius nearest compress tiles z4 disconnect growth cached}

command -v wrk >/dev/null || { echo "targets.sh: wrk is needed (apt-get install -y wrk)" >&2; exit 1; }
[[ -x $BIN ]] || cargo build --release --quiet --bin khorasan-atlas
source benches/support/lists.sh
data=$(data_file "$POINTS")

source benches/support/server.sh
cpu_split() { awk '{ sub(/.*\) /, ""); print $12, $13 }' "/proc/$SERVER_PID/stat"; } # user, kernel
cpu_ticks() { local user kernel; read -r user kernel <<<"$(cpu_split)"; echo $((user + kernel)); }

log="$SCRATCH/server.log"
conf="$SCRATCH/targets.toml"
start_server() { # config text: starts the server on the data with it (SERVER_PID)
  printf '%b' "$1" >"$conf"
  : >"$log" # emptied before the server starts, so that an old log never reads as ready
  RUST_LOG=info NO_COLOR=1 "$BIN" --config "$conf" --layer "points=$data" \
    --listen "127.0.0.1:$PORT" ${SERVER_ARGS:-} >"$log" 2>&1 &
  SERVER_PID=$!
}
wait_log() { # pattern: waits (up to 60 s) until the server's log has it
  for _ in $(seq 1 1200); do
    grep -q "$1" "$log" && return
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.05
  done
}

# Starts the server with the tile cache off (every tile rendered), waits for it to serve.
started=$(date +%s%N)
start_server '[server]\nmax_limit = 10000\n\n[server.tiles]\ncache_mib = 0\n'
wait_log "serving http"
ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))
ready_cpu_ms=$(( $(cpu_ticks) * 1000 / $(getconf CLK_TCK) ))
# The server prepares the layer for tiles (pyramid, encoded values) on a thread of its own
# once it serves: the RSS after load is read when that is done.
wait_log "prepared for tiles"
prepared_ms=$(sed -n 's/.*prepared for tiles.*took_ms=\([0-9]*\).*/\1/p' "$log" | head -1)
# The allocator's background threads give the pages the load freed back to the system over
# its decay time (10 s): RSS is read 1 s after the preparation and once it has settled.
# Only the load and growth rows read it: the others do not wait.
sleep 1
rss_early=$(rss VmRSS)
if [[ " $ROWS " == *" load "* || " $ROWS " == *" growth "* ]]; then
  sleep "${SETTLE:-11}"
fi
rss_load=$(rss VmRSS)
row() { printf '| %-44s | %-60s | load %s |\n' "$1" "$2" "$(loadavg)"; }
echo "| row | figure | machine |"
echo "|---|---|---|"
[[ " $ROWS " == *" load "* ]] &&
  row "$POINTS points: load + index" "${ready_ms} ms to serving (CPU ${ready_cpu_ms} ms), prepared for tiles in ${prepared_ms:-?} ms more, RSS $rss_load MB (${rss_early} MB 1 s after preparing), peak $(rss VmHWM) MB"

# One wrk run: prints "rps p99_ms bytes_per_response errors server_cpu_us_per_request
# server_kernel_us_per_request wrk_cpu_us_per_request". The server's CPU time per request
# (from /proc) depends much less on other load than req/s; its kernel part (sending the
# bytes) and the CPU wrk itself takes (reading them) tell how many requests a second the
# machine's cores could answer were the server's own code free: nproc s / (kernel + wrk).
run() { # file [wrk args]
  local out times u0 s0 u1 s1
  times=$(mktemp)
  read -r u0 s0 <<<"$(cpu_split)"
  out=$( { TIMEFORMAT='%U %S'; time timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$CONNS" \
    -d"${DURATION}s" --timeout 8s "${@:2}" -s "$BENCH/paths.lua" "http://127.0.0.1:$PORT" -- "$1"; } \
    2>"$times" | grep '^RESULT' | sed 's/^RESULT //')
  read -r u1 s1 <<<"$(cpu_split)"
  python3 -c 'import json,sys
r = json.loads(sys.argv[1]); e = r["errors"]; n = max(r["requests"], 1)
u0, s0, u1, s1, hz = (int(a) for a in sys.argv[2:7])
wrk = sum(float(t) for t in sys.argv[7].split())
us = lambda seconds: seconds * 1e6 / n
print("%.0f %.1f %.0f %d %.0f %.0f %.0f" % (r["rps"], r["lat_ms"]["p99"], r["bytes"] / n,
      e["non2xx3xx"] + e["timeout"] + e["connect"] + e["read"],
      us((u1 - u0 + s1 - s0) / hz), us((s1 - s0) / hz), us(wrk)))' \
    "$out" "$u0" "$s0" "$u1" "$s1" "$(getconf CLK_TCK)" "$(tail -n 1 "$times")"
  rm -f "$times"
}
wrow() { # label file [wrk args]
  local r; read -r rps p99 bytes errs cpu kernel wrk <<<"$(run "${@:2}")"
  # The most requests a second the machine's cores allow with the server's own code free.
  local bound=$(( $(nproc) * 1000000 / (kernel + wrk > 0 ? kernel + wrk : 1) ))
  row "$1" "$rps req/s, p99 $p99 ms, $bytes B/resp, server CPU $cpu us/req (kernel $kernel), wrk CPU $wrk us/req (kernel + wrk allow $bound req/s), errors $errs"
}
[[ " $ROWS " == *" items "* ]] && wrow "items?bbox&limit=100" "$ITEMS"
[[ " $ROWS " == *" radius "* ]] && wrow "radius 50 km limit=100" "$RADIUS"
[[ " $ROWS " == *" nearest "* ]] && wrow "nearest limit=10" "$NEAREST"
if [[ " $ROWS " == *" compress "* ]]; then
  read -r g_rps _ g_bytes _ g_cpu _ <<<"$(run "$ITEMS1000" -H 'Accept-Encoding: gzip')"
  row "items limit=1000, gzip" "$g_rps req/s, $g_bytes B/resp, server CPU $g_cpu us/req"
  for enc in 'gzip, deflate, br, zstd' 'gzip, deflate, br' 'identity'; do
    read -r a_rps _ a_bytes _ a_cpu _ <<<"$(run "$ITEMS1000" -H "Accept-Encoding: $enc")"
    row "items limit=1000, $enc" "$a_rps req/s ($(python3 -c "print(round($a_rps/$g_rps,2))")x), $a_bytes B/resp ($(python3 -c "print(round($a_bytes/$g_bytes,3))")x), server CPU $a_cpu us/req"
  done
fi
[[ " $ROWS " == *" tiles "* ]] && wrow "tiles z6-10, cache off" "$TILES"
[[ " $ROWS " == *" z4 "* ]] && wrow "tile z4, cache off" "$Z4"
# A backlog: wrk stops after 3 s; the CPU the server uses 0.1 s .. 2.1 s later is work left
# running for clients that are gone.
backlog() { # label file
  timeout 20 wrk -t2 -c64 -d3s --timeout 8s -s "$BENCH/paths.lua" "http://127.0.0.1:$PORT" -- "$2" >/dev/null || true
  sleep 0.1
  local t0 t1 hz
  t0=$(cpu_ticks); sleep 2; t1=$(cpu_ticks)
  hz=$(getconf CLK_TCK)
  row "CPU busy after wrk stopped ($1)" "$(( (t1 - t0) * 1000 / hz )) ms of CPU in the 2 s from 100 ms after the disconnect"
}
if [[ " $ROWS " == *" disconnect "* ]]; then
  HEAVY="$SCRATCH/urls_radius_heavy.txt"
  [[ -s $HEAVY ]] || sed 's/within=50&/within=400\&/; s/limit=100/limit=1000/' "$RADIUS" >"$HEAVY"
  backlog "radius 400 km limit=1000 backlog" "$HEAVY"
  backlog "z4 tile backlog" "$Z4"
fi
[[ " $ROWS " == *" growth "* ]] &&
  row "RSS after the loads above" "$(rss VmRSS) MB (after load: $rss_load MB; peak $(rss VmHWM) MB)"
# Cached tiles: a second server with the default tile cache; the first 300 paths of the z6-10
# list are fetched once plain and once gzip-encoded (the cache keeps both), then replayed.
if [[ " $ROWS " == *" cached "* ]]; then
  cleanup
  CACHED="$SCRATCH/urls_tiles_300.txt"
  head -300 "$TILES" >"$CACHED"
  start_server '[server]\nmax_limit = 10000\n'
  wait_log "prepared for tiles"
  while read -r path; do
    curl -s -o /dev/null "http://127.0.0.1:$PORT$path"
    curl -s -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT$path"
  done <"$CACHED"
  wrow "tiles z6-10 cached (300), identity" "$CACHED"
  wrow "tiles z6-10 cached (300), gzip" "$CACHED" -H 'Accept-Encoding: gzip'
fi
