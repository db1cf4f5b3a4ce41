#!/usr/bin/env python3
"""Decodes one tile of the running server with GDAL's MVT driver (ogr2ogr over /vsicurl/) and
compares it with the feature API:

- every feature the API finds inside the tile is in it, and every feature in it is one the API
  finds inside the tile grown by its buffer (ids: GDAL's `mvt_id` against the API's `id`);
  the only features allowed to be missing are polygons too small to draw, whose every part
  spans less than SMALL_PART tile units² (the server drops polygons under `min_area`, default
  64, after simplification);
- for points, the decoded position is the API's to within one tile unit;
- the properties GDAL decodes equal the API's for the same feature;
- a cluster counts as its leaves (`/tiles/{layer}/clusters/{id}/leaves`), as many as its
  `point_count`.

Usage: mvt_check.py BASE LAYER Z X Y. Prints one line and exits 1 on a mismatch.
"""
import json
import math
import subprocess
import sys
import urllib.request


def tile_bounds(z, x, y, grow=0.0):
    """lon/lat bounds of tile z/x/y, grown by `grow` tile widths on each side."""
    n = 2 ** z

    def lon(tx):
        return tx / n * 360.0 - 180.0

    def lat(ty):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))

    return (
        max(-180.0, lon(x - grow)),
        max(-85.0511287798, lat(y + 1 + grow)),
        min(180.0, lon(x + 1 + grow)),
        min(85.0511287798, lat(y - grow)),
    )


SMALL_PART = 1024.0
# The default atlas sets no [layers.tiles] extent or buffer, so every layer has the server's
# defaults (src/tiles/mod.rs); TileJSON does not carry them.
EXTENT = 4096
BUFFER = 64


def mercator_units(lon, lat, z, extent):
    """World position of lon/lat in tile units at zoom z."""
    n = 2 ** z * extent
    lat = max(-85.0511287798, min(85.0511287798, lat))
    x = (lon + 180.0) / 360.0 * n
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n
    return x, y


def too_small_to_draw(geometry, z, extent):
    """True when every polygon of `geometry` has a bounding box under SMALL_PART tile units²."""
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        return False
    for polygon in polygons:
        xs, ys = zip(*(mercator_units(lon, lat, z, extent) for lon, lat in polygon[0]))
        if (max(xs) - min(xs)) * (max(ys) - min(ys)) >= SMALL_PART:
            return False
    return True


def normalized(value):
    """A property value with JSON text decoded, so that '["a"]' and ["a"] compare equal."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def api_features(base, layer, bbox):
    url = f"{base}/collections/{layer}/items?limit=10000&bbox=" + ",".join(f"{v:.9f}" for v in bbox)
    with urllib.request.urlopen(url) as r:
        return {f["id"]: f for f in json.load(r)["features"]}


def api_id_of(base, layer, mvt_id):
    """The API id of a tile feature: a tile carries the feature's numeric key, which
    `/items/{key}` resolves (a string id is served as the source gave it)."""
    with urllib.request.urlopen(f"{base}/collections/{layer}/items/{int(mvt_id)}") as r:
        return json.load(r)["id"]


def main():
    base, layer, z, x, y = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
    buffer, extent = BUFFER, EXTENT
    url = f"{base}/tiles/{layer}/{z}/{x}/{y}.mvt"
    out = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", f"/vsicurl/{url}",
         "-oo", f"X={x}", "-oo", f"Y={y}", "-oo", f"Z={z}", "-t_srs", "EPSG:4326"],
        check=True, capture_output=True, text=True).stdout
    decoded = {}
    clusters = 0
    for f in json.loads(out)["features"]:
        props = f["properties"]
        if props.get("cluster") in (True, 1, "true"):
            # A cluster stands for its leaves: count them in, by their own ids.
            clusters += 1
            with urllib.request.urlopen(
                    f"{base}/tiles/{layer}/clusters/{props['cluster_id']}/leaves?limit=10000") as r:
                leaves = json.load(r)["features"]
            if len(leaves) != props["point_count"]:
                print(f"FAIL {layer} {z}/{x}/{y}: cluster {props['cluster_id']} has "
                      f"{len(leaves)} leaves, point_count {props['point_count']}")
                return 1
            decoded.update((leaf["id"], None) for leaf in leaves)
        else:
            decoded[api_id_of(base, layer, props["mvt_id"])] = f
    inside = api_features(base, layer, tile_bounds(z, x, y))
    buffered = api_features(base, layer, tile_bounds(z, x, y, buffer / extent))
    problems = []
    missing = sorted((fid for fid in set(inside) - set(decoded)
                     if not too_small_to_draw(inside[fid]["geometry"], z, extent)), key=str)
    dropped = len(set(inside) - set(decoded)) - len(missing)
    extra = sorted(set(decoded) - set(buffered), key=str)
    if missing:
        problems.append(f"in the tile per the API but not decoded: {missing[:10]}")
    if extra:
        problems.append(f"decoded but outside the buffered tile per the API: {extra[:10]}")
    unit_deg = 360.0 / (2 ** z) / extent
    for fid, f in decoded.items():
        source = buffered.get(fid)
        if source is None or f is None:
            continue
        for key, value in f["properties"].items():
            if key == "mvt_id" or key not in source["properties"]:
                continue
            expected = source["properties"][key]
            if normalized(value) != normalized(expected):
                problems.append(f"feature {fid}: {key} decoded {value!r}, API {expected!r}")
        if source["geometry"]["type"] == "Point" and f["geometry"]["type"] == "Point":
            (lon, lat), (alon, alat) = f["geometry"]["coordinates"], source["geometry"]["coordinates"]
            # A tile unit spans unit_deg of longitude and at most that of latitude (Mercator).
            if abs(lon - alon) > unit_deg or abs(lat - alat) > unit_deg:
                problems.append(f"feature {fid}: decoded at {lon:.6f},{lat:.6f}, API {alon},{alat}")
    if problems or not decoded:
        print(f"FAIL {layer} {z}/{x}/{y}: {len(decoded)} decoded; " + "; ".join(problems[:8] or ["empty tile"]))
        return 1
    print(f"ok   {layer} {z}/{x}/{y} (GDAL MVT driver): {len(decoded)} features ({clusters} clusters), "
          f"{len(inside)} inside per the API ({dropped} too small to draw), "
          "ids, properties and positions match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
