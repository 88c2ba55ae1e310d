#!/usr/bin/env bash
# Builds cutroom and runs every test on the release build, then builds the
# unit tests with clang, AddressSanitizer + UBSan and runs them again, then
# runs every libFuzzer target for CUTROOM_FUZZ_SECONDS (10) on its seeds.
# (Media, http and e2e tests under the sanitizers would double CI's time:
# run them with `scripts/test.sh --sanitize-all` before changing media or
# API code.)
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
jobs="${CUTROOM_JOBS:-$(nproc)}"
start=$(date +%s)

echo "== build (release)"
scripts/build.sh release
echo "== tests (release)"
(cd build/release && ctest -j "$jobs" --output-on-failure --timeout 600)

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# One clang build serves the sanitizers and the fuzzers (scripts/build.sh
# sanitize): every library is built with ASan, UBSan and libFuzzer's
# coverage instrumentation, the unit tests link them as they are and the
# fuzz targets add libFuzzer's main, so the code compiles once for both.
scripts/build.sh sanitize --configure-only
if [ "${1:-}" = "--sanitize-all" ]; then
  echo "== build (sanitize, everything)"
  cmake --build build/sanitize -j "$jobs"
  echo "== tests (ASan + UBSan, all but e2e)"
  (cd build/sanitize && ctest -j "$jobs" --output-on-failure --timeout 900 -LE e2e)
else
  echo "== build (sanitize: unit tests and fuzz targets)"
  # The executables that hold the tests labelled unit.
  cmake --build build/sanitize -j "$jobs" --target core_test db_test storage_test ingest_test jobs_test ai_test \
    edit_captions_test edit_plan_test plan_export_test retention_model_test retention_import_test retention_chart_test \
    clips_test reframe_test videodb_test edit_spec_test fuzz_replay_test http_test
  # A unit test in an executable missing from that list would not run here:
  # the counts must match the release tree's.
  want=$(cd build/release && ctest -N -L unit | sed -n 's/^Total Tests: //p')
  have=$(cd build/sanitize && ctest -N -L unit | sed -n 's/^Total Tests: //p')
  if [ "$want" != "$have" ]; then
    echo "test.sh: $want unit tests in build/release but $have in build/sanitize: add the new test executable to the list" >&2
    exit 1
  fi
  echo "== tests (ASan + UBSan, unit)"
  (cd build/sanitize && ctest -j "$jobs" --output-on-failure --timeout 900 -L unit)
fi
# Every fuzz target for a short time on the committed seeds, so that a
# change which makes a parser crash on them, or near them, fails here.
FUZZ_BUILD=build/sanitize scripts/fuzz.sh all "${CUTROOM_FUZZ_SECONDS:-10}"

echo "== all tests passed in $(( $(date +%s) - start )) s"
