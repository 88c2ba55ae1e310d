#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/targets.h) with clang, ASan and UBSan
# and runs them on the committed seeds, CUTROOM_JOBS (default: every core)
# targets at a time.
#
#   scripts/fuzz.sh                 every target, 20 s each
#   scripts/fuzz.sh url 600         one target for 10 minutes
#   scripts/fuzz.sh url 0           one target until stopped
#   FUZZ_BUILD=build/sanitize scripts/fuzz.sh all 10
#                                   what scripts/test.sh runs: the targets of
#                                   its clang sanitizer build (Debug), whose
#                                   libraries the unit tests share
#
# Without FUZZ_BUILD the targets build optimised (RelWithDebInfo) into
# build/fuzz, which is what long runs want. New inputs libFuzzer finds go to
# <build>/corpus/<target> (the seeds in fuzz/corpus stay as committed); a
# crash is written to <build>/crashes/<target>-* and fails the run. Fix it,
# then add the input to fuzz/regressions/<target>/ so fuzz_replay_test keeps
# it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(tus_headers url retention_import edit_plan ass_captions media_probe s3_xml http_request api_routes)
if [ $# -ge 1 ] && [ "$1" != all ]; then targets=("$1"); fi
seconds="${2:-20}"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
jobs="${CUTROOM_JOBS:-$(nproc)}"
build="${FUZZ_BUILD:-build/fuzz}"

if [ -z "${FUZZ_BUILD:-}" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCUTROOM_FUZZ=ON \
    -DCUTROOM_BUILD_TESTS=OFF >/dev/null
elif ! grep -q '^CUTROOM_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "fuzz.sh: $build is not a build with -DCUTROOM_FUZZ=ON (clang)" >&2
  exit 2
fi
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p "$build/crashes"

# One target: its log in <build>/<target>.log, its status as the exit code.
run_target() {
  local t="$1"
  mkdir -p "$build/corpus/$t"
  "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -dict="fuzz/dict/$t.dict" -artifact_prefix="$build/crashes/$t-" \
    "$build/corpus/$t" "fuzz/corpus/$t" 2>"$build/$t.log"
}

report() {
  local t="$1" rc="$2"
  if [ "$rc" -ne 0 ]; then
    echo "fuzz_$t FAILED (exit $rc): see $build/$t.log and $build/crashes/" >&2
    tail -40 "$build/$t.log" >&2
    return 1
  fi
  echo "fuzz_$t: $(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$build/$t.log" | tr '\n' ' ')"
}

echo "== fuzz: ${#targets[@]} target(s), ${seconds} s each, $jobs at a time"
status=0
declare -A running=()  # pid -> target
# Waits for one running target to end and reports it.
reap_one() {
  local done_pid rc
  set +e; wait -n -p done_pid "${!running[@]}"; rc=$?; set -e
  report "${running[$done_pid]}" "$rc" || status=1
  unset "running[$done_pid]"
}
for t in "${targets[@]}"; do
  while [ "${#running[@]}" -ge "$jobs" ]; do reap_one; done
  run_target "$t" &
  running[$!]="$t"
done
while [ "${#running[@]}" -gt 0 ]; do reap_one; done
exit $status
