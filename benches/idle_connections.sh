#!/usr/bin/env bash
# Holds N idle TCP connections (default 10000) open to a running khorasan-atlas and measures
# GET /health meanwhile: prints the open connections and the slowest and median of 20
# /health requests. Starts the server itself on ATLAS_PORT (default 18352) from BIN
# (default target/release/khorasan-atlas, else target/debug/khorasan-atlas) with the
# default atlas and a long request timeout, so the idle connections stay open; stops it.
# Usage: benches/idle_connections.sh [N]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-10000}"
PORT="${ATLAS_PORT:-18352}"
BIN="${BIN:-}"
if [ -z "$BIN" ]; then
  BIN="$ROOT/target/release/khorasan-atlas"
  [ -x "$BIN" ] || BIN="$ROOT/target/debug/khorasan-atlas"
fi
ulimit -n $((N + 500)) 2>/dev/null || { echo "idle_connections.sh: cannot raise the open-file limit to $((N + 500))" >&2; exit 2; }

source "$ROOT/benches/support/server.sh"
TMP="$(mktemp -d)"
trap 'cleanup; rm -rf "$TMP"' EXIT
# The default atlas with absolute layer paths and [server.limits] before the first layer.
awk -v port="$PORT" -v root="$ROOT/geodata/" '
  /^listen = / { print "listen = \"127.0.0.1:" port "\""; next }
  /^file = "/ { sub(/^file = "/, "file = \"" root); print; next }
  /^\[\[layers\]\]/ && !done { print "[server.limits]\nrequest_timeout_ms = 600000\n"; done = 1 }
  { print }' "$ROOT/geodata/atlas.toml" >"$TMP/limits.toml"
RUST_LOG=warn "$BIN" --config "$TMP/limits.toml" --data-dir "$TMP/data" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
wait_ready "http://127.0.0.1:$PORT/health" "$TMP/server.log" 60

python3 - "$PORT" "$N" <<'PY'
import socket, sys, time, statistics
port, n = int(sys.argv[1]), int(sys.argv[2])
conns = []
t0 = time.monotonic()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    conns.append(s)
print(f"opened {len(conns)} idle connections in {time.monotonic() - t0:.2f} s")
time.sleep(1)
times = []
for _ in range(20):
    t = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while chunk := s.recv(4096):
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 200"), data[:80]
    times.append(time.monotonic() - t)
print(f"/health with {n} idle connections: median {statistics.median(times) * 1000:.1f} ms, "
      f"slowest {max(times) * 1000:.1f} ms")
for s in conns:
    s.close()
PY
