"""Reads the CSV face of a feature query with Python's csv module and compares it with the
GeoJSON face of the same query, page by page.

Usage: python3 roundtrip.py BASE_URL LAYER PATH [QUERY]
  e.g. python3 roundtrip.py http://127.0.0.1:18341 incidents items limit=50
       python3 roundtrip.py http://127.0.0.1:18341 incidents radius 'coords=POINT(69 34)&within=300'

Starting from PATH?QUERY&f=csv, follows the CSV's Link rel="next" headers to the last page.
Each CSV page is compared with the GeoJSON of the same address (f=json):
  - OGC-NumberMatched / OGC-NumberReturned headers against numberMatched / numberReturned,
    and the Link next / prev headers against the GeoJSON's next / prev links (f aside);
  - the header row: id, distance_m (radius and nearest), a column for every property the
    features have, geometry, and lon/lat on layers of points or of mixed types;
  - each row against its feature, in order: the id, each property (absent is empty; true and
    false; numbers equal as numbers; arrays and objects as JSON text; a string starting with
    = + - @ tab or CR carries a ' in front), the WKT's type and coordinates against the
    geometry's (empty for a feature without geometry), lon/lat against a point's coordinates;
and over all pages every feature of the query exactly once, numberMatched of them.
Exits non-zero, naming the first difference, when anything differs.
"""
import csv
import io
import json
import re
import sys
import urllib.parse
import urllib.request

FORMULA = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
WKT_TYPES = {
    "Point": "POINT", "MultiPoint": "MULTIPOINT", "LineString": "LINESTRING",
    "MultiLineString": "MULTILINESTRING", "Polygon": "POLYGON", "MultiPolygon": "MULTIPOLYGON",
    "GeometryCollection": "GEOMETRYCOLLECTION",
}


def get(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read(), r.headers


def with_f(url, f):
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != "f"]
    if f:
        query.append(("f", f))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def link_header(headers):
    out = {}
    for m in re.finditer(r'<([^>]+)>;\s*rel="([^"]+)"', headers.get("Link", "")):
        out[m.group(2)] = with_f(m.group(1), None)
    return out


def expected_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return "'" + text if text.startswith(FORMULA) else text


def positions(geometry):
    """The coordinates of a GeoJSON geometry, flattened, two per position."""
    if geometry["type"] == "GeometryCollection":
        return [c for g in geometry["geometries"] for c in positions(g)]

    def walk(c):
        if c and isinstance(c[0], (int, float)):
            return [float(c[0]), float(c[1])]
        return [x for p in c for x in walk(p)]
    return walk(geometry["coordinates"])


def check_geometry(where, cell, geometry):
    if geometry is None:
        assert cell == "", (where, "a feature without geometry has WKT", cell)
        return
    kind = cell.split("(")[0].strip().upper()
    assert kind == WKT_TYPES[geometry["type"]], (where, kind, geometry["type"])
    got = [float(n) for n in NUMBER.findall(cell)]
    want = positions(geometry)
    assert got == want, (where, "WKT coordinates", got[:6], want[:6])


def check_page(where, table, headers, doc, point_columns, distance):
    header, rows = table[0], table[1:]
    features = doc["features"]
    assert int(headers["OGC-NumberMatched"]) == doc["numberMatched"], (where, "numberMatched")
    assert int(headers["OGC-NumberReturned"]) == doc["numberReturned"] == len(rows) == len(features), (
        where, "numberReturned", headers["OGC-NumberReturned"], doc["numberReturned"], len(rows))
    json_links = {l["rel"]: with_f(l["href"], None) for l in doc["links"] if l["rel"] in ("next", "prev")}
    paging = {rel: href for rel, href in link_header(headers).items() if rel in ("next", "prev")}
    assert paging == json_links, (where, "Link header", paging, json_links)
    keys = []
    for f in features:
        keys += [k for k in f["properties"] if k not in keys]
    fixed = ["id"] + (["distance_m"] if distance else [])
    tail = ["geometry"] + (["lon", "lat"] if point_columns else [])
    columns = [k for k in keys if k != "distance_m"]
    assert header[:len(fixed)] == fixed and header[len(header) - len(tail):] == tail, (where, header)
    body = header[len(fixed):len(header) - len(tail)]
    # Every property of the page is a column; the layer's other fields are empty columns.
    missing = [k for k in columns if expected_cell(k) not in body]
    assert not missing, (where, "properties without a column", missing)
    for row, f in zip(rows, features):
        here = f"{where} feature {f['id']}"
        assert len(row) == len(header), (here, "row length")
        cell = dict(zip(header[len(fixed):], row[len(fixed):]))
        assert row[0] == expected_cell(str(f["id"])), (here, "id", row[0])
        if distance:
            assert float(row[1]) == f["properties"]["distance_m"], (here, "distance_m", row[1])
        for name, text in zip(body, row[len(fixed):len(header) - len(tail)]):
            key = name[1:] if name.startswith("'") and name[1:].startswith(FORMULA) else name
            want = expected_cell(f["properties"].get(key))
            if isinstance(want, (int, float)):
                assert float(text) == float(want), (here, key, text, want)
            else:
                assert text == want, (here, key, text, want)
        check_geometry(here, cell["geometry"], f["geometry"])
        if point_columns:
            g = f["geometry"]
            if g and g["type"] == "Point":
                assert [float(cell["lon"]), float(cell["lat"])] == g["coordinates"][:2], (here, "lon/lat")
            else:
                assert cell["lon"] == cell["lat"] == "", (here, "lon/lat of a non-point")
    return [str(f["id"]) for f in features]


def main(base, layer, path, query=""):
    collection = json.loads(get(f"{base}/collections/{layer}")[0])
    point_columns = collection["geometryType"] in ("point", "mixed")
    distance = path in ("radius", "nearest")
    url = f"{base}/collections/{layer}/{path}?{query}&f=csv" if query else f"{base}/collections/{layer}/{path}?f=csv"
    ids, pages, matched = [], 0, None
    while url:
        body, headers = get(url)
        assert headers["Content-Type"] == "text/csv; charset=utf-8", (url, headers["Content-Type"])
        text = body.decode("utf-8")
        assert text.endswith("\r\n"), (url, "lines end with CRLF")
        table = list(csv.reader(io.StringIO(text, newline="")))
        doc = json.loads(get(with_f(url, "json"))[0])
        matched = doc["numberMatched"]
        ids += check_page(url, table, headers, doc, point_columns, distance)
        pages += 1
        assert pages <= matched + 1, (url, "more pages than features")
        url = link_header(headers).get("next")
        url = with_f(url, "csv") if url else None
    assert len(ids) == len(set(ids)) == matched, (layer, path, "features over the pages", len(ids), len(set(ids)), matched)
    # A spreadsheet that asks with Accept gets the same first page.
    first = f"{base}/collections/{layer}/{path}?{query}" if query else f"{base}/collections/{layer}/{path}"
    _, accepted = get(first, accept="text/csv")
    assert accepted["Content-Type"].startswith("text/csv"), (first, "Accept: text/csv", accepted["Content-Type"])
    print(f"csv roundtrip {layer}/{path}?{query}: {len(ids)} rows over {pages} pages match the GeoJSON")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
