#!/usr/bin/env bash
# Contract tests of the HTTP API against the real server:
#   1. build the server (cargo build --release; SKIP_BUILD=1 reuses the existing binary)
#   2. create the pinned Python environment tests/contract/.venv (requirements.txt) once
#   3. serve the default atlas with writes off; run schemathesis (every check, bounded) on
#      /api and the ogctests Features core and filtering modules
#   4. serve it again with writes on (KHORASAN_WRITE_TOKEN, a temporary --data-dir); run
#      schemathesis with the token
#   5. stop the servers; exit non-zero if any run failed
# Needs python3 with venv (scripts/install-deps.sh). Environment: CONTRACT_PORT (default
# 18311; the writes-on server uses the next port), ATLAS_BIN (default target/release/
# khorasan-atlas), ST_MAX_EXAMPLES (default 5), ST_MAX_TIME (seconds per schemathesis run,
# default 100).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/contract"
PORT="${CONTRACT_PORT:-18311}"
BIN="${ATLAS_BIN:-$ROOT/target/release/khorasan-atlas}"
VENV="$HERE/.venv"
cd "$ROOT"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "== building the server"
  cargo build --release --quiet
fi
if ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt" 2>/dev/null; then
  echo "== creating $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/requirements.txt"
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME PORT [VAR=VALUE...]: serves the default atlas on PORT with the given environment.
start() {
  local name=$1 port=$2
  shift 2
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null; then
    echo "run.sh: something already answers on port $port; set CONTRACT_PORT" >&2
    exit 2
  fi
  env "$@" "$BIN" --config geodata/atlas.toml --listen "127.0.0.1:$port" \
    --data-dir "$WORK/data-$name" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "run.sh: the $name server did not start; its log:" >&2
  cat "$WORK/$name.log" >&2
  exit 1
}

# Checks left out, each for a reason:
# - positive_data_acceptance expects every request that fits the schemas to succeed, but
#   some rules of this API cannot be written in an OpenAPI 3.0 schema: values that depend
#   on the collection (queryable names in properties, sortby and equality filters), on
#   another parameter (within-units without within, an interval that ends before it starts,
#   a bbox whose south is above its north, a tile column beyond 2^zoom). OGC API - Features
#   Part 1 (17-069r4) 7.15.1, /req/core/query-param-invalid, requires a 400 for those.
EXCLUDED_CHECKS=positive_data_acceptance

schemathesis() {
  local url=$1
  shift
  (cd "$WORK" && "$VENV/bin/schemathesis" run "$url/api" \
    --checks all --exclude-checks "$EXCLUDED_CHECKS" \
    --max-examples "${ST_MAX_EXAMPLES:-5}" --max-time "${ST_MAX_TIME:-100}" \
    --request-timeout 5 --seed 1 --generation-database none --no-color "$@")
}

STATUS=0
URL="http://127.0.0.1:$PORT"
start reads "$PORT"
echo "== schemathesis, writes off ($URL)"
schemathesis "$URL" || STATUS=1

echo "== ogctests features/core ($URL)"
# test_ast2 (/ats/core/crs84) fails a server that does not list Part 2's crs conformance
# class, which Part 1 does not require: 17-069r4 7.15.3 and Abstract Test A.2 only ask that
# geometries are in CRS84 when no crs parameter is given.
# test_ast15 (/ats/core/fc-bbox-response, 17-069r4 7.15.3) reads each returned feature with
# GDAL from an inline string, which fails with "JSON parsing error" on valid features of
# the countries layer; the bbox answers themselves are checked by test_ast14.
(cd "$WORK" && INSTANCE_URL="$URL" timeout 120 "$VENV/bin/python" -m pytest \
  --pyargs ogctests.features.core -p no:cacheprovider -q -W ignore::UserWarning \
  -k "not (test_crs and test_ast2) and not (test_features and test_ast15)") || STATUS=1

echo "== ogctests features/filtering ($URL)"
# OGC API - Features Part 3 (19-079r2). Run: test_ct1 (/conf/queryables/get-conformance),
# test_ct4 (/conf/queryables-query-parameters/get-conformance), test_ct6
# (/conf/filter/get-conformance). Left out because the test itself is wrong (ogctests 0.1.15):
# - test_ct2 (/conf/queryables/get-queryables-uris) compares the Link header's rel with its
#   quotes still on, and a URI relation type must be quoted (RFC 8288 3.3: a URI is not a
#   token), then stores the parsed link's href, which its parser never sets (it keeps only
#   "<iri>"), so it would pass a server with no queryables link at all;
# - test_ct3 (/conf/queryables/get-queryables) requests the list stored by test_ct2 as a URL;
# - test_ct5 (/conf/queryables-query-parameters/query-param), test_ct7
#   (/conf/filter/filter-param), test_ct8 (/conf/filter/filter-lang-default), test_ct9
#   (/conf/filter/expression-construction) and test_ct10 (/conf/filter/filter-crs-wgs84) read
#   the sample queryable, additionalProperties and spatial queryable that only test_ct3 stores
#   (KeyError); test_ct10 also names an undefined CQL2_FILTER_LANG.
# What those clauses require is tested by tests/cql2.rs and tests/cql2/run.sh.
(cd "$WORK" && INSTANCE_URL="$URL" timeout 120 "$VENV/bin/python" -m pytest \
  --pyargs ogctests.features.filtering -p no:cacheprovider -q -W ignore::UserWarning \
  -k "(test_ct1 and not test_ct10) or test_ct4 or test_ct6") || STATUS=1

TOKEN="contract-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
WURL="http://127.0.0.1:$((PORT + 1))"
start writes "$((PORT + 1))" KHORASAN_WRITE_TOKEN="$TOKEN"
echo "== schemathesis, writes on ($WURL)"
schemathesis "$WURL" -H "Authorization: Bearer $TOKEN" || STATUS=1

if [ "$STATUS" = 0 ]; then echo "contract: all passed"; else echo "contract: FAILED" >&2; fi
exit "$STATUS"
