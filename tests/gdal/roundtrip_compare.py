"""Compares a GeoJSON written by ogr2ogr from the server's OAPIF collection with the source
fixture, feature by feature, semantically (key order and int/float spelling do not matter).

GDAL-side limits, checked here as what GDAL is known to do rather than failures:
- GDAL turns feature ids into an `id` attribute (string ids) or the FID (integer ids), so the
  id is looked for in both places; features are matched by that id or, without one, by order.
- OGR gives a layer one schema: a property a feature lacks comes back as absent or null.
- Integers beyond int64 and nested objects/arrays become strings or reals in OGR fields, so
  only values OGR can type are compared exactly (strings, integers within int64, reals).
- OGR infers the layer schema from the first page, so the whole layer is read as one page
  (tests/roundtrip.rs covers paging).
- A GeometryCollection is one OGR geometry with one dimension: 2-D members of a collection
  that has altitudes come back with altitude 0.
- Empty geometries (empty GeometryCollection, MultiPoint ...) may come back as null or as an
  empty geometry of the same type; a null geometry must stay null.
"""

import json
import math
import sys


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (math.isfinite(a) and math.isclose(a, b, rel_tol=1e-15, abs_tol=0.0))
    if isinstance(a, list) and isinstance(b, list):
        if len(a) == 3 and len(b) == 2 and a[2] == 0 and all(isinstance(x, (int, float)) for x in a):
            return same(a[:2], b)
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def is_empty(g):
    if g is None:
        return True
    if g["type"] == "GeometryCollection":
        return all(is_empty(x) for x in g["geometries"])
    return len(g.get("coordinates") or []) == 0


def ogr_typable(v):
    if isinstance(v, bool) or isinstance(v, str) or v is None:
        return True
    if isinstance(v, int):
        return -(2**63) <= v < 2**63
    return isinstance(v, float)


def main(source_path, out_path):
    source = json.load(open(source_path, encoding="utf-8"))["features"]
    out = json.load(open(out_path, encoding="utf-8"))["features"]
    failures = []
    if len(out) != len(source):
        failures.append(f"{len(out)} features read, {len(source)} in the source")
    for i, (s, o) in enumerate(zip(source, out)):
        props = o.get("properties") or {}
        got_id = props.get("id", o.get("id"))
        if "id" in s and str(got_id) != str(s["id"]):
            failures.append(f"feature {i}: id {got_id!r}, source {s['id']!r}")
        sg, og = s["geometry"], o.get("geometry")
        if sg is None:
            if og is not None:
                failures.append(f"feature {i}: null geometry came back as {og}")
        elif is_empty(sg):
            if og is not None and not is_empty(og):
                failures.append(f"feature {i}: empty geometry came back as {og}")
        elif not same(og, sg):
            failures.append(f"feature {i}: geometry {og}, source {sg}")
        for k, v in (s.get("properties") or {}).items():
            if not ogr_typable(v):
                continue
            if not same(props.get(k), v):
                failures.append(f"feature {i}: property {k} = {props.get(k)!r}, source {v!r}")
    for f in failures:
        print("FAIL", f)
    if not failures:
        print(f"ok   GDAL round trip: {len(out)} features equal the source")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
