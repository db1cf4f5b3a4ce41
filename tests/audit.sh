#!/usr/bin/env bash
# Checks Cargo.lock against the RustSec advisory database with cargo-audit.
#   1. the advisory database (https://github.com/rustsec/advisory-db) must be reachable:
#      when it is not (no network), say so and exit 0, since nothing can be checked;
#   2. cargo-audit is used when installed, else installed once with a pinned version
#      (cargo install --locked, a few minutes of compiling);
#   3. `cargo audit` fetches the database and fails on any advisory that affects a locked
#      crate (vulnerabilities; warnings such as unmaintained crates are printed).
# Environment: AUDIT_DB_URL (default the RustSec database), CARGO_AUDIT_VERSION.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DB_URL="${AUDIT_DB_URL:-https://github.com/rustsec/advisory-db}"
VERSION="${CARGO_AUDIT_VERSION:-0.21.2}"

if ! reason="$(timeout 30 git ls-remote "$DB_URL" HEAD 2>&1 >/dev/null)"; then
  echo "audit.sh: SKIPPED: the advisory database $DB_URL cannot be reached:" >&2
  echo "  ${reason:-timed out after 30 s}" >&2
  exit 0
fi

if ! cargo audit --version >/dev/null 2>&1; then
  echo "== installing cargo-audit $VERSION"
  cargo install --locked cargo-audit --version "$VERSION"
fi

cd "$ROOT"
echo "== cargo audit ($(cargo audit --version))"
timeout 600 cargo audit --db "${CARGO_HOME:-$HOME/.cargo}/advisory-db" --url "$DB_URL"
