#!/usr/bin/env bash
# Write throughput and latency on loopback (figures, not pass/fail).
#
#   bash benches/write_load.sh                 # 8 concurrent writers, 20 s, default atlas
#   CONNS=8 DURATION=30 PORT=18480 bash benches/write_load.sh
#   LAYERS=small bash benches/write_load.sh    # incidents + provinces only
#
# Starts target/release/khorasan-atlas on the default atlas (geodata/atlas.toml, joins
# included: every write re-runs the point-in-province and point-in-country joins of the
# incidents) with a fresh data directory, writes on (a token) and the rate limit off, then
# runs wrk with CONNS connections (= concurrent writers), each sending POSTs that create
# one incident each (benches/write_post.lua). Every 201 was committed to SQLite (WAL,
# synchronous=FULL) before it was sent. Prints throughput, p50/p90/p99 latency, the load
# average (the machine is shared), and checks that the layer grew by the number of 201s.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS=${CONNS:-8}
THREADS=${THREADS:-2}
DURATION=${DURATION:-20}
PORT=${PORT:-18480}
LAYERS=${LAYERS:-all}
command -v wrk >/dev/null || { echo "write_load.sh: wrk is needed (apt-get install -y wrk)" >&2; exit 1; }

echo "== build (release)"
cargo build --release --quiet --bin khorasan-atlas

source benches/support/server.sh
WORK=$(mktemp -d)
trap 'cleanup; rm -rf "$WORK"' EXIT

# The default atlas with absolute layer paths and no rate limit.
GEO="$PWD/geodata"
sed -e "s|^file = \"|file = \"$GEO/|" \
    -e "s|^\[server\]|[server]\nwrite_rate_per_minute = 0|" \
    -e "s|^listen = .*|listen = \"127.0.0.1:$PORT\"|" \
    geodata/atlas.toml > "$WORK/atlas.toml"
if [[ "$LAYERS" == small ]]; then
  python3 - "$WORK/atlas.toml" <<'PY'
import re, sys
p = sys.argv[1]
text = open(p).read()
blocks = re.split(r'(?m)^(?=\[\[(?:layers|joins)\]\])', text)
keep = [b for b in blocks if not b.startswith('[[') or 'id = "incidents"' in b
        or 'id = "provinces"' in b or ('[[joins]]' in b and 'polygons = "provinces"' in b)]
open(p, 'w').write(''.join(keep))
PY
fi

export WRITE_TOKEN="load-$RANDOM$RANDOM"
KHORASAN_WRITE_TOKEN="$WRITE_TOKEN" RUST_LOG=${RUST_LOG:-warn} ./target/release/khorasan-atlas \
  --config "$WORK/atlas.toml" --data-dir "$WORK/data" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_ready "http://127.0.0.1:$PORT/health" "$WORK/server.log" 30

count() { curl -sf "http://127.0.0.1:$PORT/collections/incidents/items?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["numberMatched"])'; }
before=$(count)
echo "== $CONNS concurrent writers, $DURATION s, layers: $LAYERS, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
RUN_ID=$RANDOM wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s -s benches/write_post.lua \
  "http://127.0.0.1:$PORT/" | tee "$WORK/wrk.txt"
after=$(count)
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
created=$(sed -n 's/^writes: \([0-9]*\) created.*/\1/p' "$WORK/wrk.txt")
echo "features: $before -> $after (+$((after - before))); 201 responses: $created"
# wrk stops counting at the deadline: the last requests in flight may be committed unseen.
(( after - before >= created && after - before <= created + CONNS )) || { echo "MISMATCH: the layer grew by $((after - before)), not by the $created 201s (+ at most $CONNS in flight)" >&2; exit 1; }
echo "store: $(du -sh "$WORK/data" | cut -f1) in $WORK/data"
