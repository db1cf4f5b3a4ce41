# Sourced by the client tests (tests/gdal, tests/qgis): `start_atlas_server PORT [ARGS...]` builds
# the release binary (unless SKIP_BUILD=1; ATLAS_BIN names another binary), serves the default
# atlas (or what ARGS name) on 127.0.0.1:PORT until the calling script exits,
# waits for /health, and sets BASE to the server's URL. Run from the repository root.
start_atlas_server() {
  local port=$1
  shift
  local args=("$@")
  ((${#args[@]})) || args=(--config geodata/atlas.toml)
  BASE="http://127.0.0.1:$port"
  [ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet
  ATLAS_SERVER_LOG=$(mktemp)
  "${ATLAS_BIN:-./target/release/khorasan-atlas}" "${args[@]}" --listen "127.0.0.1:$port" \
    >"$ATLAS_SERVER_LOG" 2>&1 &
  ATLAS_SERVER_PID=$!
  trap 'kill $ATLAS_SERVER_PID 2>/dev/null || true; rm -f "$ATLAS_SERVER_LOG"' EXIT
  for _ in $(seq 1 100); do
    curl -sf "$BASE/health" >/dev/null && return 0
    sleep 0.2
  done
  echo "server did not start on $BASE:" >&2
  cat "$ATLAS_SERVER_LOG" >&2
  exit 1
}
