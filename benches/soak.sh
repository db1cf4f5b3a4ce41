#!/usr/bin/env bash
# Soak: SECONDS (default 600) of mixed load at 64 connections against the release binary with
# 1M generated points plus the default atlas (figures; exits 1 on any error or a leaked fd).
#
#   bash benches/soak.sh            # 10 minutes
#   bash benches/soak.sh 120        # 2 minutes
#   PORT=18120 POINTS=1000000 bash benches/soak.sh 600
#   TILE_CACHE_MIB=0 bash benches/soak.sh 180   # tile cache size (default: the server's)
#   WRITERS=0 bash benches/soak.sh 240          # no writes: the data stays the same size
#
# Data: POINTS points from ../shared/bench/gen_data.py (the shared benchmark data, cached in
# benches/data/), served as layer `points` with clustering on, next to every layer of
# geodata/atlas.toml; writes on (a token), no rate limit, a fresh data directory.
# Load, all at once for the whole run (wrk, one process per endpoint, 64 connections in all):
#   items 14 (bbox pages of 100 and 1,000, some sorted or with a datetime), radius 12,
#   nearest 12, tiles 12 (points; incidents+provinces), clusters 8, writes 6 (POST of new
#   incidents with the token, benches/write_post.lua), plus SSE_SLOTS (default 8)
#   subscribers to /collections/incidents/events that each stay 4 to 11 s and are replaced.
# Reports: errors per endpoint (socket errors and non-2xx; must be 0), RSS every 10 s and at
# 1, 5 and 10 minutes (also less the tile cache's weight from /health, a bounded cache), open file descriptors before and after (after: once keep-alive
# connections have closed and departed event streams were noticed, at most 45 s; must be
# equal), requests and p50/p99 per endpoint. Results:
# stdout and benches/data/soak-results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-600}
PORT=${PORT:-18120}
POINTS=${POINTS:-1000000}
SSE_SLOTS=${SSE_SLOTS:-8}
WRITERS=${WRITERS:-6}
DATA=benches/data
SHARED=${SHARED:-$(cd "$(dirname "$(git rev-parse --path-format=absolute --git-common-dir)")/../shared/bench" 2>/dev/null && pwd || true)}
[[ -f $SHARED/gen_data.py ]] || { echo "soak.sh: ../shared/bench/gen_data.py not found (set SHARED=DIR)" >&2; exit 1; }

bash scripts/install-deps.sh bench
echo "== build (release)"
cargo build --release --quiet --bin khorasan-atlas

mkdir -p "$DATA"
points=$DATA/shared_points_$POINTS.geojson
if [[ ! -s $points ]]; then
  echo "== generating $POINTS points (gen_data.py)"
  python3 "$SHARED/gen_data.py" "$POINTS" "$points.tmp" && mv "$points.tmp" "$points"
fi
python3 benches/soak_urls.py "$DATA" points 20000

WORK=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")
source benches/support/server.sh
PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  cleanup
  rm -rf "$WORK"
}
trap stop_all EXIT INT TERM

GEO="$PWD/geodata"
sed -e "s|^file = \"|file = \"$GEO/|" \
    -e "s|^\[server\]|[server]\nwrite_rate_per_minute = 0|" \
    -e "s|^listen = .*|listen = \"127.0.0.1:$PORT\"|" \
    geodata/atlas.toml > "$WORK/atlas.toml"
# Every subscriber comes from 127.0.0.1 here: the per-address cap on event streams (16) is
# raised so that they stand for many clients. A stream whose client closed its connection frees
# its slot at once; one whose client vanished without closing is found at the next keep-alive
# comment (every 15 s).
cat >> "$WORK/atlas.toml" <<TOML

[server.limits]
max_event_streams_per_client = 256
${TILE_CACHE_MIB:+
[server.tiles]
cache_mib = $TILE_CACHE_MIB}

[[layers]]
id = "points"
title = "Generated points"
file = "$PWD/$points"
time_property = "date"

[layers.tiles.cluster]
enabled = true
radius = 40
max_zoom = 9
sum = ["deaths"]
TOML

export WRITE_TOKEN="soak-$RANDOM$RANDOM"
BASE="http://127.0.0.1:$PORT"
KHORASAN_WRITE_TOKEN="$WRITE_TOKEN" RUST_LOG=${RUST_LOG:-warn} ./target/release/khorasan-atlas \
  --config "$WORK/atlas.toml" --data-dir "$WORK/data" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_ready "$BASE/health" "$WORK/server.log" 120

