#!/usr/bin/env bash
# Crash soak: 20 mixed clients (tus, multipart, processing and render jobs)
# against one `cutroom serve` that is killed with SIGKILL at random moments
# and restarted on the same data dir; then every upload, job and file is
# checked. Too slow for CI. Exits 1 on any violation. See README.md.
#
#   bench/soak/run.sh                       # 120 s, 5 kills
#   DURATION_S=300 KILLS=12 bench/soak/run.sh
#   SEED=1234 bench/soak/run.sh             # replay one plan (client choices and kill times)
#
# Environment:
#   DURATION_S=120      how long the clients run (kills happen inside it)
#   KILLS=5             kill -9 + restart this many times
#   TUS_CLIENTS=8 MULTIPART_CLIENTS=6 JOB_CLIENTS=6
#   LEASE_MS=5000       workers.lease_ms: a killed server's running jobs are taken over after it
#   WORKERS=            workers.count (default: cutroom's own, one per core)
#   RATE_KBPS=1000      each client's upload rate in kB/s (throttled so kills land mid-body; 0: no limit)
#   MEDIA_COUNT=10      distinct 320x180 test videos (2-6 s, lavfi sources + sine)
#   SEED=               random seed (printed; default random)
#   CUTROOM_BINARY      default <repo>/build/release/cutroom
#   BENCH_TMPDIR        parent of the work dir (default $TMPDIR or /tmp)
#   KEEP=0              1: keep the work dir (data, serve.log, fsck.txt); it is always kept on failure
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DURATION_S=${DURATION_S:-120}
KILLS=${KILLS:-5}
TUS_CLIENTS=${TUS_CLIENTS:-8}
MULTIPART_CLIENTS=${MULTIPART_CLIENTS:-6}
JOB_CLIENTS=${JOB_CLIENTS:-6}
LEASE_MS=${LEASE_MS:-5000}
WORKERS=${WORKERS:-0}
RATE_KBPS=${RATE_KBPS:-1000}
MEDIA_COUNT=${MEDIA_COUNT:-10}
SEED=${SEED:-}
CUTROOM_BINARY=${CUTROOM_BINARY:-$REPO/build/release/cutroom}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
KEEP=${KEEP:-0}

log() { printf '[soak] %s\n' "$*" >&2; }
die() { printf '[soak] error: %s\n' "$*" >&2; exit 2; }
for tool in python3 ffmpeg; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ -x $CUTROOM_BINARY ]] || die "$CUTROOM_BINARY is missing (scripts/build.sh)"

mkdir -p "$BENCH_TMPDIR"
WORK=$(mktemp -d "$BENCH_TMPDIR/cutroom-soak.XXXXXX")
cleanup() {
  local rc=$?
  if [[ $KEEP == 1 || $rc != 0 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
avail_mib=$(df -Pm "$WORK" | awk 'NR == 2 { print $4 }')
((avail_mib > 2048)) || die "need 2 GiB free under $BENCH_TMPDIR, have $avail_mib MiB"

# --- media: small, real and all different -------------------------------------
sources=(testsrc testsrc2 smptebars rgbtestsrc smptehdbars yuvtestsrc pal75bars "mandelbrot" "life=ratio=0.2:mold=10"
  "cellauto=rule=110")
mkdir -p "$WORK/media"
media=()
for ((i = 0; i < MEDIA_COUNT; i++)); do
  a=${sources[i % ${#sources[@]}]}
  b=${sources[(i * 3 + 1) % ${#sources[@]}]}
  d1=$((1 + i % 3))
  d2=$((1 + (i * 7) % 4)) # 2-6 s in all, with a cut between two sources
  freq=$((220 + 110 * i))
  sep=$([[ $a == *=* ]] && echo : || echo =)
  sep2=$([[ $b == *=* ]] && echo : || echo =)
  out=$WORK/media/soak-$i.mp4
  ffmpeg -hide_banner -loglevel error -nostdin -y \
    -f lavfi -t "$d1" -i "${a}${sep}size=320x180:rate=25" \
    -f lavfi -t "$d2" -i "${b}${sep2}size=320x180:rate=25" \
    -f lavfi -i "sine=frequency=$freq:duration=$((d1 + d2))" \
    -filter_complex "[0:v]format=yuv420p[a];[1:v]format=yuv420p[b];[a][b]concat=n=2:v=1:a=0[v]" \
    -map '[v]' -map 2:a -c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p -c:a aac -b:a 48k \
    -metadata comment="cutroom soak $i" -shortest "$out"
  media+=("$out")
done
log "made ${#media[@]} media files ($(du -sh "$WORK/media" | cut -f1)) in $WORK/media"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
args=(--binary "$CUTROOM_BINARY" --work "$WORK" --port "$PORT" --duration-s "$DURATION_S" --kills "$KILLS"
  --tus-clients "$TUS_CLIENTS" --multipart-clients "$MULTIPART_CLIENTS" --job-clients "$JOB_CLIENTS"
  --lease-ms "$LEASE_MS" --workers "$WORKERS" --rate-kbps "$RATE_KBPS" --media "${media[@]}")
[[ -n $SEED ]] && args+=(--seed "$SEED")
python3 "$HERE/soak.py" "${args[@]}"
