#!/usr/bin/env bash
# Instructions a tile or a request takes, counted by valgrind's callgrind on the shared
# dense benchmark data (../shared/bench). Unlike a time, a count does not move with the
# machine's load: it is the figure to compare two builds by (run this on each).
#
#   bash benches/instructions.sh                          # 1M and 100k points, every set
#   POINTS=100000 SETS="z6-10 nearest" bash benches/instructions.sh
#
# Tile sets, rendered in process by the `tile_list` example, once each, counting only
# `render_cancellable` (no HTTP): z6-10 (the first 300 paths of the z6-10 list of
# targets.sh), z10 (its first 200 z10 paths: small tiles), z4 (the first 200 z4 paths),
# z12-14 (200 paths of zooms 12-14, the streets of a town: tiles of a few
# points or none).
# Request sets, answered in process through the whole application (router, middleware,
# handler, response body; no socket) by the `request_list` example, after one untimed
# round: items, radius and nearest (the first 1,000 paths of each list of targets.sh), and
# cached (the paths of z6-10 with the tile cache on, answered from the cache that the
# untimed round filled: routing, lookup and headers, as the cached row of targets.sh).
# The generators are deterministic, so a build counts the same on any x86-64 machine.
# valgrind must be installed (apt-get install -y valgrind); a set takes a minute or two at
# 1M points, most of it loading the data under valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH=${BENCH:-../shared/bench}
[[ -d $BENCH ]] || { echo "instructions.sh: no bench kit at $BENCH (set BENCH)" >&2; exit 2; }
command -v valgrind >/dev/null || {
  echo "instructions.sh: valgrind is needed (apt-get install -y valgrind)" >&2
  exit 1
}
SCRATCH=${SCRATCH:-benches/data/dense}
POINTS=${POINTS:-1000000 100000}
SETS=${SETS:-z6-10 z10 z4 z12-14 items items-gzip radius nearest cached}
source benches/support/lists.sh

Z12_14=$(list z12-14 tiles '/tiles/points/{z}/{x}/{y}' --zmin 12 --zmax 14)

cargo build --release --quiet --example tile_list --example request_list

set_paths() { # set -> a file of its paths
  local f="$SCRATCH/instructions_$1.txt"
  case $1 in
    z6-10) head -n 300 "$TILES" ;;
    z10) grep -E '/10/[0-9]+/[0-9]+$' "$TILES" | head -n 200 ;;
    z4) head -n 200 "$Z4" ;;
    z12-14) head -n 200 "$Z12_14" ;;
    items | items-gzip) head -n 1000 "$ITEMS" ;;
    radius) head -n 1000 "$RADIUS" ;;
    nearest) head -n 1000 "$NEAREST" ;;
    cached) head -n 300 "$TILES" ;;
    *) echo "instructions.sh: unknown set $1" >&2; exit 2 ;;
  esac >"$f"
  echo "$f"
}

echo "| points | set | paths | instructions | a path | bytes a path |"
echo "|---|---|---|---|---|---|"
for points in $POINTS; do
  data=$(data_file "$points")
  for set in $SETS; do
    paths=$(set_paths "$set")
    count=$(wc -l <"$paths")
    # The program of the set and the function whose instructions are counted.
    cache_mib=0
    accept=
    case $set in
      z*) run=(target/release/examples/tile_list "$data" "$paths" 1)
        counted='khorasan_atlas::tiles::render::render_cancellable' ;;
      *) run=(target/release/examples/request_list "$data" "$paths" "$count")
        counted='request_list::answer_all'
        [[ $set == cached ]] && cache_mib=256
        [[ $set == items-gzip ]] && accept=gzip ;;
    esac
    out=$(mktemp)
    ACCEPT_ENCODING=$accept TILE_CACHE_MIB=$cache_mib valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="$counted" \
      "${run[@]}" >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
    total=$(awk '/Collected :/ { print $NF }' "$out")
    # Both programs end with "all: N tiles|requests, T us/..., B B/...".
    bytes=$(awk '/^all:/ { print $6 }' "$out")
    rm -f "$out"
    [[ -n $total && -n $bytes ]] || { echo "instructions.sh: no count for $set" >&2; exit 1; }
    printf '| %s | %s | %s | %s | %s | %s |\n' "$points" "$set" "$count" "$total" \
      "$((total / count))" "$bytes"
  done
done
