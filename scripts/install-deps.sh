#!/usr/bin/env bash
# Installs every Debian 12 package cutroom needs to build, run and test.
# Idempotent and non-interactive; run as root (or with sudo available).
# Only apt-get fetches here: nothing is cloned, downloaded or vendored.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git ca-certificates
  # the sanitizer build and the fuzz targets (libFuzzer is in compiler-rt)
  clang libclang-rt-14-dev
  # media
  libavformat-dev libavcodec-dev libavfilter-dev libavutil-dev libswscale-dev libswresample-dev
  # flite: its rms voice is speech pocketsphinx reads almost word for word, for
  # the synthetic test media (tests/support) and the sample video
  ffmpeg flite
  # service plumbing
  libcpp-httplib-dev nlohmann-json3-dev libsqlite3-dev sqlite3 libpqxx-dev libpq-dev
  libcurl4-openssl-dev libssl-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libmagic-dev
  # analysis
  libpocketsphinx-dev libsphinxbase-dev pocketsphinx pocketsphinx-en-us
  libtesseract-dev tesseract-ocr tesseract-ocr-eng
  libopencv-dev libopencv-contrib-dev opencv-data opencv-doc
  # burned-in captions (libass in libavfilter needs a font)
  fonts-dejavu-core fontconfig
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev python3 postgresql
  # FCPXML exports are parsed back with libxml2 in the tests (test only)
  libxml2-dev
  # web UI and browser/protocol tests
  nodejs chromium
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# Debian's nodejs ships npm separately; NodeSource's includes it.
if ! command -v npm >/dev/null 2>&1; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm
fi

# Node packages for the protocol and browser tests (tests/e2e has its own lockfile).
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ -f "$here/tests/e2e/package.json" ]; then
  (cd "$here/tests/e2e" && npm install --no-audit --no-fund --loglevel=error)
fi
# s3rver, the S3-compatible server the storage tests start (its own lockfile).
if [ -f "$here/tests/fakes/s3rver/package.json" ]; then
  (cd "$here/tests/fakes/s3rver" && npm ci --no-audit --no-fund --loglevel=error)
fi
# The web UI's build tools and libraries (web/ has its own lockfile; npm ci installs exactly it).
if [ -f "$here/web/package.json" ]; then
  (cd "$here/web" && npm ci --no-audit --no-fund --loglevel=error)
fi
