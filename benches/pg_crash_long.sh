#!/usr/bin/env bash
# The crash test of tests/crash.rs against the PostgreSQL store: concurrent writers, the
# server killed with SIGKILL at random moments CYCLES times and restarted on the same
# database; after each restart every acknowledged write is there byte for byte, acknowledged
# deletes stay deleted, unacknowledged writes are all or nothing, no create is duplicated.
#
#   bash benches/pg_crash_long.sh             # 200 cycles, 8 writers
#   bash benches/pg_crash_long.sh 50 8        # CYCLES WRITERS
#   SEED=42 MAX_MS=3000 bash benches/pg_crash_long.sh 50
#
# A throwaway cluster (tests/support/pg_cluster.sh, PG_PORT default 18365, fsync on) holds
# the store. Prints the seed, cycles, acknowledged writes and lost (must be 0).
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/pg_cluster.sh
export PG_PORT=${PG_PORT:-18365} PG_FSYNC=on
start_pg_cluster
export CRASH_STORE=$PG_URL
export CRASH_CYCLES=${1:-200}
export CRASH_WRITERS=${2:-8}
export CRASH_MAX_MS=${MAX_MS:-1500}
[[ -n "${SEED:-}" ]] && export CRASH_SEED=$SEED
cargo test --quiet --test crash -- --nocapture 2>&1 | grep -E "crash test:|panicked|LOST|CHANGED|RESURRECTED|DUPLICATES|test result"
