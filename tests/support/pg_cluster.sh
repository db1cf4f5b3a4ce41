# Sourced by test scripts that need PostgreSQL with PostGIS (Debian's `postgresql` and
# `postgresql-15-postgis-3`, installed by scripts/install-deps.sh).
#
# `start_pg_cluster` creates a throwaway cluster: initdb into a temporary directory (as the
# `postgres` user when run as root), pg_ctl on 127.0.0.1 at a free port (PG_PORT, default the
# first free one from 18150 up to 18159), trust authentication for local connections, a
# database `atlas` (PG_DB) with the postgis extension. It exports PG_URL
# (postgresql://postgres@127.0.0.1:PORT/atlas), PG_PORT, PG_DIR and PGHOST/PGPORT/PGUSER/
# PGDATABASE so that `psql` needs no arguments. The cluster is stopped and its directory
# removed when the calling script exits, through an EXIT trap (`stop_pg_cluster` does it
# earlier; a script that sets its own EXIT trap afterwards calls it there). `restart_pg_cluster`
# stops and starts it again; `pause_pg_cluster` only stops it (fast shutdown, clients
# disconnected) and `resume_pg_cluster` starts it again, same port (both also work from a
# child process given PG_DIR and PG_PORT). The cluster runs with fsync=off (tests crash the
# servers, not the machine); PG_FSYNC=on turns it on (benchmarks). Waits at most 30 s for the server to accept
# connections.

PG_CLUSTER_DIR=""

pg_bin_dir() {
  if [ -n "${PG_BIN:-}" ]; then
    echo "$PG_BIN"
  elif command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
  else
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
  fi
}

# Runs a command as the cluster's owner: `postgres` when we are root, ourselves otherwise.
pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_pg_cluster() {
  if [ -n "$PG_CLUSTER_DIR" ] && [ -d "$PG_CLUSTER_DIR" ]; then
    if [ -f "$PG_CLUSTER_DIR/data/postmaster.pid" ]; then
      pg_as_owner "$(pg_bin_dir)/pg_ctl" -D "$PG_CLUSTER_DIR/data" -m immediate -w -t 20 stop \
        >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_CLUSTER_DIR"
  fi
  PG_CLUSTER_DIR=""
}

# Stops the cluster (fast shutdown, clients disconnected) and starts it again, same port.
restart_pg_cluster() {
  pg_as_owner "$(pg_bin_dir)/pg_ctl" -D "$PG_CLUSTER_DIR/data" -l "$PG_CLUSTER_DIR/server.log" \
    -m fast -w -t 30 restart >/dev/null
}

pause_pg_cluster() {
  pg_as_owner "$(pg_bin_dir)/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null
}

resume_pg_cluster() {
  pg_as_owner "$(pg_bin_dir)/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=${PG_FSYNC:-off}" start >/dev/null
}

start_pg_cluster() {
  local bin port db=${PG_DB:-atlas}
  bin=$(pg_bin_dir)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "pg_cluster: PostgreSQL is not installed (run scripts/install-deps.sh)" >&2
    return 1
  fi
  if [ -n "${PG_PORT:-}" ]; then
    port=$PG_PORT
    pg_port_free "$port" || { echo "pg_cluster: port $port is taken" >&2; return 1; }
  else
    for port in $(seq 18150 18159) ""; do
      [ -n "$port" ] && pg_port_free "$port" && break
    done
    [ -n "$port" ] || { echo "pg_cluster: no free port in 18150-18159" >&2; return 1; }
  fi
  PG_CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/atlas-pg.XXXXXX")
  trap stop_pg_cluster EXIT
  chmod 755 "$PG_CLUSTER_DIR"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$PG_CLUSTER_DIR"
  fi
  pg_as_owner "$bin/initdb" -D "$PG_CLUSTER_DIR/data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$PG_CLUSTER_DIR/initdb.log" 2>&1 || {
    cat "$PG_CLUSTER_DIR/initdb.log" >&2
    return 1
  }
  pg_as_owner "$bin/pg_ctl" -D "$PG_CLUSTER_DIR/data" -l "$PG_CLUSTER_DIR/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_CLUSTER_DIR -c fsync=${PG_FSYNC:-off}" start >/dev/null || {
    cat "$PG_CLUSTER_DIR/server.log" >&2
    return 1
  }
  export PG_PORT=$port PG_DIR=$PG_CLUSTER_DIR
  export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=$db
  psql -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null &&
    psql -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION postgis" >/dev/null || return 1
  export PG_URL="postgresql://postgres@127.0.0.1:$port/$db"
}
