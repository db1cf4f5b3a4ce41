#!/usr/bin/env bash
# Installs the system packages `make test` needs, when they are missing, on Debian.
#
#   gdal-bin                      ogrinfo/ogr2ogr: OGC API Features and MVT read by GDAL
#   chromium fonts-dejavu-core    headless browser tests of the map pages
#   python3-qgis qgis-providers   QGIS draws the vector tiles (PyQGIS, offscreen)
#   python3-venv                  the pinned Python tools of the contract tests
#   curl                          the test scripts' health checks
#   postgresql postgresql-15-postgis-3
#                                 the throwaway PostGIS cluster of tests/postgis
#                                 (tests/support/pg_cluster.sh)
#
#   bash scripts/install-deps.sh fuzz    also the fuzzing tools (scripts/fuzz.sh): the nightly
#                                        toolchain (rustup) and cargo-fuzz (cargo install)
#   bash scripts/install-deps.sh bench   also wrk, the load generator of benches/
#
# Uses apt-get directly as root, through sudo otherwise; when neither is possible it names
# the missing packages and exits 1. Nothing is installed when everything is present, so a
# second `make test` does not touch the network for system packages.
set -euo pipefail

need=()
for extra in "$@"; do
  case "$extra" in
    fuzz)
      if ! rustup run nightly rustc --version >/dev/null 2>&1; then
        echo "install-deps: installing the nightly toolchain (rustup)" >&2
        rustup toolchain install nightly --profile minimal
      fi
      if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "install-deps: installing cargo-fuzz (cargo install)" >&2
        cargo install cargo-fuzz --locked
      fi
      ;;
    bench) command -v wrk >/dev/null 2>&1 || need+=(wrk) ;;
    *) echo "install-deps: unknown extra '$extra' (fuzz, bench)" >&2; exit 2 ;;
  esac
done
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium fonts-dejavu-core)
command -v curl >/dev/null 2>&1 || need+=(curl)
/usr/bin/python3 -c 'import qgis.core' >/dev/null 2>&1 || need+=(python3-qgis qgis-providers)
/usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || need+=(postgresql-15-postgis-3)

if ((${#need[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${need[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "install-deps: these Debian packages are missing: ${need[*]}" >&2
  echo "install-deps: install them as root:  apt-get install -y --no-install-recommends ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
