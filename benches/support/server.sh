# Sourced by the load scripts of benches/: the machine's load average, and stopping the
# server the script started (SERVER_PID) when the script ends.
loadavg() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' /; }

SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap cleanup EXIT INT TERM
