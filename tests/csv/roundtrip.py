"""Reads the CSV face of a layer with Python's csv module and compares it with the GeoJSON.

Usage: python3 roundtrip.py BASE_URL LAYER  (e.g. http://127.0.0.1:18341 incidents)
Follows the CSV's Link rel="next" headers through every page; checks the row count against
OGC-NumberMatched and the GeoJSON's numberMatched, the ids, every property (strings with a
leading formula character carry a ' in front; arrays and objects are JSON text) and the
point coordinates.
"""
import csv
import io
import json
import re
import sys
import urllib.request

FORMULA = ("=", "+", "-", "@", "\t", "\r")


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read(), r.headers


def expected_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return "'" + text if text.startswith(FORMULA) else text


def main(base, layer):
    geo, _ = get(f"{base}/collections/{layer}/items?limit=10000")
    geo = json.loads(geo)
    rows, url, matched = [], f"{base}/collections/{layer}/items?f=csv&limit=50", None
    while url:
        body, headers = get(url)
        matched = int(headers["OGC-NumberMatched"])
        table = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
        # Column 0 is the feature id; a property may also be called "id".
        header = table[0]
        rows.extend({"#id": r[0], **{h: v for h, v in zip(header[1:], r[1:])}} for r in table[1:])
        m = re.search(r'<([^>]+)>;\s*rel="next"', headers.get("Link", ""))
        url = m.group(1) if m else None
    assert matched == geo["numberMatched"] == len(rows), (matched, geo["numberMatched"], len(rows))
    for row, f in zip(rows, geo["features"]):
        assert row["#id"] == str(f["id"]), (row["#id"], f["id"])
        for k, v in f["properties"].items():
            want = expected_cell(v)
            got = row[k]
            if isinstance(want, (int, float)) and not isinstance(want, bool):
                assert float(got) == float(want), (f["id"], k, got, want)
            else:
                assert got == want, (f["id"], k, got, want)
        if f["geometry"]["type"] == "Point":
            lon, lat = f["geometry"]["coordinates"][:2]
            assert float(row["lon"]) == lon and float(row["lat"]) == lat, (row["lon"], row["lat"])
    print(f"csv roundtrip {layer}: {len(rows)} rows match the GeoJSON")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2])
