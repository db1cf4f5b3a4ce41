#!/usr/bin/env bash
# CQL2 filters against an independent evaluation:
#   1. expected.py (Python + shapely from the pinned venv tests/cql2/.venv, gitignored,
#      created here once) computes the matching features of each case of cases.json from
#      the source GeoJSON files, without the server;
#   2. the release server (built unless SKIP_BUILD=1) answers
#      /collections/{layer}/items?filter=... page by page; the two sets must be equal;
#   3. bad filters must be 400 problems naming what failed;
#   4. every CQL2 class that /conformance claims must have at least one passing case.
# Exits non-zero on any difference. Bounded: the venv install (first run only) 300 s, the
# comparison 120 s. Environment: CQL2_PORT (default 18331), SKIP_BUILD, ATLAS_BIN.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${CQL2_PORT:-18331}
VENV=tests/cql2/.venv
# Pinned as in tests/contract/requirements.txt.
PINS=(shapely==2.2.0 numpy==2.4.6)

if ! cmp -s <(printf '%s\n' "${PINS[@]}") "$VENV/pins.txt" 2>/dev/null; then
  echo "== creating $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  timeout 300 "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}"
  printf '%s\n' "${PINS[@]}" >"$VENV/pins.txt"
fi

. tests/support/atlas_server.sh
start_atlas_server "$PORT"

EXPECTED=$(mktemp)
trap 'kill $ATLAS_SERVER_PID 2>/dev/null || true; rm -f "$ATLAS_SERVER_LOG" "$EXPECTED"' EXIT
timeout 60 "$VENV/bin/python" tests/cql2/expected.py tests/cql2/cases.json geodata >"$EXPECTED"
timeout 120 python3 tests/cql2/compare.py "$BASE" tests/cql2/cases.json "$EXPECTED"
