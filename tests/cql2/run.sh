#!/usr/bin/env bash
# CQL2 filters against an independent evaluation: expected.py (Python + shapely, from a
# pinned venv under tests/cql2/.venv, gitignored) computes the matching features of each
# case of cases.json from the source GeoJSON; the release server answers
# /collections/{layer}/items?filter=... (all pages), and the two sets must be equal. Then
# bad filters must be 400 problems naming what failed. SKIP_BUILD=1 skips the build.
# Usage: tests/cql2/run.sh [PORT]   (from the repository root; default port 18331)
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${1:-18331}
VENV=tests/cql2/.venv
SHAPELY=2.1.2

if ! "$VENV/bin/python" -c "import shapely; assert shapely.__version__ == '$SHAPELY'" 2>/dev/null; then
  python3 -m venv "$VENV"
  timeout 300 "$VENV/bin/pip" install --quiet "shapely==$SHAPELY"
fi

. tests/support/atlas_server.sh
start_atlas_server "$PORT"

timeout 120 "$VENV/bin/python" tests/cql2/expected.py tests/cql2/cases.json geodata > "$ATLAS_SERVER_LOG.expected"
timeout 300 python3 - "$BASE" tests/cql2/cases.json "$ATLAS_SERVER_LOG.expected" <<'PY'
import json, sys, urllib.parse, urllib.request, urllib.error

base, cases, expected = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
KEY = {"incidents": "id", "provinces": "iso_3166_2"}

def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)

failed = 0
classes = {}
for case, want in zip(cases, expected):
    q = urllib.parse.urlencode({"filter": case["filter"], "filter-lang": case["lang"], "limit": 7})
    url = f"{base}/collections/{case['layer']}/items?{q}"
    got = []
    while url:
        page = get(url)
        got += [f["properties"][KEY[case["layer"]]] for f in page["features"]]
        url = next((l["href"] for l in page["links"] if l["rel"] == "next"), None)
    ok = sorted(got) == want and len(got) == len(set(got))
    classes.setdefault(case["class"], []).append(ok)
    if not ok:
        failed += 1
        print(f"FAIL [{case['class']}] {case['filter']}\n  expected {want}\n  got      {sorted(got)}")

bad = [
    ("incidents", {"filter": "deaths > 3 AND AND x < 2"}, "character 20 at 'x'"),
    ("incidents", {"filter": "nope = 3"}, "nope"),
    ("incidents", {"filter": "deaths >"}, "syntax error"),
    ("incidents", {"filter": "{\"op\": \"=\", \"args\": [", "filter-lang": "cql2-json"}, "syntax error"),
    ("incidents", {"filter": "deaths > 1", "filter-lang": "sql"}, "filter-lang"),
    ("incidents", {"filter": "deaths > 1", "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}, "filter-crs"),
    ("incidents", {"filter": "title LIKE '" + "%a" * 20 + "'"}, "at most"),
    ("incidents", {"filter": " OR ".join(f"deaths = {i}" for i in range(300))}, "nodes"),
    ("provinces", {"filter": "T_AFTER(name, DATE('2020-01-01'))"}, "time property"),
]
for layer, params, needle in bad:
    url = f"{base}/collections/{layer}/items?{urllib.parse.urlencode(params)}"
    try:
        urllib.request.urlopen(url, timeout=30)
        status, body = 200, ""
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read().decode()
    if status != 400 or needle not in body:
        failed += 1
        print(f"FAIL bad filter {params}: {status} {body[:300]}")

for cls, oks in sorted(classes.items()):
    print(f"{cls:32} {sum(oks)}/{len(oks)}")
print(f"{len(cases)} filters, {len(bad)} bad filters, {failed} failures")
sys.exit(1 if failed else 0)
PY
