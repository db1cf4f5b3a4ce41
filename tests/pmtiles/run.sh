#!/usr/bin/env bash
# Bakes PMTiles archives with `khorasan-atlas bake` and checks them with an independent reader
# (the `pmtiles` package from PyPI, pinned in requirements.txt, in tests/pmtiles/.venv):
# every archived tile equals the live server's, and at low zooms no served tile is missing.
# SKIP_BUILD=1 reuses target/release/khorasan-atlas. PMTILES_PORT (default 18321).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/pmtiles"
VENV="$HERE/.venv"
cd "$ROOT"
source tests/support/atlas_server.sh

if ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt" 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/requirements.txt"
fi

WORK=$(mktemp -d)
start_atlas_server "${PMTILES_PORT:-18321}" --config geodata/atlas.toml --data-dir "$WORK/data" --no-watch
trap 'kill $ATLAS_SERVER_PID 2>/dev/null || true; rm -rf "$WORK" "$ATLAS_SERVER_LOG"' EXIT
BIN="${ATLAS_BIN:-./target/release/khorasan-atlas}"

# bake LAYERS MINZOOM MAXZOOM FULL_ZOOM
bake() {
  local out="$WORK/$1.pmtiles"
  "$BIN" --config geodata/atlas.toml --data-dir "$WORK/data" bake --pmtiles "$out" \
    --layers "$1" --minzoom "$2" --maxzoom "$3" 2>/dev/null
  "$VENV/bin/python" "$HERE/check.py" "$out" "$BASE" "$1" "$2" "$3" "$4"
}
bake incidents,provinces 0 9 5
bake incidents 3 11 4
bake countries,operating_provinces 0 6 4
