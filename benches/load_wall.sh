#!/usr/bin/env bash
# Where the wall time of a load goes: starts the release server on the dense 1M-point data
# (made by targets.sh) RUNS times and prints, for each run, the wall time to "serving http",
# the process's CPU time, and the main thread's CPU and run-queue wait (from
# /proc/PID/task/TID/schedstat; a wall time above CPU + wait would be time spent blocked).
#
#   bash benches/load_wall.sh
#   QUIET=1 bash benches/load_wall.sh     # as root: the server in a session of its own whose
#                                         # scheduling group weighs more, so that other
#                                         # sessions' work (builds) does not take its cores
#   BIN=path/to/other/khorasan-atlas RUNS=5 PORT=18540 bash benches/load_wall.sh
#
# With autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled) each session gets a
# fair share of the cores, however many threads it runs: on a busy shared machine the wall
# time is about the CPU time over that share, and only QUIET=1 shows what a second thread
# gives on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."

SCRATCH=${SCRATCH:-benches/data/dense}
POINTS=${POINTS:-1000000}
RUNS=${RUNS:-3}
PORT=${PORT:-18140}
BIN=${BIN:-target/release/khorasan-atlas}
data="$SCRATCH/points_$POINTS.geojson"
[[ -s $data ]] || { echo "load_wall.sh: no $data (run benches/targets.sh once)" >&2; exit 2; }
[[ -x $BIN ]] || cargo build --release --quiet --bin khorasan-atlas
log="$SCRATCH/load_wall.log"
conf="$SCRATCH/load_wall.toml"
printf '[server]\nmax_limit = 10000\n' >"$conf"
hz=$(getconf CLK_TCK)

# One run, in a session of its own (setsid) so that QUIET changes only its own group.
one() {
  [[ -n ${QUIET:-} ]] && echo -15 >/proc/self/autogroup
  : >"$log"
  local started pid ready ticks main
  started=$(date +%s%N)
  RUST_LOG=info NO_COLOR=1 "$BIN" --config "$conf" --layer "points=$data" --no-watch \
    --data-dir "$SCRATCH/load_wall_data" --listen "127.0.0.1:$PORT" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 2400); do
    grep -q "serving http" "$log" && break
    kill -0 "$pid" 2>/dev/null || { echo "server died:" >&2; cat "$log" >&2; return 1; }
    sleep 0.025
  done
  ready=$(( ($(date +%s%N) - started) / 1000000 ))
  ticks=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")
  read -r -a main <"/proc/$pid/task/$pid/schedstat"
  printf '%s ms to serving, CPU %s ms (main thread %s ms, waiting to run %s ms), load %s\n' \
    "$ready" $((ticks * 1000 / hz)) $((main[0] / 1000000)) $((main[1] / 1000000)) \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}
export -f one
export BIN QUIET conf data log PORT SCRATCH hz
for _ in $(seq 1 "$RUNS"); do
  setsid -w bash -c one
done
