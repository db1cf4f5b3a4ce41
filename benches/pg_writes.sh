#!/usr/bin/env bash
# Writes on the PostgreSQL store against the SQLite store, and replica propagation (figures,
# not pass/fail).
#
#   bash benches/pg_writes.sh                  # 8 writers, 20 s each, 200 propagation writes
#   CONNS=8 DURATION=30 WRITES=500 bash benches/pg_writes.sh
#
# 1. SQLite: one server, CONNS concurrent writers (wrk with benches/write_post.lua: each
#    request creates an incident with its own Idempotency-Key), as benches/write_load.sh.
# 2. PostgreSQL: the same load on one server with --store, on a throwaway cluster with fsync
#    on (PG_FSYNC=on; both stores then wait for the disk before acknowledging).
# 3. PostgreSQL, two replicas: CONNS/2 writers on each at once.
# 4. Propagation: WRITES writes on replica A, one at a time; for each, the delay from A's
#    answer until B lists the feature (polling every 5 ms) and until B's SSE stream carries
#    its event (tests/postgis/replicas.py bench).
# Prints writes/s, p50/p99 latency and the load average (the machine is shared). Ports
# 18320-18323, cluster on PG_PORT (default 18360).
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/pg_cluster.sh

CONNS=${CONNS:-8}
DURATION=${DURATION:-20}
WRITES=${WRITES:-200}
command -v wrk >/dev/null || { echo "pg_writes.sh: wrk is needed (apt-get install -y wrk)" >&2; exit 1; }

export WORK
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  stop_pg_cluster
  rm -rf "$WORK"
}
trap cleanup EXIT
export PG_PORT=${PG_PORT:-18360} PG_FSYNC=on
start_pg_cluster
trap cleanup EXIT

echo "== build (release)"
cargo build --release --quiet --bin khorasan-atlas
BIN=$PWD/target/release/khorasan-atlas

GEO="$PWD/geodata"
sed -e "s|^file = \"|file = \"$GEO/|" -e "s|^\[server\]|[server]\nwrite_rate_per_minute = 0|" \
  -e "/^listen = /d" geodata/atlas.toml >"$WORK/atlas.toml"

export WRITE_TOKEN="bench-$RANDOM$RANDOM"
start() { # PORT ARGS...
  local port=$1
  shift
  KHORASAN_WRITE_TOKEN="$WRITE_TOKEN" RUST_LOG=warn "$BIN" --config "$WORK/atlas.toml" \
    --listen "127.0.0.1:$port" "$@" >>"$WORK/server-$port.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0
    sleep 0.1
  done
  cat "$WORK/server-$port.log" >&2
  exit 1
}
stop_all() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
load() { # PORT CONNS
  RUN_ID=$RANDOM wrk -t1 -c"$2" -d"${DURATION}s" --timeout 10s -s benches/write_post.lua \
    "http://127.0.0.1:$1/" | grep -E "writes:|throughput|latency ms"
}

echo "== SQLite, $CONNS writers, $DURATION s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
start 18320 --data-dir "$WORK/sqlite"
load 18320 "$CONNS"
stop_all

echo "== PostgreSQL (fsync on), $CONNS writers on one server, $DURATION s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
start 18320 --data-dir "$WORK/a" --store "$PG_URL"
load 18320 "$CONNS"

echo "== PostgreSQL, two replicas, $((CONNS / 2)) writers on each, $DURATION s"
start 18321 --data-dir "$WORK/b" --store "$PG_URL"
load 18320 $((CONNS / 2)) | sed 's/^/A: /' &
load 18321 $((CONNS / 2)) | sed 's/^/B: /'
wait %1 2>/dev/null || true
count() { curl -sf "http://127.0.0.1:$1/collections/incidents/items?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["numberMatched"])'; }
sleep 1
echo "features on A: $(count 18320), on B: $(count 18321)"
stop_all

echo "== propagation A -> B: $WRITES writes, one at a time (load average $(cut -d' ' -f1-3 /proc/loadavg))"
ATLAS_BIN=$BIN ATLAS_CONFIG=$WORK/atlas.toml PORT_A=18322 PORT_B=18323 \
  python3 tests/postgis/replicas.py bench "$WRITES"
