#!/usr/bin/env bash
# Clip rendering benchmark: 30 s of a 1920x1080 H.264 talk video rendered
# to a 1080x1920 (9:16, the platform size edit jobs default to) clip with
# burned-in captions, by cutroom's in-process renderer (render_bench ->
# edit::Render) and by the equivalent ffmpeg command (input seek, crop ->
# lanczos scale -> ass, libx264 veryfast CRF 20 with a 10 Mb/s VBV cap +
# AAC, +faststart), in the same run, on the same cached source and captions.
# Not a test: it prints a table, marks a missed target and exits 0 unless
# something broke. See README.md beside this file.
#
#   bench/render/run.sh
#   REPEAT=1 bench/render/run.sh          # one run of each
#
# Environment:
#   RENDER_BENCH   the render_bench binary (default: the first found under
#                  build/*/bench/render/; build with -DCUTROOM_BUILD_BENCH=ON)
#   CACHE_DIR      where the generated source is kept between runs (default:
#                  a cache folder beside render_bench, inside its build dir)
#   START=5        where the clip starts in the source (seconds)
#   DURATION=30    clip length (seconds)
#   PRESET=veryfast CRF=20 MAXRATE=10000  x264 settings (MAXRATE in kbit/s,
#                  buffer twice that; 0: no cap), the same for both
#   REPEAT=3       runs of each tool, alternating; the fastest counts
#   TARGET=1.05    cutroom / ffmpeg wall-time ratio to stay under
#   KEEP=0         1: keep the output dir
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TOOL="$REPO/../shared/tools/make_test_video.py"

START=${START:-5}
DURATION=${DURATION:-30}
PRESET=${PRESET:-veryfast}
CRF=${CRF:-20}
MAXRATE=${MAXRATE:-10000}
REPEAT=${REPEAT:-3}
TARGET=${TARGET:-1.05}
KEEP=${KEEP:-0}

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
for tool in ffmpeg ffprobe awk python3; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ -f $TOOL ]] || die "missing $TOOL (the shared test-video tool)"

if [[ -z ${RENDER_BENCH:-} ]]; then
  for candidate in "$REPO"/build/*/bench/render/render_bench "$REPO"/build/*/*/bench/render/render_bench; do
    [[ -x $candidate ]] && { RENDER_BENCH=$candidate; break; }
  done
fi
[[ -x ${RENDER_BENCH:-} ]] || die "render_bench not found: configure with -DCUTROOM_BUILD_BENCH=ON, build render_bench, or set RENDER_BENCH"
CACHE_DIR=${CACHE_DIR:-$(dirname "$RENDER_BENCH")/cache}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cutroom-bench-render.XXXXXX")
cleanup() { [[ $KEEP == 1 ]] && log "kept $WORK" || rm -rf "$WORK"; }
trap cleanup EXIT

# --- source (cached) -------------------------------------------------------------
# Twelve scenes of lavfi patterns with espeak-ng speech, about 50 s.
src="$CACHE_DIR/talk-1080p30-seed7-12scenes.mp4"
if [[ ! -s $src || ! -s $src.truth.json ]]; then
  mkdir -p "$CACHE_DIR"
  log "generating $src (once; cached)"
  python3 "$TOOL" "$src.tmp.mp4" --truth "$src.truth.json" --size 1920x1080 --fps 30 --seed 7 --scenes 12 >/dev/null
  mv "$src.tmp.mp4" "$src"
fi
src_duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$src")
awk -v d="$src_duration" -v s="$START" -v t="$DURATION" 'BEGIN { exit !(d >= s + t) }' ||
  die "the source is $src_duration s long; START + DURATION must fit"
cat "$src" >/dev/null  # both tools read it from the page cache

# --- the clip: centred 9:16 crop of the 16:9 frame, enlarged to 1080x1920 ------------
crop_w=608 crop_h=1080 crop_x=656 crop_y=0
out_w=1080 out_h=1920
# Enlarging: lanczos, as edit::Render chooses when the output is larger than the crop.
scaler=lanczos
rate_opts=()
((MAXRATE > 0)) && rate_opts=(-maxrate "${MAXRATE}k" -bufsize "$((2 * MAXRATE))k")
end=$(awk -v s="$START" -v t="$DURATION" 'BEGIN { print s + t }')
ass="$WORK/captions.ass"
"$RENDER_BENCH" --make-ass "$src.truth.json" --input "$src" --output unused --range "$START:$end" \
  --size "${out_w}x$out_h" --ass "$ass"

