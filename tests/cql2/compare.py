"""Compares the server's answers to the CQL2 cases with the expected matches (expected.py).

Usage: compare.py BASE_URL CASES.json EXPECTED.json
Every case: all pages of /collections/{layer}/items?filter=... (7 features a page, so
paging is exercised) must list exactly the expected features, each once. Then bad filters
must give 400 problems whose detail names what failed, and every CQL2 conformance class
the server claims must have at least one case, all passing.
"""

import json
import sys
import urllib.error
import urllib.parse
import urllib.request

KEY = {"incidents": "id", "provinces": "iso_3166_2", "operating_provinces": "id"}
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def status_of(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main():
    base = sys.argv[1]
    cases = json.load(open(sys.argv[2]))
    expected = json.load(open(sys.argv[3]))
    assert len(cases) == len(expected)
    failed = 0
    classes = {}
    per_lang = {"cql2-text": [], "cql2-json": []}
    for case, want in zip(cases, expected):
        q = urllib.parse.urlencode(
            {"filter": case["filter"], "filter-lang": case["lang"], "limit": 7}
        )
        url = f"{base}/collections/{case['layer']}/items?{q}"
        got = []
        try:
            while url:
                page = get(url)
                got += [f["properties"][KEY[case["layer"]]] for f in page["features"]]
                url = next((l["href"] for l in page["links"] if l["rel"] == "next"), None)
        except urllib.error.HTTPError as e:
            got = [f"HTTP {e.code}: {e.read().decode()[:300]}"]
        ok = sorted(map(str, got)) == sorted(map(str, want)) and len(got) == len(set(got))
        classes.setdefault(case["class"], []).append(ok)
        per_lang[case["lang"]].append(ok)
        if not ok:
            failed += 1
            print(f"FAIL [{case['class']}] {case['filter']}\n  expected {want}\n  got      {sorted(map(str, got))}")

    bad = [
        ("incidents", {"filter": "deaths > 3 AND AND x < 2"}, "character 20 at 'x'"),
        ("incidents", {"filter": "nope = 3"}, "'nope' is not a queryable"),
        ("incidents", {"filter": "deaths >"}, "syntax error"),
        ("incidents", {"filter": '{"op": "=", "args": [', "filter-lang": "cql2-json"}, "syntax error"),
        ("incidents", {"filter": "deaths > 1", "filter-lang": "sql"}, "filter-lang"),
        ("incidents", {"filter": "deaths > 1", "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}, "filter-crs"),
        ("incidents", {"filter": "title LIKE '" + "%a" * 20 + "'"}, "at most"),
        ("incidents", {"filter": " OR ".join(f"deaths = {i}" for i in range(300))}, "nodes"),
        ("provinces", {"filter": "T_AFTER(name, DATE('2020-01-01'))"}, "time property"),
        ("operating_provinces", {"filter": "T_AFTER(end, DATE('2020-01-01'))"}, "INTERVAL(start, end)"),
    ]
    for layer, params, needle in bad:
        url = f"{base}/collections/{layer}/items?{urllib.parse.urlencode(params)}"
        status, body = status_of(url)
        if status != 400 or needle not in body:
            failed += 1
            print(f"FAIL bad filter {params}: {status} {body[:300]}")

    claimed = [c[len(CQL2):] for c in get(f"{base}/conformance")["conformsTo"] if c.startswith(CQL2)]
    for name in claimed:
        have = classes.get(name) or per_lang.get(name)
        if not have:
            failed += 1
            print(f"FAIL /conformance claims {name} but no case tests it")
        elif not all(have):
            print(f"(class {name} has failing cases, listed above)")

    for cls, oks in sorted(classes.items()):
        print(f"{cls:45} {sum(oks)}/{len(oks)}")
    empty = sum(1 for w in expected if not w)
    print(f"{len(cases)} filters ({empty} with no match), {len(bad)} bad filters, {failed} failures")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