# The tile cache's weight in MB (/health), 0 when it is off: bounded by server.tiles.cache_mib.
cache_mb() {
  curl -sf --max-time 5 "$BASE/health" | python3 -c '
import json, sys
print(round(json.load(sys.stdin).get("tile_cache", {}).get("weight_bytes", 0) / 1048576))' || echo "?"
}
fds() { find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
# What each open fd is (sockets and pipes by kind, files by path), for the report on a leak.
fd_kinds() {
  for f in "/proc/$SERVER_PID/fd"/*; do readlink "$f" 2>/dev/null || true; done \
    | sed -E 's/:\[[0-9]+\]$//' | sort | uniq -c
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# Warm-up: one pass over a few paths of each list, so that the first minute is not a cold start.
for ep in items radius nearest tiles clusters; do
  head -20 "$DATA/soak_$ep.txt" | while read -r p; do curl -s -o /dev/null "$BASE$p"; done
done
# One write, so that the store's files are open before fds are counted.
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $WRITE_TOKEN" \
  -H 'Content-Type: application/geo+json' "$BASE/collections/incidents/items" \
  -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[69.2,34.5]},"properties":{"date":"2026-01-01","title":"soak warm-up","deaths":0,"sources":["https://example.org/soak"]}}' \
  || { echo "the warm-up write failed" >&2; exit 1; }
sleep 6 # keep-alive (5 s) closes the warm-up connections
fds_before=$(fds)
fd_kinds >"$WORK/fds_before"
rss_start=$(rss)
echo "== soak: $DURATION s, $POINTS points + default atlas, 64 connections + $SSE_SLOTS SSE subscribers; RSS $rss_start MB, $fds_before fds, load average $(loadavg)"

# wrk per endpoint: NAME CONNECTIONS.
declare -A CONNS=([items]=14 [radius]=12 [nearest]=12 [tiles]=12 [clusters]=8)
for ep in "${!CONNS[@]}"; do
  wrk -t1 -c"${CONNS[$ep]}" -d"${DURATION}s" --timeout 10s -s benches/urls.lua "$BASE" \
    -- "$DATA/soak_$ep.txt" >"$WORK/wrk_$ep.txt" 2>&1 &
  PIDS+=($!)
done
if ((WRITERS > 0)); then
  RUN_ID=$RANDOM wrk -t1 -c"$WRITERS" -d"${DURATION}s" --timeout 10s -s benches/write_post.lua "$BASE/" \
    >"$WORK/wrk_writes.txt" 2>&1 &
  PIDS+=($!)
else
  echo "writes: 0 created (201), 0 other statuses, 0 socket errors" >"$WORK/wrk_writes.txt"
fi

# SSE subscribers coming and going: each slot opens a stream for 4 to 11 s, then another. A
# subscription is good when its response head says 200 (curl's --max-time then ends it).
sse_slot() {
  local slot=$1 end=$((SECONDS + DURATION)) i=0 rc head=$WORK/sse_${slot}_head
  while ((SECONDS < end)); do
    i=$((i + 1))
    rc=0
    : >"$head"
    curl -sS -N --max-time $((4 + (slot + i) % 8)) -D "$head" -o "$WORK/sse_${slot}_body" \
      "$BASE/collections/incidents/events" 2>>"$WORK/sse_errors" || rc=$?
    # 28: --max-time ended the stream, which is how a subscriber leaves.
    if head -1 "$head" | grep -q '^HTTP/1.1 200' && ((rc == 0 || rc == 28)); then
      echo "ok $(grep -c '^data:' "$WORK/sse_${slot}_body" || true)" >>"$WORK/sse_$slot"
    else
      echo "error status='$(head -1 "$head" | tr -d '\r')' rc=$rc" >>"$WORK/sse_$slot"
    fi
  done
}
for slot in $(seq 1 "$SSE_SLOTS"); do
  sse_slot "$slot" &
  PIDS+=($!)
done

# RSS every 10 s.
started=$SECONDS
: >"$WORK/rss"
while ((SECONDS - started < DURATION)); do
  sleep 10
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server died" >&2; tail -20 "$WORK/server.log" >&2; exit 1; }
  echo "$((SECONDS - started)) $(rss) $(cache_mb)" >>"$WORK/rss"
done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
PIDS=()
rss_end=$(rss)
# Keep-alive (5 s) closes the load's connections; an event stream whose client left is
# noticed at its next keep-alive comment (every 15 s) or the one after. Wait for that.
settle=0
while ((settle < 45)) && (($(fds) > fds_before)); do sleep 1; settle=$((settle + 1)); done
fds_after=$(fds)
fd_kinds >"$WORK/fds_after"

results=$DATA/soak-results.txt
rss_at() { awk -v t="$1" '$1 >= t { print $2; exit }' "$WORK/rss"; }
# RSS less the tile cache's weight at that time.
rest_at() { awk -v t="$1" '$1 >= t { print ($3 == "?" ? "?" : $2 - $3); exit }' "$WORK/rss"; }
errors=0
{
  echo "# soak.sh $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo +dirty); $(nproc) cores, load average $(loadavg)"
  echo "duration_s=$DURATION points=$POINTS connections=64 sse_slots=$SSE_SLOTS"
  for ep in items radius nearest tiles clusters; do
    r=$(sed -n 's/^RESULT //p' "$WORK/wrk_$ep.txt")
    [[ -n $r ]] || { echo "endpoint=$ep wrk failed: $(tail -3 "$WORK/wrk_$ep.txt")"; errors=$((errors + 1)); continue; }
    echo "endpoint=$ep $r"
    grep -E '^ +(Socket errors|Non-2xx)' "$WORK/wrk_$ep.txt" | sed "s/^ */endpoint=$ep /" || true
    e=$(sed -n 's/.*non2xx=\([0-9]*\) errors=\([0-9]*\).*/\1 \2/p' <<<"$r")
    errors=$((errors + ${e% *} + ${e#* }))
  done
  created=$(sed -n 's/^writes: \([0-9]*\) created.*/\1/p' "$WORK/wrk_writes.txt")
  other=$(sed -n 's/^writes: [0-9]* created (201), \([0-9]*\) other.*/\1/p' "$WORK/wrk_writes.txt")
  sock=$(sed -n 's/.*statuses, \([0-9]*\) socket errors.*/\1/p' "$WORK/wrk_writes.txt")
  lat=$(sed -n 's/^latency ms: //p' "$WORK/wrk_writes.txt")
  echo "endpoint=writes created=${created:-?} other_status=${other:-?} socket_errors=${sock:-?} latency_ms: ${lat:-?}"
  errors=$((errors + ${other:-1} + ${sock:-1}))
  sse_ok=$(cat "$WORK"/sse_[0-9]* | grep -c '^ok' || true)
  sse_err=$(cat "$WORK"/sse_[0-9]* | grep -c '^error' || true)
  sse_events=$(cat "$WORK"/sse_[0-9]* | awk '$1 == "ok" { n += $2 } END { print n + 0 }')
  echo "endpoint=events subscriptions=$sse_ok errors=$sse_err events_received=$sse_events"
  cat "$WORK"/sse_[0-9]* | grep '^error' | sort | uniq -c | sed 's/^/events /' || true
  sed 's/^/events curl: /' "$WORK/sse_errors" | sort | uniq -c | head -5 || true
  errors=$((errors + sse_err))
  echo "rss_mb start=$rss_start 1min=$(rss_at 60) 5min=$(rss_at 300) 10min=$(rss_at 600) end=$rss_end peak=$(rss VmHWM)"
  echo "rss_mb_every_10s $(awk '{ printf "%s:%s ", $1, $2 }' "$WORK/rss")"
  echo "tile_cache_mb 1min=$(awk '$1 >= 60 { print $3; exit }' "$WORK/rss") 5min=$(awk '$1 >= 300 { print $3; exit }' "$WORK/rss") 10min=$(awk '$1 >= 600 { print $3; exit }' "$WORK/rss") end=$(awk 'END { print $3 }' "$WORK/rss")"
  echo "rss_less_tile_cache_mb start=$rss_start 1min=$(rest_at 60) 5min=$(rest_at 300) 10min=$(rest_at 600) end=$(awk 'END { print ($3 == "?" ? "?" : $2 - $3) }' "$WORK/rss")"
  echo "fds before=$fds_before after=$fds_after (${settle} s after the load stopped)"
  diff "$WORK/fds_before" "$WORK/fds_after" | sed -n 's/^\([<>]\)/fds_diff \1/p' || true
  warnings=$(grep -cE 'WARN|ERROR' "$WORK/server.log" || true)
  echo "server_log warnings_and_errors=$warnings"
  grep -E 'WARN|ERROR' "$WORK/server.log" | sed 's/\x1b\[[0-9;]*m//g' | cut -c1-200 | sort | uniq -c | sort -rn | head -5 | sed 's/^/server_log /' || true
  echo "errors=$errors"
} | tee "$results"
errors=$(sed -n 's/^errors=//p' "$results")
((errors == 0)) || { echo "soak: $errors errors" >&2; exit 1; }
((fds_after == fds_before)) || { echo "soak: open fds $fds_before -> $fds_after" >&2; exit 1; }
echo "soak: passed"
