#!/usr/bin/env bash
# The crash test of tests/crash.rs, long: concurrent writers against the real binary, killed
# with SIGKILL at random moments CYCLES times, restarted on the same data directory; after
# each restart every acknowledged write must be present byte for byte, acknowledged deletes
# stay deleted, unacknowledged writes are all or nothing, and no create is duplicated.
#
#   bash benches/crash_long.sh                # 200 cycles, 8 writers
#   bash benches/crash_long.sh 1000 8         # CYCLES WRITERS
#   SEED=42 MAX_MS=3000 bash benches/crash_long.sh 50
#
# Prints the seed (to replay a failure), cycles, acknowledged writes and lost (must be 0).
set -euo pipefail
cd "$(dirname "$0")/.."
export CRASH_CYCLES=${1:-200}
export CRASH_WRITERS=${2:-8}
export CRASH_MAX_MS=${MAX_MS:-1500}
[[ -n "${SEED:-}" ]] && export CRASH_SEED=$SEED
cargo test --quiet --test crash -- --nocapture 2>&1 | grep -E "crash test:|panicked|LOST|CHANGED|RESURRECTED|DUPLICATES|test result"
