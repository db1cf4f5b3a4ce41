#!/usr/bin/env python3
"""Request paths of benches/soak.sh, one file per endpoint, deterministic (stdlib only).

    soak_urls.py OUT_DIR LAYER [N]

Over the region of ../shared/bench/gen_data.py (lon 60..75, lat 24..38): `items` (bbox pages
of 100 and 1,000 features, some sorted, some with a datetime), `radius` (5 to 100 km, pages
of 100), `nearest` (10 to 100), `tiles` (z4 to z12 tiles of LAYER and of the default atlas's
incidents and provinces together), `clusters` (the cluster endpoint of LAYER at z3 to z9)."""
import math
import random
import sys

LON, LAT = (60.0, 75.0), (24.0, 38.0)


def tile_of(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(x, n - 1), min(y, n - 1)


def main():
    out, layer = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    rnd = random.Random(14)
    point = lambda: (rnd.uniform(*LON), rnd.uniform(*LAT))
    lists = {k: [] for k in ("items", "radius", "nearest", "tiles", "clusters")}
    for i in range(n):
        lon, lat = point()
        w = rnd.choice([0.05, 0.2, 0.5, 1.0])
        limit = 1000 if i % 4 == 0 else 100
        extra = ""
        if i % 3 == 0:
            extra += "&sortby=-deaths"
        if i % 5 == 0:
            extra += "&datetime=2018-01-01/2022-12-31"
        lists["items"].append(
            f"/collections/{layer}/items?bbox={lon:.4f},{lat:.4f},{lon + w:.4f},{lat + w:.4f}"
            f"&limit={limit}{extra}")
        lon, lat = point()
        lists["radius"].append(
            f"/collections/{layer}/radius?coords=POINT({lon:.4f}%20{lat:.4f})"
            f"&within={rnd.choice([5, 20, 50, 100])}&limit=100")
        lon, lat = point()
        lists["nearest"].append(
            f"/collections/{layer}/nearest?coords=POINT({lon:.4f}%20{lat:.4f})"
            f"&limit={rnd.choice([10, 50, 100])}")
        lon, lat = point()
        z = rnd.randint(4, 12)
        x, y = tile_of(lon, lat, z)
        layers = layer if i % 4 else "incidents,provinces"
        lists["tiles"].append(f"/tiles/{layers}/{z}/{x}/{y}")
        lon, lat = point()
        z = rnd.randint(3, 9)
        w = 360.0 / 2 ** z * 2
        lists["clusters"].append(
            f"/tiles/{layer}/clusters?zoom={z}&bbox={lon:.3f},{lat:.3f},"
            f"{min(lon + w, 180):.3f},{min(lat + w / 2, 85):.3f}")
    for name, paths in lists.items():
        with open(f"{out}/soak_{name}.txt", "w") as f:
            f.write("\n".join(paths) + "\n")


if __name__ == "__main__":
    main()
