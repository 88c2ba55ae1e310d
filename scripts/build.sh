#!/usr/bin/env bash
# Configures and builds cutroom. Usage: scripts/build.sh [release|sanitize] [--configure-only]
#   release   build/release   (RelWithDebInfo; the binary is build/release/cutroom)
#   sanitize  build/sanitize  (Debug, clang, AddressSanitizer + UndefinedBehaviorSanitizer,
#                              libFuzzer coverage: the unit tests and the fuzz targets)
set -euo pipefail
cd "$(dirname "$0")/.."
flavor="${1:-release}"
jobs="${CUTROOM_JOBS:-$(nproc)}"
case "$flavor" in
  release)  args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  sanitize)
    # One clang build for the sanitizers and the fuzzers: the libraries
    # compile once for both (scripts/test.sh, scripts/fuzz.sh). The tests
    # share the release tree's synthetic media.
    export CC=clang CXX=clang++
    args=(-DCMAKE_BUILD_TYPE=Debug -DCUTROOM_SANITIZE=ON -DCUTROOM_FUZZ=ON
          -DCUTROOM_TEST_MEDIA_DIR="$PWD/build/release/test-media")
    if [ -f build/sanitize/CMakeCache.txt ] && ! grep -q '^CUTROOM_FUZZ:BOOL=ON' build/sanitize/CMakeCache.txt; then
      rm -rf build/sanitize  # an older gcc tree: cmake cannot switch its compiler
    fi ;;
  *) echo "usage: $0 [release|sanitize] [--configure-only]" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavor" -G Ninja "${args[@]}" >/dev/null
[ "${2:-}" = "--configure-only" ] && exit 0
cmake --build "build/$flavor" -j "$jobs"
# The web UI (web/dist, served by `cutroom serve`), once scripts/install-deps.sh
# has installed its packages; skipped when nothing under web/ changed since
# the last build.
if [ -d web/node_modules ]; then
  if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/index.html web/package.json web/package-lock.json \
      web/tsconfig.json web/vite.config.ts -newer web/dist/index.html -print -quit)" ]; then
    npm --prefix web run build --silent
  else
    echo "build: web/dist is up to date"
  fi
else
  echo "build: web/node_modules missing (run scripts/install-deps.sh): the web UI is not built"
fi
