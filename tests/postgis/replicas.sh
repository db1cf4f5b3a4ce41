#!/usr/bin/env bash
# Replicas on one PostgreSQL store: two real servers (A and B) with `--store` on a throwaway
# cluster (tests/support/pg_cluster.sh), checked by tests/postgis/replicas.py: writes on A
# visible on B within 1 s (items, feature, radius, tile, SSE event), If-Match and
# Idempotency-Key across servers, SIGKILL of A during concurrent writers, PostgreSQL stopped
# and started in the middle of writes, and both servers identical at the end. First the
# store's own round trip against the cluster (cargo test --release --lib store::postgres, in
# the release profile `make test` has built the tests in). About a minute; bounded by
# timeouts. Python standard library only.
#
# SKIP_BUILD=1 reuses target/release/khorasan-atlas. Ports: REPLICA_PORT_A/B (default
# 18300/18301) for the servers, PG_PORT for the cluster (default: the first free port from 18150).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
source tests/support/pg_cluster.sh

export WORK
WORK=$(mktemp -d)
cleanup() {
  stop_pg_cluster
  rm -rf "$WORK"
}
trap cleanup EXIT
start_pg_cluster
trap cleanup EXIT

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cargo build --release --quiet --bin khorasan-atlas
fi
echo "== the store's round trip through PostgreSQL"
ATLAS_TEST_PG_URL=$PG_URL timeout 600 cargo test --release --quiet --lib store::postgres 2>&1 |
  grep -E "test result|panicked|FAILED"

# The default atlas reduced to incidents and provinces (with their join), no rate limit.
python3 - "$WORK/atlas.toml" <<'PY'
import os, sys, tomllib
with open("geodata/atlas.toml", "rb") as f:
    cfg = tomllib.load(f)
lines = ["[server]", "write_rate_per_minute = 0"]
def value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
    return repr(v)
for layer in cfg["layers"]:
    if layer["id"] not in ("incidents", "provinces"):
        continue
    layer = dict(layer, file=os.path.join(os.getcwd(), "geodata", layer["file"]))
    head = ["[[layers]]"] + [f"{k} = {value(v)}" for k, v in layer.items() if not isinstance(v, dict)]
    lines += head
    for k, v in layer.items():
        if isinstance(v, dict):
            lines.append(f"[layers.{k}]")
            lines += [f"{kk} = {value(vv)}" for kk, vv in v.items()]
for join in cfg.get("joins", []):
    if join["polygons"] == "provinces":
        lines.append("[[joins]]")
        lines += [f"{k} = {value(v)}" for k, v in join.items()]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY

echo "== two servers on one store"
ATLAS_BIN=${ATLAS_BIN:-$ROOT/target/release/khorasan-atlas} ATLAS_CONFIG=$WORK/atlas.toml \
  PORT_A=${REPLICA_PORT_A:-18300} PORT_B=${REPLICA_PORT_B:-18301} \
  timeout 300 python3 tests/postgis/replicas.py "${1:-all}" "${@:2}" || {
  status=$?
  for log in "$WORK"/server-*.log; do
    echo "--- $log (last lines)" >&2
    tail -20 "$log" >&2
  done
  exit "$status"
}
