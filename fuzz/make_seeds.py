#!/usr/bin/env python3
"""Writes seed inputs of the fuzz targets into fuzz/corpus/<target>/ from the repository's own
data: small extracts of geodata/ and tests/fixtures/ (layer files and write bodies) and the
query strings the tests send. `scripts/fuzz.sh seed` runs it and then minimizes each corpus
(`cargo fuzz cmin`). The tile target takes structured input (`arbitrary`) and starts empty.

Each input starts with the target's selector byte (see fuzz/fuzz_targets/*.rs)."""

import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = pathlib.Path(__file__).resolve().parent / "corpus"
MAX_SEED = 6000  # bytes; libFuzzer's -max_len of the loader target is 16384


def write(target, name, selector, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(bytes([selector]) + data)


def small_features(path, count):
    doc = json.loads(path.read_text())
    feats = sorted(doc["features"], key=lambda f: len(json.dumps(f)))
    return doc, feats[:count]


def layer_seeds():
    files = sorted((ROOT / "geodata").glob("*.geojson")) + [ROOT / "tests/fixtures/roundtrip.geojson"]
    for path in files:
        doc, feats = small_features(path, 3)
        doc = {k: v for k, v in doc.items() if k != "features"}
        doc["features"] = feats
        text = json.dumps(doc, ensure_ascii=False).encode()
        if len(text) > MAX_SEED:
            doc["features"] = feats[:1]
            text = json.dumps(doc, ensure_ascii=False).encode()
        if len(text) > MAX_SEED:
            continue
        # 1: time property "date"; 2: "start"/"end" periods; 0x80: refuse invalid features.
        for selector in (0, 1, 2, 0x81):
            write("geojson_load", f"{path.stem}-{selector}", selector, text)


def query_seeds():
    urls = set()
    for path in (ROOT / "tests").glob("*.rs"):
        urls.update(re.findall(r'"(/(?:collections|tiles)/[^"{}]*)"', path.read_text()))
    endpoints = {"items": 0, "radius": 1, "nearest": 2}
    layers = {"incidents": 0, "operating_provinces": 1, "provinces": 2}
    n = 0
    for url in sorted(urls):
        m = re.match(r"/collections/([^/]+)/(items|radius|nearest)\?(.*)", url)
        if not m:
            continue
        layer = layers.get(m.group(1), 0)
        write("query_params", f"q{n:03}", (layer << 4) | endpoints[m.group(2)], m.group(3).encode())
        n += 1
    for i, q in enumerate(["zoom=3&bbox=60,29,75,38", "zoom=9", "zoom=0&f=json"]):
        write("query_params", f"clusters{i}", 3, q.encode())
    for i, q in enumerate(["limit=5&offset=1#1", "limit=10000#99"]):
        write("query_params", f"leaves{i}", 4, q.encode())
    for i, q in enumerate(["5/21/12.mvt", "0/0/0?f=json", "22/4194303/0.pbf"]):
        write("query_params", f"tile{i}", 5, q.encode())
    write("query_params", "format", 6, b"f=json")
    for i, q in enumerate(["deaths > 10 AND date >= DATE('2021-01-01')",
                           "S_INTERSECTS(geometry, POLYGON((60 29, 75 29, 75 38, 60 38, 60 29)))",
                           "title LIKE 'K%' OR responsibility IN ('claimed', 'attributed')"]):
        write("query_params", f"filter{i}", 7, q.encode())


def write_seeds():
    _, feats = small_features(ROOT / "geodata/incidents.geojson", 2)
    bodies = []
    for f in feats:
        body = {"type": "Feature", "geometry": f["geometry"], "properties": dict(f["properties"])}
        for owned in ("id", "created", "updated"):
            body["properties"].pop(owned, None)
        bodies.append(body)
    _, polys = small_features(ROOT / "geodata/khorasan_approx.geojson", 1)
    bodies.append({"type": "Feature", "geometry": polys[0]["geometry"], "properties": {}})
    bodies.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[69, 34], [70, 35]]},
                   "properties": {"note": None, "tags": ["a"], "n": 1.5}, "id": 7})
    for i, body in enumerate(bodies):
        text = json.dumps(body, ensure_ascii=False).encode()
        if len(text) <= MAX_SEED:
            write("write_body", f"body{i}-0", 0, text)
            write("write_body", f"body{i}-1", 1, text)
    write("write_body", "ifmatch", 1, b'"abc", W/"def", *')


if __name__ == "__main__":
    layer_seeds()
    query_seeds()
    write_seeds()
