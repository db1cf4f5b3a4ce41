# Sourced by the client tests (tests/gdal, tests/qgis, tests/browser, tests/csv):
# `start_atlas_server PORT [ARGS...]` builds the release binary (unless SKIP_BUILD=1;
# ATLAS_BIN names another binary), serves the default atlas (or what ARGS name) on
# 127.0.0.1:PORT until the calling script exits, waits up to 20 s for /health, and sets BASE
# to the server's URL, ATLAS_SERVER_PID and ATLAS_SERVER_LOG (a temporary file, or the file
# ATLAS_LOG names, which is kept). It refuses a port something already answers on. Several
# servers may be started; all are stopped at exit. Run from the repository root.
ATLAS_SERVER_PIDS=()
ATLAS_SERVER_TEMP_LOGS=()

stop_atlas_servers() {
  local pid
  for pid in "${ATLAS_SERVER_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  ATLAS_SERVER_PIDS=()
  rm -f "${ATLAS_SERVER_TEMP_LOGS[@]}"
}

# Makes the EXIT trap stop the servers, keeping whatever the trap already did.
atlas_server_exit_trap() {
  local previous
  previous=$(trap -p EXIT)
  previous=${previous#"trap -- "}
  previous=${previous%" EXIT"}
  eval "previous=${previous:-''}"
  case "$previous" in
  *stop_atlas_servers*) ;;
  "") trap stop_atlas_servers EXIT ;;
  *) trap "stop_atlas_servers; $previous" EXIT ;;
  esac
}

start_atlas_server() {
  local port=$1
  shift
  local args=("$@")
  ((${#args[@]})) || args=(--config geodata/atlas.toml)
  BASE="http://127.0.0.1:$port"
  if curl -fsS -o /dev/null "$BASE/health" 2>/dev/null; then
    echo "something already answers on $BASE; choose another port" >&2
    exit 2
  fi
  if [ "${SKIP_BUILD:-0}" != 1 ] && [ -z "${ATLAS_BUILT:-}" ]; then
    cargo build --release --quiet
    ATLAS_BUILT=1
  fi
  if [ -n "${ATLAS_LOG:-}" ]; then
    ATLAS_SERVER_LOG=$ATLAS_LOG
  else
    ATLAS_SERVER_LOG=$(mktemp)
    ATLAS_SERVER_TEMP_LOGS+=("$ATLAS_SERVER_LOG")
  fi
  "${ATLAS_BIN:-./target/release/khorasan-atlas}" "${args[@]}" --listen "127.0.0.1:$port" \
    >"$ATLAS_SERVER_LOG" 2>&1 &
  ATLAS_SERVER_PID=$!
  ATLAS_SERVER_PIDS+=("$ATLAS_SERVER_PID")
  atlas_server_exit_trap
  for _ in $(seq 1 100); do
    curl -sf "$BASE/health" >/dev/null && return 0
    kill -0 "$ATLAS_SERVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "server did not start on $BASE:" >&2
  cat "$ATLAS_SERVER_LOG" >&2
  exit 1
}
