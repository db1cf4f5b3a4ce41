#!/usr/bin/env bash
# Costs of CQL2 filters on 1M generated points (figures, not pass/fail), next to the same
# selection made without CQL2 (bbox, equality parameter).
#
#   bash benches/cql2_load.sh           # 1M points
#   N=100000 REQS=200 PORT=18332 SKIP_BUILD=1 bash benches/cql2_load.sh
#
# Generates benches/data/cql2_points_<N>.geojson with /work/shared/bench/gen_data.py (or
# $GEN_DATA) if missing, serves it as layer `points` from the release binary, then sends
# REQS sequential requests per query (each with a different box or value, limit=100) and
# prints the median and p90 latency from curl's time_total, with the load average of the
# shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
REQS=${REQS:-200}
PORT=${PORT:-18332}
GEN_DATA=${GEN_DATA:-/work/shared/bench/gen_data.py}
DATA=benches/data
FILE=$DATA/cql2_points_$N.geojson
mkdir -p "$DATA"
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet --bin khorasan-atlas
[ -s "$FILE" ] || timeout 900 python3 "$GEN_DATA" "$N" "$FILE"

LOG=$(mktemp)
NO_COLOR=1 target/release/khorasan-atlas --layer "points=$FILE" --listen "127.0.0.1:$PORT" >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 1200); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
  kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.1
done

timeout 1800 python3 - "http://127.0.0.1:$PORT" "$REQS" "$N" <<'PY'
import json, random, statistics, subprocess, sys, urllib.parse

base, reqs, n = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(7)

def boxes():
    lon, lat = rng.uniform(60, 74.5), rng.uniform(24, 37.5)
    return lon, lat, lon + 0.5, lat + 0.5

queries = {
    "bbox= (no CQL2)": lambda: {"bbox": "%.3f,%.3f,%.3f,%.3f" % boxes()},
    "S_INTERSECTS(geometry, BBOX)": lambda: {"filter": "S_INTERSECTS(geometry, BBOX(%.3f, %.3f, %.3f, %.3f))" % boxes()},
    "S_INTERSECTS(...) AND deaths > 5": lambda: {"filter": "S_INTERSECTS(geometry, BBOX(%.3f, %.3f, %.3f, %.3f)) AND deaths > 5" % boxes()},
    "category= (no CQL2)": lambda: {"category": rng.choice(["riot", "protest"])},
    "category = '...'": lambda: {"filter": "category = '%s'" % rng.choice(["riot", "protest"])},
    "deaths > k": lambda: {"filter": "deaths > %d" % rng.randint(5, 20)},
    "name LIKE 'Ka%'": lambda: {"filter": "name LIKE '%s%%'" % rng.choice(["Ka", "Bul", "Her", "Pesh"])},
    "CASEI(name) LIKE '%dar%'": lambda: {"filter": "CASEI(name) LIKE CASEI('%%%s%%')" % rng.choice(["dar", "kan", "zar"])},
}
with open("/proc/loadavg") as f:
    print(f"# {n} points, {reqs} sequential requests per query (limit=100), load average {' '.join(f.read().split()[:3])}")
for name, make in queries.items():
    times, matched = [], []
    for _ in range(reqs):
        q = make(); q["limit"] = "100"
        url = f"{base}/collections/points/items?{urllib.parse.urlencode(q)}"
        out = subprocess.run(["curl", "-s", "-o", "/dev/stdout", "-w", "\n%{http_code} %{time_total}", url],
                             capture_output=True, text=True, timeout=120).stdout
        body, _, tail = out.rpartition("\n")
        code, t = tail.split()
        if code != "200":
            sys.exit(f"{name}: HTTP {code} {body[:200]}")
        times.append(float(t) * 1000)
        matched.append(json.loads(body)["numberMatched"])
    times.sort()
    print(f"{name:36} median {statistics.median(times):8.2f} ms  p90 {times[int(len(times) * 0.9)]:8.2f} ms  matched ~{int(statistics.median(matched))}")
with open("/proc/loadavg") as f:
    print(f"# load average after: {' '.join(f.read().split()[:3])}")
PY
