#!/usr/bin/env bash
# Serves PostGIS tables made from GeoJSON files next to the same files, and checks through the
# API that both layers are identical (ids, properties, geometries with altitudes): the default
# atlas's incidents, and a copy of them with altitudes plus a 3D line and polygon. Then a change
# of the incidents table (a trigger sends NOTIFY) must show in the API, also after PostgreSQL
# restarts. Starts a
# throwaway PostgreSQL cluster (tests/support/pg_cluster.sh; PostgreSQL and PostGIS from
# scripts/install-deps.sh) and removes it at the end. Python standard library only.
# SKIP_BUILD=1 reuses target/release/khorasan-atlas. POSTGIS_TEST_PORT (default 18159) is the
# server's port; PG_PORT picks the cluster's (default: the first free one from 18150).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/postgis"
cd "$ROOT"
source tests/support/pg_cluster.sh
source tests/support/atlas_server.sh

WORK=$(mktemp -d)
cleanup() {
  stop_atlas_servers
  stop_pg_cluster
  rm -rf "$WORK"
}
trap cleanup EXIT
start_pg_cluster
trap cleanup EXIT

python3 "$HERE/check.py" altitude geodata/incidents.geojson "$WORK/incidents3d.geojson"
layers=""
for pair in incidents:"$ROOT/geodata/incidents.geojson" incidents3d:"$WORK/incidents3d.geojson"; do
  name=${pair%%:*} file=${pair#*:}
  python3 "$HERE/table_sql.py" "$file" "$name" | psql -q -v ON_ERROR_STOP=1 >/dev/null
  layers+="
[[layers]]
id = \"file_$name\"
file = \"$file\"

[[layers]]
id = \"pg_$name\"
postgis = { table = \"$name\", id_column = \"fid\", notify_channel = \"atlas_$name\", properties = $(python3 "$HERE/table_sql.py" --properties "$file") }
"
done
# A change of the incidents table notifies the server, which reads the table again.
psql -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE FUNCTION atlas_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], '');
  RETURN NULL;
END $$;
CREATE TRIGGER incidents_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON incidents
  FOR EACH STATEMENT EXECUTE FUNCTION atlas_notify('atlas_incidents');
SQL
cat >"$WORK/atlas.toml" <<TOML
[server]
postgis_url = "$PG_URL"
$layers
TOML

started=$(date +%s%N)
start_atlas_server "${POSTGIS_TEST_PORT:-18159}" --config "$WORK/atlas.toml" \
  --data-dir "$WORK/data"
trap cleanup EXIT
echo "server with PostGIS layers ready in $((($(date +%s%N) - started) / 1000000)) ms"
grep -E "reading PostGIS|layer loaded" "$ATLAS_SERVER_LOG" | sed 's/^/  /' || true

timeout 120 python3 "$HERE/check.py" compare "$BASE" geodata/incidents.geojson \
  file_incidents pg_incidents
timeout 120 python3 "$HERE/check.py" compare "$BASE" "$WORK/incidents3d.geojson" \
  file_incidents3d pg_incidents3d

# Refresh on NOTIFY: one row updated and one deleted in one transaction.
first=$(psql -Atc "SELECT fid FROM incidents ORDER BY fid LIMIT 1")
last=$(psql -Atc "SELECT fid FROM incidents ORDER BY fid DESC LIMIT 1")
count=$(psql -Atc "SELECT count(*) - 1 FROM incidents")
psql -q -v ON_ERROR_STOP=1 -c "BEGIN; UPDATE incidents SET title = 'changed in PostGIS'
  WHERE fid = '$first'; DELETE FROM incidents WHERE fid = '$last'; COMMIT;"
timeout 30 python3 "$HERE/check.py" changed "$BASE" pg_incidents "$first" \
  "changed in PostGIS" "$count"

# After PostgreSQL restarts, the server listens again and reads the table again.
restart_pg_cluster
psql -q -v ON_ERROR_STOP=1 -c "UPDATE incidents SET title = 'after a restart' WHERE fid = '$first'"
timeout 30 python3 "$HERE/check.py" changed "$BASE" pg_incidents "$first" \
  "after a restart" "$count"
echo "postgis: ok"
