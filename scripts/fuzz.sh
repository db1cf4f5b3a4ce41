#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ (nightly toolchain, libFuzzer, AddressSanitizer).
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]   # each target SECONDS (default 600), 2 at a time
#   bash scripts/fuzz.sh seed                    # rewrite seeds from the repo, minimize corpora
#   bash scripts/fuzz.sh cmin [TARGET...]        # minimize the committed corpora (set cover)
#   SMOKE=1 bash scripts/fuzz.sh 20              # leave fuzz/corpus untouched (tests/fuzz-smoke.sh)
#
# Targets: geojson_load (any bytes as a layer file), query_params (the query string of every
# read endpoint), tile_render (arbitrary points, lines and polygons through clip, simplify and
# encode, the tile decoded and its polygons checked valid), write_body (write request bodies
# through the store's rules). Each run stops a unit after TIMEOUT seconds (a hang), at RSS
# beyond RSS_MB or a single allocation beyond MALLOC_MB (unbounded allocation), and on any
# crash or panic; the failing input is kept in fuzz/artifacts/<target>/ and the script exits 1.
# New inputs go to fuzz/corpus/<target>/ (then minimized), or with SMOKE=1 to a scratch
# directory under fuzz/target/ that is removed. Logs: fuzz/logs/<target>.log.
#
# Needs the nightly toolchain and cargo-fuzz: `scripts/install-deps.sh fuzz` installs them
# when missing (rustup, cargo install).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS_ALL=(geojson_load query_params tile_render write_body)
JOBS=${JOBS:-2}
TIMEOUT=${TIMEOUT:-10}
RSS_MB=${RSS_MB:-2048}
MALLOC_MB=${MALLOC_MB:-512}
FUZZ=(cargo +nightly fuzz)

mode=run
seconds=600
case "${1:-}" in
  seed | cmin) mode=$1; shift ;;
  '' ) ;;
  *[!0-9]*) ;;
  *) seconds=$1; shift ;;
esac
targets=("$@")
((${#targets[@]})) || targets=("${TARGETS_ALL[@]}")

bash scripts/install-deps.sh fuzz

# Extra libFuzzer flags of a target: dictionaries and input sizes.
flags_of() {
  case "$1" in
    geojson_load) echo "-max_len=16384" ;;
    query_params) echo "-max_len=2048 -dict=fuzz/query.dict" ;;
    tile_render) echo "-max_len=8192" ;;
    write_body) echo "-max_len=8192" ;;
  esac
}

build() {
  echo "== cargo fuzz build (release, debug assertions, AddressSanitizer)"
  local started=$SECONDS
  nice -n 10 "${FUZZ[@]}" build -O
  echo "== built in $((SECONDS - started)) s"
}

# Minimizes a corpus: the smallest set of inputs that keeps every feature the corpus
# reaches (libFuzzer's set-cover merge), in place of the corpus.
cmin() {
  local t=$1 dir=fuzz/corpus/$1 tmp
  mkdir -p "$dir"
  tmp=$(mktemp -d fuzz/target/cmin.XXXXXX)
  # shellcheck disable=SC2046
  if nice -n 10 "${FUZZ[@]}" run -O "$t" "$tmp" "$dir" -- -set_cover_merge=1 $(flags_of "$t") \
    -rss_limit_mb="$RSS_MB" >"fuzz/logs/$t.cmin.log" 2>&1; then
    rm -rf "$dir" && mv "$tmp" "$dir"
  else
    rm -rf "$tmp"
    echo "$t: minimizing failed, corpus kept (fuzz/logs/$t.cmin.log)" >&2
  fi
  echo "$t: corpus $(find "$dir" -type f | wc -l) files, $(cat "$dir"/* 2>/dev/null | wc -c) bytes"
}

mkdir -p fuzz/logs
build
if [[ $mode == seed ]]; then
  python3 fuzz/make_seeds.py
  for t in "${targets[@]}"; do cmin "$t"; done
  exit 0
fi
if [[ $mode == cmin ]]; then
  for t in "${targets[@]}"; do cmin "$t"; done
  exit 0
fi

scratch=""
if [[ ${SMOKE:-0} == 1 ]]; then
  scratch=$(mktemp -d fuzz/target/smoke.XXXXXX)
  trap 'rm -rf "$scratch"' EXIT
fi

run_one() {
  local t=$1 log=fuzz/logs/$1.log corpus=(fuzz/corpus/$1)
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  if [[ -n $scratch ]]; then
    mkdir -p "$scratch/$t"
    corpus=("$scratch/$t" "fuzz/corpus/$t")
  fi
  # shellcheck disable=SC2046
  nice -n 10 "${FUZZ[@]}" run -O "$t" "${corpus[@]}" -- \
    -max_total_time="$seconds" -timeout="$TIMEOUT" -rss_limit_mb="$RSS_MB" \
    -malloc_limit_mb="$MALLOC_MB" -print_final_stats=1 $(flags_of "$t") \
    -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1
}

summary() {
  local t=$1 log=fuzz/logs/$1.log status=$2
  local execs cov ft secs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  printf '%-13s %-6s %6ss %10s execs  cov %6s  ft %6s  corpus %s files\n' "$t" "$status" \
    "${secs:-?}" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$(find "fuzz/corpus/$t" -type f | wc -l)"
}

echo "== fuzzing ${targets[*]}: ${seconds} s each, $JOBS at a time"
declare -A pids=()
failed=()
results=()
wait_one() {
  local done_pid rc=0 t status
  wait -n -p done_pid || rc=$?
  for t in "${!pids[@]}"; do
    [[ ${pids[$t]} == "$done_pid" ]] || continue
    status=ok
    ((rc == 0)) || { status=FAIL; failed+=("$t"); }
    results+=("$(summary "$t" "$status")")
    unset "pids[$t]"
  done
}
for t in "${targets[@]}"; do
  while ((${#pids[@]} >= JOBS)); do wait_one; done
  run_one "$t" &
  pids[$t]=$!
done
while ((${#pids[@]})); do wait_one; done

printf '%s\n' "${results[@]}"
if ((${#failed[@]})); then
  for t in "${failed[@]}"; do
    echo "== $t failed: fuzz/logs/$t.log, input in fuzz/artifacts/$t/" >&2
    grep -m5 -E 'panicked|ERROR|SUMMARY' "fuzz/logs/$t.log" >&2 || true
  done
  exit 1
fi
if [[ -z $scratch ]]; then
  for t in "${targets[@]}"; do cmin "$t"; done
fi
