#!/usr/bin/env bash
# QGIS (PyQGIS, offscreen) draws the vector tiles of the default atlas served by the real
# binary, and tests/qgis/render_check.py compares the picture with the feature API.
# Needs Debian's python3-qgis and qgis-providers (`.ci/run` installs them); pictures go to
# tests/qgis/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${QGIS_PYTHON:-/usr/bin/python3}
"$PYTHON" -c 'import qgis.core' 2>/dev/null || {
  echo "PyQGIS not found for $PYTHON: install python3-qgis and qgis-providers" >&2
  exit 1
}
# shellcheck source=tests/support/atlas_server.sh
source tests/support/atlas_server.sh
start_atlas_server "${QGIS_TEST_PORT:-18633}"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
"$PYTHON" tests/qgis/render_check.py "$BASE" tests/qgis/artifacts
