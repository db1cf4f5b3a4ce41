"""Expected matches of the CQL2 cases, computed from the source GeoJSON files without the
server: each case of cases.json carries a Python predicate over the feature's properties
`p` and its shapely geometry `g`, written from the meaning of the filter.

Usage: expected.py CASES.json GEODATA_DIR  ->  JSON list of sorted key lists, one per case.
Features are keyed by the `id` property (incidents, operating_provinces) or `iso_3166_2`
(provinces).

Semantics the predicates follow: a comparison with a missing or null value is unknown and
unknown is not a match; a date is the whole UTC day [start, next day), a timestamp the
millisecond [t, t + 1 ms), a period of operating_provinces runs from the start of its
`start` (a year, month or day) to the end of its `end` (open when null), and temporal
relations are those of Allen's interval algebra.
"""

import json
import sys
from datetime import datetime, timedelta, timezone

from shapely import wkt as shapely_wkt
from shapely.geometry import box, shape

FILES = {
    "incidents": ("incidents.geojson", "id"),
    "provinces": ("provinces_af_pk.geojson", "iso_3166_2"),
    "operating_provinces": ("operating_provinces.geojson", "id"),
}

MS = timedelta(milliseconds=1)


def wkt(text):
    return shapely_wkt.loads(text)


def n(props, name):
    value = props.get(name)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def day(text):
    start = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    return (start, start + timedelta(days=1))


def instant(text):
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (t, t + MS)


def coarse(text):
    """A year, a month or a day as the span it covers."""
    if len(text) == 4:
        y = int(text)
        return (datetime(y, 1, 1, tzinfo=timezone.utc), datetime(y + 1, 1, 1, tzinfo=timezone.utc))
    if len(text) == 7:
        y, m = int(text[:4]), int(text[5:])
        start = datetime(y, m, 1, tzinfo=timezone.utc)
        end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=timezone.utc)
        return (start, end)
    return day(text)


def period(p):
    """A feature's period: from the start of `start` to the end of `end` (open when null)."""
    end = datetime.max.replace(tzinfo=timezone.utc) if p["end"] is None else coarse(p["end"])[1]
    return (coarse(p["start"])[0], end)


def rel(op, a, b):
    (s1, e1), (s2, e2) = a, b
    s2 = datetime.min.replace(tzinfo=timezone.utc) if s2 == float("-inf") else s2
    e2 = datetime.max.replace(tzinfo=timezone.utc) if e2 == float("inf") else e2
    if op == "before":
        return e1 <= s2
    if op == "after":
        return s1 >= e2
    if op == "during":
        return s2 < s1 and e1 < e2
    if op == "contains":
        return s1 < s2 and e2 < e1
    if op == "intersects":
        return s1 < e2 and s2 < e1
    if op == "disjoint":
        return not (s1 < e2 and s2 < e1)
    raise ValueError(op)


def geometry(g):
    """The shapely geometry; a null geometry stays None (unknown to spatial predicates)."""
    return None if g is None else shape(g)


def main():
    cases = json.load(open(sys.argv[1]))
    layers = {}
    for layer, (name, key) in FILES.items():
        with open(f"{sys.argv[2]}/{name}") as f:
            doc = json.load(f)
        layers[layer] = [
            (feat["properties"][key], feat["properties"], geometry(feat["geometry"]))
            for feat in doc["features"]
        ]
    out = []
    for case in cases:
        test = eval("lambda p, g: " + case["python"])  # noqa: S307 (predicates of cases.json)
        spatial = "g." in case["python"] or "(g" in case["python"]
        out.append(
            sorted(
                k
                for k, p, g in layers[case["layer"]]
                if not (spatial and g is None) and test(p, g)
            )
        )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
