#!/usr/bin/env bash
# Configures and builds cutroom. Usage: scripts/build.sh [release|sanitize]
#   release   build/release   (RelWithDebInfo; the binary is build/release/cutroom)
#   sanitize  build/sanitize  (Debug with AddressSanitizer + UndefinedBehaviorSanitizer)
set -euo pipefail
cd "$(dirname "$0")/.."
flavor="${1:-release}"
jobs="${CUTROOM_JOBS:-$(nproc)}"
case "$flavor" in
  release)  args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  sanitize) args=(-DCMAKE_BUILD_TYPE=Debug -DCUTROOM_SANITIZE=ON) ;;
  *) echo "usage: $0 [release|sanitize]" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavor" -G Ninja "${args[@]}" >/dev/null
cmake --build "build/$flavor" -j "$jobs"
