#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/targets.h) with clang, ASan and UBSan
# into build/fuzz and runs them on the committed seeds.
#
#   scripts/fuzz.sh                 every target, 20 s each (what CI runs)
#   scripts/fuzz.sh url 600         one target for 10 minutes
#
# New inputs libFuzzer finds go to build/fuzz/corpus/<target> (the seeds in
# fuzz/corpus stay as committed); a crash is written to
# build/fuzz/crashes/<target>-* and fails the run. Fix it, then add the
# input to fuzz/regressions/<target>/ so fuzz_replay_test keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(tus_headers url retention_import edit_plan ass_captions media_probe s3_xml http_request api_routes)
if [ $# -ge 1 ] && [ "$1" != all ]; then targets=("$1"); fi
seconds="${2:-20}"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
jobs="${CUTROOM_JOBS:-$(nproc)}"

CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCUTROOM_FUZZ=ON \
  -DCUTROOM_BUILD_TESTS=OFF >/dev/null
cmake --build build/fuzz -j "$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p build/fuzz/crashes
status=0
for t in "${targets[@]}"; do
  mkdir -p "build/fuzz/corpus/$t"
  echo "== fuzz_$t for ${seconds} s"
  if ! "build/fuzz/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -dict="fuzz/dict/$t.dict" -artifact_prefix="build/fuzz/crashes/$t-" \
      "build/fuzz/corpus/$t" "fuzz/corpus/$t" 2>"build/fuzz/$t.log"; then
    echo "fuzz_$t FAILED: see build/fuzz/$t.log and build/fuzz/crashes/" >&2
    tail -40 "build/fuzz/$t.log" >&2
    status=1
  else
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "build/fuzz/$t.log" | tr '\n' ' '
    echo
  fi
done
exit $status
