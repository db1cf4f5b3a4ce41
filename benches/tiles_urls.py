#!/usr/bin/env python3
"""Tile URL lists for benches/tiles_load.sh, drawn from the data (deterministic).

    python3 benches/tiles_urls.py POINTS.geojson OUTDIR [COUNT] [PREFIX]
    STEM=countries python3 benches/tiles_urls.py --uniform OUTDIR COUNT PREFIX

Samples points of the generated GeoJSON (one feature a line, as examples/gen_points.rs
writes it) with a fixed seed, and writes OUTDIR/tiles_z4.txt, tiles_z8.txt, tiles_z12.txt
and tiles_z6-10.txt: COUNT paths each, PREFIX/{z}/{x}/{y}, for the tiles containing the
sampled points, so dense and sparse tiles come in the proportions of the data.
"""
import math
import os
import random
import re
import sys

if sys.argv[1] == "--uniform":
    # Random tiles over inhabited latitudes (for polygon layers such as countries).
    out, count, prefix = sys.argv[2], int(sys.argv[3]), sys.argv[4]
    rng = random.Random(20261128)
    pts = [(rng.uniform(-180, 180), rng.uniform(-56, 72)) for _ in range(count)]
    src = None
else:
    src, out = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    prefix = sys.argv[4] if len(sys.argv) > 4 else "/tiles/points"
coord = re.compile(r'"coordinates":\[(-?[0-9.]+),(-?[0-9.]+)\]')

if src is not None:
    rng = random.Random(20261127)
    size = os.path.getsize(src)
    frac = min(1.0, 4 * count * 230 / max(size, 1))
    pts = []
    with open(src, encoding="utf-8") as f:
        for line in f:
            if rng.random() < frac:
                m = coord.search(line)
                if m:
                    pts.append((float(m.group(1)), float(m.group(2))))
    rng.shuffle(pts)
    pts = (pts * (count // max(len(pts), 1) + 1))[:count]


def tile(lon, lat, z):
      lat = max(min(lat, 85.0511287798), -85.0511287798)
      n = 1 << z
      x = int((lon + 180.0) / 360.0 * n)
      s = math.sin(math.radians(lat))
      y = int((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n)
      return z, min(max(x, 0), n - 1), min(max(y, 0), n - 1)


os.makedirs(out, exist_ok=True)
stem = os.environ.get("STEM", "tiles")
for name, zooms in [("z4", [4]), ("z8", [8]), ("z12", [12]), ("z6-10", [6, 7, 8, 9, 10])]:
      with open(os.path.join(out, f"{stem}_{name}.txt"), "w", encoding="utf-8") as f:
          for i, (lon, lat) in enumerate(pts):
              z, x, y = tile(lon, lat, zooms[i % len(zooms)])
              f.write(f"{prefix}/{z}/{x}/{y}\n")
print(f"{len(pts)} tile paths per list in {out}")
