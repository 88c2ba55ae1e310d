#!/usr/bin/env bash
# Builds cutroom and runs every test on the release build, then every test
# but the end-to-end ones again under AddressSanitizer + UBSan (the e2e
# tests drive the binary through whole jobs, which under ASan would take
# most of CI's time budget; the code they reach is covered by the unit,
# media and http tests that do run under the sanitizers).
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
jobs="${CUTROOM_JOBS:-$(nproc)}"
start=$(date +%s)

echo "== build (release)"
scripts/build.sh release
echo "== tests (release)"
(cd build/release && ctest -j "$jobs" --output-on-failure --timeout 600)

echo "== build (sanitize)"
scripts/build.sh sanitize
echo "== tests (ASan + UBSan)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd build/sanitize && ctest -j "$jobs" --output-on-failure --timeout 900 -LE e2e)

echo "== all tests passed in $(( $(date +%s) - start )) s"
