#!/usr/bin/env bash
# Costs of CQL2 filters on 1M generated points (figures, not pass/fail), next to the same
# selection made without CQL2 (bbox, equality parameter).
#
#   bash benches/cql2_load.sh           # 1M points
#   N=100000 DUR=5 PORT=18332 SKIP_BUILD=1 bash benches/cql2_load.sh
#
# Generates benches/data/cql2_points_<N>.geojson with ../shared/bench/gen_data.py (or
# $GEN_DATA; the bench kit beside the repository, $BENCH) if missing, serves it as layer `points` from the release binary, then for each
# query writes REQS request paths (each with a different box or value, limit=100), checks
# that the first answers 200, and replays them with wrk ($BENCH/paths.lua,
# -t2 -c$CONNS for $DUR seconds): req/s, p50/p90/p99 latency and the median numberMatched,
# with the load average of the shared machine before and after.
# Environment: N, REQS (default 300), DUR (seconds per query, default 10), CONNS (default 8),
# PORT, SKIP_BUILD=1 (use the existing release binary).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
REQS=${REQS:-300}
DUR=${DUR:-10}
CONNS=${CONNS:-8}
BENCH=${BENCH:-../shared/bench}
PATHS_LUA=${PATHS_LUA:-$BENCH/paths.lua}
PORT=${PORT:-18332}
GEN_DATA=${GEN_DATA:-$BENCH/gen_data.py}
DATA=benches/data
FILE=$DATA/cql2_points_$N.geojson
mkdir -p "$DATA"
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet --bin khorasan-atlas
[ -s "$FILE" ] || timeout 900 python3 "$GEN_DATA" "$N" "$FILE"

source benches/support/server.sh
LOG=$(mktemp)
WORK=$(mktemp -d)
trap 'cleanup; rm -rf "$LOG" "$WORK"' EXIT
NO_COLOR=1 "${ATLAS_BIN:-target/release/khorasan-atlas}" --layer "points=$FILE" --listen "127.0.0.1:$PORT" >"$LOG" 2>&1 &
SERVER_PID=$!
wait_ready "http://127.0.0.1:$PORT/health" "$LOG" 120

timeout 1800 python3 - "http://127.0.0.1:$PORT" "$REQS" "$N" "$DUR" "$CONNS" "$PATHS_LUA" "$WORK" <<'PY'
import json, random, statistics, subprocess, sys, urllib.parse, urllib.request

base, reqs, n, dur, conns, lua, work = sys.argv[1:8]
reqs = int(reqs)
rng = random.Random(7)

def boxes():
    lon, lat = rng.uniform(60, 74.5), rng.uniform(24, 37.5)
    return lon, lat, lon + 0.5, lat + 0.5

queries = {
    "bbox= (no CQL2)": lambda: {"bbox": "%.3f,%.3f,%.3f,%.3f" % boxes()},
    "S_INTERSECTS(geometry, BBOX)": lambda: {"filter": "S_INTERSECTS(geometry, BBOX(%.3f, %.3f, %.3f, %.3f))" % boxes()},
    "S_INTERSECTS(geometry, POLYGON)": lambda: {"filter": "S_INTERSECTS(geometry, POLYGON((%.3f %.3f, %.3f %.3f, %.3f %.3f, %.3f %.3f, %.3f %.3f)))" % (lambda b: (b[0], b[1], b[2], b[1], b[2], b[3], b[0], b[3], b[0], b[1]))(boxes())},
    "S_INTERSECTS(...) AND deaths > 5": lambda: {"filter": "S_INTERSECTS(geometry, BBOX(%.3f, %.3f, %.3f, %.3f)) AND deaths > 5" % boxes()},
    "category= (no CQL2)": lambda: {"category": rng.choice(["riot", "protest"])},
    "category = '...'": lambda: {"filter": "category = '%s'" % rng.choice(["riot", "protest"])},
    "deaths > k": lambda: {"filter": "deaths > %d" % rng.randint(5, 20)},
    "name LIKE 'Ka%'": lambda: {"filter": "name LIKE '%s%%'" % rng.choice(["Ka", "Bul", "Her", "Pesh"])},
    "CASEI(name) LIKE '%dar%'": lambda: {"filter": "CASEI(name) LIKE CASEI('%%%s%%')" % rng.choice(["dar", "kan", "zar"])},
}

def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])

print(f"# {n} points, limit=100, wrk -t2 -c{conns} -d{dur}s per query over {reqs} paths, load average {load()}")
for name, make in queries.items():
    paths = []
    for _ in range(reqs):
        q = make(); q["limit"] = "100"
        paths.append(f"/collections/points/items?{urllib.parse.urlencode(q)}")
    matched = []
    for p in paths[:10]:
        with urllib.request.urlopen(base + p, timeout=120) as r:
            matched.append(json.load(r)["numberMatched"])
    file = f"{work}/paths.txt"
    with open(file, "w") as f:
        f.write("\n".join(paths) + "\n")
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{dur}s", "--latency", "-s", lua, base, "--", file],
                         capture_output=True, text=True, timeout=int(dur) + 120).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT "))
    r = json.loads(line[len("RESULT "):])
    errors = sum(r["errors"].values())
    lat = r["lat_ms"]
    print(f"{name:34} {r['rps']:8.1f} req/s  p50 {lat['p50']:8.2f} ms  p90 {lat['p90']:8.2f} ms  p99 {lat['p99']:8.2f} ms  matched ~{int(statistics.median(matched))}  errors {errors}")
print(f"# load average after: {load()}")
PY
