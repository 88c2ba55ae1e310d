#!/usr/bin/env bash
# Frame sampling benchmark: one frame every 10 s of a 10-minute 1280x720
# H.264 video, cutroom's VideoDecoder::FrameAt (frames_bench) against
# `ffmpeg -vf fps=1/10`, which decodes every frame. Both write JPEGs of the
# same frames at the same quality; both run in this one run, on the same
# cached file, for two keyframe intervals (2 s and 10 s).
# Not a test: it prints a table, marks missed targets and exits 0 unless
# something broke. See README.md beside this file.
#
#   bench/frames/run.sh
#   DURATION=120 REPEAT=1 bench/frames/run.sh     # quick smoke run
#
# Environment:
#   FRAMES_BENCH   the frames_bench binary (default: the first found under
#                  build/*/bench/frames/; build with -DCUTROOM_BUILD_BENCH=ON)
#   CACHE_DIR      where the generated videos are kept between runs
#                  (default ${XDG_CACHE_HOME:-~/.cache}/cutroom-bench-frames)
#   DURATION=600   length of the generated videos in seconds
#   PRESET=veryfast  x264 preset for generating them (veryfast has B-frames)
#   EVERY=10       seconds between sampled frames
#   THREADS=2      ffmpeg's decoder threads (-threads)
#   CONFIGS="1x2 2x1"  frames_bench runs as JOBSxTHREADS: decoders working in
#                  parallel x threads each (both use the same 2 cores as ffmpeg)
#   REPEAT=3       runs of each measurement; the fastest counts
#   VERIFY=1       check that both tools wrote the same frames (PSNR of the
#                  first, middle and last pair)
#   KEEP=0         1: keep the output dir
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

CACHE_DIR=${CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cutroom-bench-frames}
DURATION=${DURATION:-600}
PRESET=${PRESET:-veryfast}
EVERY=${EVERY:-10}
THREADS=${THREADS:-2}
CONFIGS=${CONFIGS:-1x2 2x1}
REPEAT=${REPEAT:-3}
VERIFY=${VERIFY:-1}
KEEP=${KEEP:-0}

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
for tool in ffmpeg ffprobe awk; do command -v "$tool" >/dev/null || die "$tool is required"; done

if [[ -z ${FRAMES_BENCH:-} ]]; then
  for candidate in "$REPO"/build/*/bench/frames/frames_bench "$REPO"/build/*/*/bench/frames/frames_bench; do
    [[ -x $candidate ]] && { FRAMES_BENCH=$candidate; break; }
  done
fi
[[ -x ${FRAMES_BENCH:-} ]] || die "frames_bench not found: configure with -DCUTROOM_BUILD_BENCH=ON, build frames_bench, or set FRAMES_BENCH"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cutroom-bench-frames.XXXXXX")
cleanup() { [[ $KEEP == 1 ]] && log "kept $WORK" || rm -rf "$WORK"; }
trap cleanup EXIT

# --- sources (cached) ----------------------------------------------------------
# -g N -keyint_min N -sc_threshold 0: a keyframe exactly every N frames and
# nowhere else, so the interval is what the table says.
make_source() {
  local gop=$1 out="$CACHE_DIR/testsrc2-720p30-${DURATION}s-g${gop}-${PRESET}.mp4"
  if [[ ! -s $out ]]; then
    mkdir -p "$CACHE_DIR"
    log "generating $out (once; cached)"
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=30" -t "$DURATION" \
      -c:v libx264 -preset "$PRESET" -g "$gop" -keyint_min "$gop" -sc_threshold 0 -pix_fmt yuv420p \
      -movflags +faststart "$out.tmp.mp4"
    mv "$out.tmp.mp4" "$out"
  fi
  echo "$out"
}

