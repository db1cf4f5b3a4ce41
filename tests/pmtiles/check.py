"""Reads a baked PMTiles archive with the `pmtiles` package (PyPI) and compares it with the
live server: every archived tile, decompressed, equals the server's tile byte for byte, and
up to FULL_ZOOM every tile the server has content for is in the archive.

usage: check.py ARCHIVE BASE_URL LAYERS MINZOOM MAXZOOM FULL_ZOOM
"""
import gzip
import json
import sys
import urllib.error
import urllib.request

from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType


def served(base, layers, z, x, y):
    req = urllib.request.Request(f"{base}/tiles/{layers}/{z}/{x}/{y}",
                                 headers={"Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    path, base, layers = sys.argv[1], sys.argv[2], sys.argv[3]
    minzoom, maxzoom, full_zoom = (int(a) for a in sys.argv[4:7])
    failures = []
    with open(path, "rb") as f:
        source = MmapSource(f)
        reader = Reader(source)
        header = reader.header()
        meta = reader.metadata()
        assert header["tile_type"] == TileType.MVT, header
        assert header["tile_compression"] == Compression.GZIP, header
        assert (header["min_zoom"], header["max_zoom"]) == (minzoom, maxzoom), header
        names = [v["id"] for v in meta["vector_layers"]]
        assert names == layers.split(","), names
        archived = {}
        for (z, x, y), data in all_tiles(source):
            archived[(z, x, y)] = gzip.decompress(data)
        for (z, x, y), mvt in sorted(archived.items()):
            assert minzoom <= z <= maxzoom, (z, x, y)
            status, body = served(base, layers, z, x, y)
            if status != 200 or body != mvt:
                failures.append(f"{z}/{x}/{y}: archive {len(mvt)} bytes, server {status} {len(body)} bytes")
        checked = 0
        for z in range(minzoom, full_zoom + 1):
            for x in range(2 ** z):
                for y in range(2 ** z):
                    status, body = served(base, layers, z, x, y)
                    checked += 1
                    if status == 200 and body and (z, x, y) not in archived:
                        failures.append(f"{z}/{x}/{y}: served ({len(body)} bytes) but not archived")
                    elif status == 204 and (z, x, y) in archived:
                        failures.append(f"{z}/{x}/{y}: archived but the server has it empty")
    for f in failures[:20]:
        print("FAIL", f)
    print(f"pmtiles: {len(archived)} archived tiles equal the server's; "
          f"{checked} tiles of z{minzoom}-z{full_zoom} checked for completeness; "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
