#!/usr/bin/env bash
# Unit tests of the map page's DOM-free modules (web/src: api, format, period, permalink,
# popups, style) with node's built-in test runner; no npm packages needed.
# Exits non-zero when a test fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
exec node --test web/test/
