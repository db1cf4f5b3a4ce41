# Sourced by the load scripts of benches/: the machine's load average, the server's memory,
# waiting for the server to answer, and stopping the server the script started (SERVER_PID)
# when the script ends.
loadavg() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' /; }

# The server's (SERVER_PID) resident memory in MB: VmRSS, or the field named (VmHWM: its peak).
rss() { awk -v k="${1:-VmRSS}:" '$1 == k { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }

SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap cleanup EXIT INT TERM

# Waits until URL answers, polling every 20 ms for up to SECONDS (default 300); exits with the
# end of LOG when the server (SERVER_PID) stops or never answers.
wait_ready() { # url log [seconds]
  local tries=$(( ${3:-300} * 50 ))
  for _ in $(seq 1 "$tries"); do
    curl -sf -o /dev/null "$1" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server stopped:" >&2; tail -n 20 "$2" >&2; exit 1; }
    sleep 0.02
  done
  echo "no answer from $1 in ${3:-300} s" >&2
  tail -n 20 "$2" >&2
  exit 1
}
