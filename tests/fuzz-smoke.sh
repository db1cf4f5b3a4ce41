#!/usr/bin/env bash
# A short run of every fuzz target (20 s each by default, two at a time): the targets build,
# their committed corpora pass, and a few seconds of new inputs find no crash, panic, hang or
# unbounded allocation. The committed corpora are not changed (SMOKE=1). The long run is
# `make fuzz` (scripts/fuzz.sh, 10 minutes per target).
#
#   bash tests/fuzz-smoke.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
SMOKE=1 timeout 1800 bash scripts/fuzz.sh "${1:-20}"
echo "fuzz-smoke: passed in $((SECONDS - started)) s"
