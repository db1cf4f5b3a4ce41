#!/usr/bin/env bash
# Writes on a 1M-point writable layer: 8 concurrent writers creating and replacing points
# (figures, not pass/fail).
#
#   BENCH=../shared/bench bash benches/write_1m.sh
#   POINTS=1000000 CONNS=8 DURATION=20 REPLACE=0.5 PORT=18500 bash benches/write_1m.sh
#   KEEP=1 bash benches/write_1m.sh     # keeps the config and the store (path printed at the end)
#
# Makes the points of $BENCH/gen_data.py once (under SCRATCH, default benches/data/dense),
# starts target/release/khorasan-atlas with them as one writable layer `points` (no write
# rules, no joins, rate limit off, a fresh SQLite store: WAL, synchronous=FULL, so every
# acknowledged write is on disk), then runs wrk with CONNS connections (= concurrent
# writers), each sending POSTs that create a point and PUTs that replace a random one of the
# first POINTS (share REPLACE; benches/write_1m.lua). Prints acknowledged writes/s,
# p50/p90/p99 latency, RSS after load, at the end of the writes and SETTLE s (12) later, the load average, where the time
# of a batch goes (building the snapshots against the store's commit, from the writer's debug
# log), and checks that the layer grew by the number of 201s. Then restarts the server on the
# same store and prints the time to /health, the RSS once settled and the peak.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH=${BENCH:-../shared/bench}
[[ -d $BENCH ]] || { echo "write_1m.sh: no bench kit at $BENCH (set BENCH)" >&2; exit 2; }
SCRATCH=${SCRATCH:-benches/data/dense}
POINTS=${POINTS:-1000000}
CONNS=${CONNS:-8}
THREADS=${THREADS:-2}
DURATION=${DURATION:-20}
REPLACE=${REPLACE:-0.5}
PORT=${PORT:-18500}
BIN=${BIN:-target/release/khorasan-atlas}
command -v wrk >/dev/null || { echo "write_1m.sh: wrk is needed (apt-get install -y wrk)" >&2; exit 1; }
[[ -x $BIN ]] || cargo build --release --quiet --bin khorasan-atlas

mkdir -p "$SCRATCH"
data="$SCRATCH/points_$POINTS.geojson"
[[ -s $data ]] || python3 "$BENCH/gen_data.py" "$POINTS" "$data"

source benches/support/server.sh
WORK=$(mktemp -d "$SCRATCH/write_1m.XXXXXX")
if [[ -n ${KEEP:-} ]]; then trap 'cleanup; echo "== kept: $WORK"' EXIT; else trap 'cleanup; rm -rf "$WORK"' EXIT; fi

cat >"$WORK/atlas.toml" <<TOML
[server]
listen = "127.0.0.1:$PORT"
write_rate_per_minute = 0

[[layers]]
id = "points"
file = "$(realpath "$data")"
writable = true
TOML
export WRITE_TOKEN="load-$RANDOM$RANDOM"
log="$WORK/server.log"
start_server() { # starts the server on the layer and its store (SERVER_PID, READY_MS to /health)
  local started; started=$(date +%s%N)
  KHORASAN_WRITE_TOKEN="$WRITE_TOKEN" RUST_LOG=${RUST_LOG:-warn,khorasan_atlas::store=debug} NO_COLOR=1 "$BIN" \
    --config "$WORK/atlas.toml" --data-dir "$WORK/data" >>"$log" 2>&1 &
  SERVER_PID=$!
  wait_ready "http://127.0.0.1:$PORT/health" "$log" 60
  READY_MS=$(( ($(date +%s%N) - started) / 1000000 ))
}
start_server
count() { curl -sf "http://127.0.0.1:$PORT/collections/points/items?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["numberMatched"])'; }
before=$(count)
rss_before=$(rss)
echo "== $POINTS points, $CONNS concurrent writers, $DURATION s, replace share $REPLACE"
echo "== RSS after load: $rss_before MB; load average before: $(loadavg)"
N=$POINTS REPLACE=$REPLACE timeout $((DURATION + 60)) wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" \
  --timeout 10s -s benches/write_1m.lua "http://127.0.0.1:$PORT/" | tee "$WORK/wrk.txt"
echo "== load average after: $(loadavg)"
after=$(count)
rss_end=$(rss)
sleep "${SETTLE:-12}" # the allocator gives freed pages back over its decay time (10 s)
echo "== RSS after the writes: $rss_end MB, ${SETTLE:-12} s later $(rss) MB (after load: $rss_before MB)"
# Where a batch's time goes (the writer's debug lines): building the new snapshots (features,
# index, joins) against committing to the store (fsync).
python3 - "$log" <<'PY'
import re, sys
rows = [tuple(map(int, m.groups())) for m in
        (re.search(r"writes=(\d+) build_us=(\d+) commit_us=(\d+)", l) for l in open(sys.argv[1])) if m]
if rows:
    def pct(v, p):
        v = sorted(v)
        return v[min(len(v) - 1, len(v) * p // 100)]
    print("batches: %d, %.1f writes each on average" % (len(rows), sum(r[0] for r in rows) / len(rows)))
    for i, name in ((1, "build"), (2, "commit")):
        v = [r[i] / 1000 for r in rows]
        print("%s ms per batch: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f" % (name, pct(v, 50), pct(v, 90), pct(v, 99), max(v)))
    print("index re-packs adopted: %d" % sum("re-pack adopted" in l for l in open(sys.argv[1])))
PY
created=$(sed -n 's/^writes: \([0-9]*\) created.*/\1/p' "$WORK/wrk.txt")
echo "features: $before -> $after (+$((after - before))); 201 responses: $created"
# wrk stops counting at the deadline: the last requests in flight may be committed unseen.
(( after - before >= created && after - before <= created + CONNS )) || {
  echo "MISMATCH: the layer grew by $((after - before)), not by the $created 201s (+ at most $CONNS in flight)" >&2
  exit 1
}
# A restart on the same store: every stored change is read and merged into the shipped layer
# before the server serves. RSS is read once the allocator has given back what the merge
# freed (its decay time is 10 s).
cleanup
stored=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM features").fetchone()[0])' "$WORK/data/atlas.sqlite" 2>/dev/null || echo "?")
start_server
sleep 12
restarted=$(count)
echo "== restart on the store ($stored stored features): ${READY_MS} ms to /health, RSS $(rss) MB 12 s later, peak $(rss VmHWM) MB; features $restarted"
(( restarted == after )) || { echo "MISMATCH: $restarted features after the restart, $after before it" >&2; exit 1; }
