"""Checks of the PostGIS layers against the file layers they were made from.

  check.py altitude SRC OUT     writes SRC with an altitude added to every position, and the
                                3D line and polygon of tests/fixtures/roundtrip.geojson
  check.py compare BASE SRC FILE_LAYER PG_LAYER
                                every feature of the two layers is identical through the API
                                (id, properties, geometry with altitudes), both hold every
                                feature of SRC, and /items/{id} of the PostGIS layer gives the
                                same feature
  check.py changed BASE LAYER ID TITLE COUNT
                                waits (at most 10 s) until LAYER holds COUNT features and
                                feature ID's title is TITLE, and says how long it took

Standard library only.
"""

import json
import sys
import time
import urllib.parse
import urllib.request


def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def lift(coords, z):
    if coords and isinstance(coords[0], (int, float)):
        return [coords[0], coords[1], z]
    return [lift(c, z) for c in coords]


def altitude(src, out):
    with open(src, encoding="utf-8") as f:
        collection = json.load(f)
    features = collection["features"]
    names = []
    for i, feature in enumerate(features):
        geometry = feature["geometry"]
        geometry["coordinates"] = lift(geometry["coordinates"], 1000 + i * 12.75)
        names = names or list(feature["properties"])
    with open("tests/fixtures/roundtrip.geojson", encoding="utf-8") as f:
        extra = json.load(f)["features"]
    for feature in extra:
        if feature.get("id") in ("line-z", "poly-z"):
            feature["properties"] = {n: None for n in names}
            features.append(feature)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(collection, f, ensure_ascii=False)


def items(base, layer):
    page = get(f"{base}/collections/{layer}/items?f=json&limit=10000")
    return {f["id"]: f for f in page["features"]}


def strip(feature):
    return {k: feature.get(k) for k in ("type", "id", "geometry", "properties")}


def compare(base, src, file_layer, pg_layer):
    with open(src, encoding="utf-8") as f:
        expected = {f["id"]: f for f in json.load(f)["features"]}
    from_file = items(base, file_layer)
    from_pg = items(base, pg_layer)
    problems = []
    if set(from_file) != set(expected) or set(from_pg) != set(expected):
        problems.append(
            f"ids differ: file layer {len(from_file)}, PostGIS layer {len(from_pg)}, "
            f"source {len(expected)}"
        )
    for fid in sorted(set(from_file) & set(from_pg), key=str):
        a, b = strip(from_file[fid]), strip(from_pg[fid])
        if a != b:
            problems.append(f"{fid}: file {json.dumps(a)[:300]} PostGIS {json.dumps(b)[:300]}")
        if b["geometry"] != expected[fid]["geometry"]:
            problems.append(f"{fid}: geometry differs from the source file")
        one = get(f"{base}/collections/{pg_layer}/items/{urllib.parse.quote(str(fid), safe='')}")
        if strip(one) != b:
            problems.append(f"{fid}: /items/{{id}} differs from the items page")
    for p in problems[:20]:
        print("FAIL", p)
    if problems:
        sys.exit(1)
    print(f"ok: {len(from_pg)} features of {pg_layer} equal those of {file_layer}")


def changed(base, layer, fid, title, count):
    started = time.monotonic()
    while time.monotonic() - started < 10:
        features = items(base, layer)
        feature = features.get(fid)
        if len(features) == int(count) and feature and feature["properties"]["title"] == title:
            ms = (time.monotonic() - started) * 1000
            print(f"ok: {layer} shows the table's change ({ms:.0f} ms of polling)")
            return
        time.sleep(0.05)
    print(f"FAIL: {layer} does not show the table's change after 10 s")
    sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1] == "altitude":
        altitude(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "changed":
        changed(*sys.argv[2:7])
    else:
        compare(*sys.argv[2:6])