cutroom_cmd=("$RENDER_BENCH" --input "$src" --output "$WORK/cutroom.mp4" --range "$START:$end"
  --crop "${crop_w}x$crop_h" --size "${out_w}x$out_h" --ass "$ass" --preset "$PRESET" --crf "$CRF"
  --maxrate "$MAXRATE")
ffmpeg_cmd=(ffmpeg -nostdin -v error -y -ss "$START" -t "$DURATION" -i "$src"
  -vf "crop=$crop_w:$crop_h:$crop_x:$crop_y,scale=$out_w:$out_h:flags=$scaler,ass=$ass"
  -c:v libx264 -preset "$PRESET" -crf "$CRF" "${rate_opts[@]}" -pix_fmt yuv420p -c:a aac -b:a 128k -movflags +faststart
  "$WORK/ffmpeg.mp4")

# Wall-clock seconds of one run of "$@".
time_once() {
  local start end
  start=$(now)
  "$@" >"$WORK/last.log" 2>&1 || { cat "$WORK/last.log" >&2; die "failed: $*"; }
  end=$(now)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }

ff_best="" cr_best=""
for ((i = 0; i < REPEAT; i++)); do
  # Alternate which goes first so that neither always meets a warmer cache.
  if ((i % 2 == 0)); then
    log "run $((i + 1))/$REPEAT: ffmpeg, then cutroom"
    ff_best=$(min "$ff_best" "$(time_once "${ffmpeg_cmd[@]}")")
    cr_best=$(min "$cr_best" "$(time_once "${cutroom_cmd[@]}")")
  else
    log "run $((i + 1))/$REPEAT: cutroom, then ffmpeg"
    cr_best=$(min "$cr_best" "$(time_once "${cutroom_cmd[@]}")")
    ff_best=$(min "$ff_best" "$(time_once "${ffmpeg_cmd[@]}")")
  fi
done

# --- what each made ------------------------------------------------------------------
describe() {
  local f=$1 v a
  v=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height,nb_frames -of csv=p=0 "$f")
  a=$(ffprobe -v error -select_streams a:0 -show_entries stream=codec_name -of csv=p=0 "$f")
  printf '%s %s frames, %.3f s, audio %s, %d KiB' "${v%,*}" "${v##*,}" \
    "$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f")" "${a:-none}" $(($(stat -c %s "$f") / 1024))
}
psnr=$(ffmpeg -nostdin -v info -i "$WORK/cutroom.mp4" -i "$WORK/ffmpeg.mp4" -lavfi "[0:v][1:v]psnr" -f null - 2>&1 |
  awk '/PSNR/ { for (i = 1; i <= NF; i++) if ($i ~ /^average:/) { sub("average:", "", $i); print $i } }')

ratio=$(awk -v c="$cr_best" -v f="$ff_best" 'BEGIN { printf "%.3f", c / f }')
mark=$(awk -v r="$ratio" -v t="$TARGET" 'BEGIN { print (r <= t) ? "" : " *" }')
echo
echo "${DURATION} s of a 1920x1080 30 fps H.264 + AAC talk -> ${out_w}x$out_h, crop ${crop_w}x$crop_h, ASS captions,"
echo "x264 $PRESET CRF $CRF maxrate ${MAXRATE}k + AAC 128k, $scaler scaling, best of $REPEAT runs each ($(nproc) cores)"
printf '%-9s %9s   %s\n' "tool" "seconds" "output"
printf '%-9s %9s   %s\n' "ffmpeg" "$ff_best" "$(describe "$WORK/ffmpeg.mp4")"
printf '%-9s %9s   %s\n' "cutroom" "$cr_best" "$(describe "$WORK/cutroom.mp4")"
echo "cutroom / ffmpeg = $ratio$mark (target <= $TARGET); PSNR cutroom vs ffmpeg frames: ${psnr:-?} dB"
echo "(* = target missed; ffmpeg: ${ffmpeg_cmd[*]:0:8} ... -vf crop,scale=$scaler,ass -c:v libx264 ...)"
