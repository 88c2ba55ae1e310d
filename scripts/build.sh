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