# Best wall-clock seconds of REPEAT runs of "$@" (output dir emptied each time).
time_best() {
  local out=$1; shift
  local best="" start end secs
  for ((i = 0; i < REPEAT; i++)); do
    rm -rf "$out"; mkdir -p "$out"
    start=$(now)
    "$@" >"$WORK/last.log" 2>&1 || { cat "$WORK/last.log" >&2; die "failed: $*"; }
    end=$(now)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    if [[ -z $best ]] || awk -v s="$secs" -v b="$best" 'BEGIN { exit !(s < b) }'; then best=$secs; fi
  done
  echo "$best"
}

psnr() {
  ffmpeg -nostdin -v info -i "$1" -i "$2" -lavfi psnr -f null - 2>&1 |
    awk '/PSNR/ { for (i = 1; i <= NF; i++) if ($i ~ /^average:/) { sub("average:", "", $i); print $i } }'
}

rows=()
row() { rows+=("$(printf '%-14s %-38s %9s %7s %10s %7s   %s' "$@")"); }
for gop_s in 2 10; do
  gop=$((gop_s * 30))
  src=$(make_source "$gop")
  cat "$src" >/dev/null  # every run reads it from the page cache
  target=$([[ $gop_s == 2 ]] && echo 5 || echo 2)
  label="${gop_s} s (g=$gop)"
  ff_out="$WORK/ffmpeg-g$gop"
  log "keyframes every ${gop_s} s: ffmpeg"
  ff_s=$(time_best "$ff_out" ffmpeg -nostdin -v error -threads "$THREADS" -i "$src" \
    -vf "fps=1/$EVERY" -q:v 3 "$ff_out/%04d.jpg")
  ff_n=$(find "$ff_out" -name '*.jpg' | wc -l)
  row "$label" "ffmpeg -threads $THREADS" "$ff_s" "$ff_n" "1.0x" "" ""
  for config in $CONFIGS; do
    jobs=${config%x*} threads=${config#*x}
    cr_out="$WORK/cutroom-g$gop-$config"
    log "keyframes every ${gop_s} s: frames_bench --jobs $jobs --threads $threads"
    cr_s=$(time_best "$cr_out" "$FRAMES_BENCH" --input "$src" --out "$cr_out" --every "$EVERY" \
      --jobs "$jobs" --threads "$threads" --format jpg --quality 97)
    cr_n=$(find "$cr_out" -name '*.jpg' | wc -l)
    check="-"
    if [[ $VERIFY == 1 ]]; then
      n=$((ff_n < cr_n ? ff_n : cr_n))
      worst=""
      for k in 1 $(((n + 1) / 2)) "$n"; do
        f=$(printf '%04d.jpg' "$k")
        p=$(psnr "$ff_out/$f" "$cr_out/$f")
        if [[ -z $worst ]] || awk -v p="$p" -v w="$worst" 'BEGIN { exit !(p < w) }'; then worst=$p; fi
      done
      check=$(awk -v w="$worst" 'BEGIN { printf "min PSNR %.1f dB", w }')
    fi
    ratio=$(awk -v f="$ff_s" -v c="$cr_s" 'BEGIN { printf "%.1fx", f / c }')
    mark=$(awk -v f="$ff_s" -v c="$cr_s" -v t="$target" 'BEGIN { print (f / c >= t) ? "" : " *" }')
    what="frames_bench, $jobs decoder$([[ $jobs == 1 ]] || echo s) x $threads thread$([[ $threads == 1 ]] || echo s)"
    row "$label" "$what" "$cr_s" "$cr_n" "$ratio$mark" ">=${target}x" "$check"
  done
done

echo
echo "one frame every ${EVERY} s of a ${DURATION} s 1280x720 30 fps H.264 video (x264 $PRESET), best of $REPEAT runs"
printf '%-14s %-38s %9s %7s %10s %7s   %s\n' "keyframes" "run" "seconds" "frames" "vs ffmpeg" "target" "same frames"
for r in "${rows[@]}"; do echo "$r"; done
echo "(* = target missed; ffmpeg: -threads $THREADS -i F -vf fps=1/$EVERY -q:v 3 OUT/%04d.jpg)"
