#!/usr/bin/env bash
# AI-edit silence removal benchmark: `cutroom edit VIDEO "remove the silences"`
# (plan from the audio's loudness + render) on a 10-minute 1280x720 25 fps
# H.264 + AAC talk with planted pauses, against one ffmpeg command that cuts
# the SAME ranges (select/aselect) with the same encoder settings (libx264
# veryfast CRF 20, yuv420p, AAC 128k, +faststart, loudnorm to -14 LUFS), in
# the same run, on the same cached source. Prints the median wall and CPU
# time of each, the ratio cutroom / ffmpeg, and the output durations against
# the sum of the ranges. Not a test: it marks a missed target and exits 0
# unless something broke. See README.md beside this file.
#
#   bench/edit/run.sh
#   REPEAT=1 bench/edit/run.sh              # one run of each
#   NORMALIZE=0 bench/edit/run.sh           # both without loudness normalisation
#
# Environment:
#   CUTROOM        the cutroom binary (default build/release/cutroom)
#   CACHE_DIR      where the generated source is kept between runs
#                  (default bench/edit/.work, git-ignored)
#   DURATION=600   source length (seconds); SIZE=1280x720 FPS=25
#   NORMALIZE=1    1: both normalise loudness (cutroom's default for AI-edit
#                  outputs; ffmpeg gets loudnorm=I=-14:TP=-1.5:LRA=11);
#                  0: the instruction says "don't normalize", ffmpeg has no loudnorm
#   REPEAT=3       timed runs of each tool, alternating; the median counts
#   TARGET=1.0     cutroom / ffmpeg wall-time ratio to stay under
#   LOCK=/tmp/cutroom-build.lock  flock'ed around each round so that no build
#                  shares the CPUs with it ("" : no lock)
#   KEEP=0         1: keep the work dir (outputs, logs, data dir)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
MAKE_TALK="$REPO/tests/support/make_edit_talk.py"

CUTROOM=${CUTROOM:-$REPO/build/release/cutroom}
CACHE_DIR=${CACHE_DIR:-$HERE/.work}
DURATION=${DURATION:-600}
SIZE=${SIZE:-1280x720}
FPS=${FPS:-25}
NORMALIZE=${NORMALIZE:-1}
REPEAT=${REPEAT:-3}
TARGET=${TARGET:-1.0}
LOCK=${LOCK-/tmp/cutroom-build.lock}
KEEP=${KEEP:-0}
PRESET=veryfast CRF=20 # what cutroom's edit jobs use (src/edit/edit_jobs.cc)

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }
for tool in ffmpeg ffprobe python3 awk flite /usr/bin/time; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ -z $LOCK ]] || command -v flock >/dev/null || die "flock is required (or LOCK=)"
[[ -x $CUTROOM ]] || die "cutroom not found at $CUTROOM (build it, or set CUTROOM)"
CUTROOM=$(cd "$(dirname "$CUTROOM")" && pwd)/$(basename "$CUTROOM")
mkdir -p "$CACHE_DIR"
CACHE_DIR=$(cd "$CACHE_DIR" && pwd)
((BASH_VERSINFO[0] >= 5)) || die "bash 5 is required (EPOCHREALTIME)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cutroom-bench-edit.XXXXXX")
cleanup() { if [[ $KEEP == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
cd "$WORK" # no ./cutroom.toml from the caller's directory

# --- source (cached) -------------------------------------------------------------
# make_edit_talk.py's ~43 s talk (9 sentences, pauses of 0.3-3 s, fillers) at
# SIZE, looped to DURATION and re-encoded with a 10 s GOP (x264 veryfast CRF 20).
src="$CACHE_DIR/edit-talk-${SIZE}-${FPS}fps-${DURATION}s.mp4"
if [[ ! -s $src ]]; then
  mkdir -p "$CACHE_DIR"
  tmp=$(mktemp -d "$CACHE_DIR/.make.XXXXXX")
  log "generating $src (once; cached)"
  python3 "$MAKE_TALK" "$tmp/unit.mp4" --size "$SIZE" --fps "$FPS" >&2
  unit=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$tmp/unit.mp4")
  loops=$(awk -v d="$DURATION" -v u="$unit" 'BEGIN { n = int(d / u); if (n * u < d) n++; print n - 1 }')
  ffmpeg -nostdin -v error -y -stream_loop "$loops" -i "$tmp/unit.mp4" -t "$DURATION" \
    -c:v libx264 -preset veryfast -crf 20 -g $((10 * FPS)) -pix_fmt yuv420p \
    -c:a aac -b:a 128k -ar 48000 -ac 1 -movflags +faststart "$tmp/talk.mp4"
  mv "$tmp/unit.mp4.truth.json" "$src.unit.truth.json"
  mv "$tmp/talk.mp4" "$src"
  rm -rf "$tmp"
fi
probe() { ffprobe -v error -show_entries "$1" -of csv=p=0 "$2"; }
src_duration=$(probe format=duration "$src")
out_size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x "$src")
cat "$src" >/dev/null # both tools read it from the page cache

# --- cutroom: a fresh data dir, the video ingested (untimed) --------------------------
DATA="$WORK/data"
cr() { "$CUTROOM" --data-dir "$DATA" "$@"; }
log "ingesting into a fresh data dir"
cr ingest "$src" >"$WORK/ingest.out" 2>"$WORK/ingest.err" || { cat "$WORK/ingest.err" >&2; die "ingest failed"; }
video_id=$(awk 'NR == 1 { if (match($0, /vid_[A-Za-z0-9_]+/)) print substr($0, RSTART, RLENGTH) }' "$WORK/ingest.out")
[[ -n $video_id ]] || { cat "$WORK/ingest.out" >&2; die "no video id in the ingest output"; }
# Whatever the ingest queued (thumbnails) is run now, so that the timed edits'
# workers find nothing else to do.
queued=$(cr jobs --video "$video_id" --status queued | awk 'NR > 1 { print $2 }' | sort -u)
for stage in $queued; do
  log "running the queued $stage job(s) (untimed)"
  cr process "$video_id" --stage "$stage" >>"$WORK/ingest.out" 2>>"$WORK/ingest.err" || log "($stage failed; ignored)"
done
left=$(cr jobs --video "$video_id" --status queued | awk 'NR > 1' | wc -l)
((left == 0)) || log "warning: $left job(s) still queued; the timed edits' workers may run them"

instruction="remove the silences"
[[ $NORMALIZE == 1 ]] || instruction="remove the silences, don't normalize the audio"
cutroom_cmd=("$CUTROOM" --data-dir "$DATA" edit "$video_id" "$instruction" --planner rules --aspect source
  --captions off --outputs 1 --format json --out)

# --- timing helpers -------------------------------------------------------------------
clock_ticks=$(getconf CLK_TCK)
busy_jiffies() { awk '$1 == "cpu" { printf "%d\n", $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# timed LABEL CMD...: one run; appends "wall cpu maxrss_kb others_cpu" to
# $WORK/LABEL.times (others_cpu: CPU seconds other processes used meanwhile);
# its stdout goes to $WORK/LABEL.N.out, its stderr, each line prefixed with
# the time it came (epoch seconds), to $WORK/LABEL.N.err.
timed() {
  local label=$1; shift
  local n=1 b0 b1 start end user sys rss
  [[ -f $WORK/$label.times ]] && n=$(($(wc -l <"$WORK/$label.times") + 1))
  b0=$(busy_jiffies)
  start=$EPOCHREALTIME
  echo "$start" >"$WORK/$label.$n.start"
  # The stamps are bash builtins: no process per line.
  if ! /usr/bin/time -f '%U %S %M' -o "$WORK/$label.rusage" "$@" 2>&1 >"$WORK/$label.$n.out" |
      while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$WORK/$label.$n.err"; then
    tail -5 "$WORK/$label.$n.err" >&2
    die "failed: $*"
  fi
  end=$EPOCHREALTIME
  b1=$(busy_jiffies)
  read -r user sys rss < <(tail -1 "$WORK/$label.rusage")
  awk -v a="$start" -v b="$end" -v u="$user" -v s="$sys" -v m="$rss" -v j="$((b1 - b0))" -v hz="$clock_ticks" \
    'BEGIN { o = j / hz - (u + s); printf "%.3f %.2f %d %.2f\n", b - a, u + s, m, (o > 0 ? o : 0) }' >>"$WORK/$label.times"
}
median() { awk -v c="$1" '{ print $c }' "$WORK/$2.times" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
all_walls() { awk '{ printf "%s%s", sep, $1; sep = " " }' "$WORK/$1.times"; }

# --- round 0 (untimed): cutroom plans; ffmpeg gets the plan's ranges --------------------
# The ranges are the same every run (the plan is deterministic), so ffmpeg's
# filter script is written once from this run's plan and every timed cutroom
# run's ranges are checked against it.
log "cutroom edit (untimed warm-up run, for the ranges)"
"${cutroom_cmd[@]}" "$WORK/out-warm" >"$WORK/warm.json" 2>"$WORK/warm.err" || { tail -5 "$WORK/warm.err" >&2; die "cutroom edit failed"; }
# ranges.py JSON: the plan's first output's ranges, one "start end" a line
ranges_of() { python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
if j.get("status") != "succeeded":
    sys.exit("cutroom edit: status %s: %s" % (j.get("status"), j.get("error")))
for r in j["plan"]["outputs"][0]["ranges"]:
    assert r.get("speed", 1) == 1, r
    print("%.6f %.6f" % (r["start_s"], r["end_s"]))' "$1"; }
ranges_of "$WORK/warm.json" >"$WORK/ranges.txt"
range_count=$(wc -l <"$WORK/ranges.txt")
ranges_sum=$(awk '{ s += $2 - $1 } END { printf "%.3f", s }' "$WORK/ranges.txt")
normalized=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["plan"]["outputs"][0]["audio"]["normalize"])' "$WORK/warm.json")
[[ $normalized == True && $NORMALIZE == 1 || $normalized == False && $NORMALIZE == 0 ]] ||
  die "the plan's audio.normalize is $normalized with NORMALIZE=$NORMALIZE"

# ffmpeg: frames whose time is in [start, end) of a range, re-timed back to back.
# between() is inclusive, so each end is pulled in by 0.1 ms (no frame or
# AAC frame of this source starts that close to a range's end but at it).
# The sum is a balanced tree in parentheses: libavutil's expression parser
# refuses a flat chain of more than about 100 terms (ENOMEM).
expr=$(awk '
  function sum(lo, hi,   mid) { if (lo == hi) return t[lo]; mid = int((lo + hi) / 2); return "(" sum(lo, mid) "+" sum(mid + 1, hi) ")" }
  { t[NR] = sprintf("between(t,%s,%.6f)", $1, $2 - 0.0001) }
  END { print sum(1, NR) }' "$WORK/ranges.txt")
afilter="aselect='$expr',asetpts=N/SR/TB"
[[ $NORMALIZE == 1 ]] && afilter+=",loudnorm=I=-14:TP=-1.5:LRA=11,aresample=48000"
printf "[0:v]select='%s',setpts=N/FRAME_RATE/TB[v];\n[0:a]%s[a]\n" "$expr" "$afilter" >"$WORK/filter.txt"
# cutroom's renderer writes mono from mono, else stereo; -ac also settles the
# layout after loudnorm (without it the graph fails to reconfigure).
channels=$(ffprobe -v error -select_streams a:0 -show_entries stream=channels -of csv=p=0 "$src")
ffmpeg_cmd=(ffmpeg -nostdin -v error -y -i "$src" -filter_complex_script "$WORK/filter.txt" -map "[v]" -map "[a]"
  -c:v libx264 -preset "$PRESET" -crf "$CRF" -pix_fmt yuv420p -c:a aac -b:a 128k -ac $((channels == 1 ? 1 : 2))
  -movflags +faststart)

# --- timed rounds -------------------------------------------------------------------------
loads=()
for ((i = 1; i <= REPEAT; i++)); do
  if [[ -n $LOCK ]]; then
    log "round $i/$REPEAT: waiting for $LOCK"
    exec 9>"$LOCK"
    flock 9
  fi
  loads+=("$(cut -d' ' -f1 /proc/loadavg)")
  # Alternate which goes first so that neither always meets a warmer cache.
  order=(cutroom ffmpeg)
  ((i % 2 == 0)) && order=(ffmpeg cutroom)
  for tool in "${order[@]}"; do
    log "round $i/$REPEAT: $tool"
    if [[ $tool == cutroom ]]; then
      timed cutroom "${cutroom_cmd[@]}" "$WORK/out-cutroom-$i"
    else
      timed ffmpeg "${ffmpeg_cmd[@]}" "$WORK/ffmpeg-$i.mp4"
    fi
  done
  [[ -z $LOCK ]] || exec 9>&-
done

# --- results --------------------------------------------------------------------------------
for ((i = 1; i <= REPEAT; i++)); do
  ranges_of "$WORK/cutroom.$i.out" | cmp -s - "$WORK/ranges.txt" || die "cutroom run $i planned other ranges than the warm-up"
done
cr_file=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["outputs"][0]["file"])' "$WORK/cutroom.1.out")
ff_file="$WORK/ffmpeg-1.mp4"
describe() {
  local f=$1 v a
  v=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height,nb_frames -of csv=p=0 "$f")
  a=$(ffprobe -v error -select_streams a:0 -show_entries stream=codec_name,sample_rate,channels,duration -of csv=p=0 "$f")
  printf '%s, %s frames, %.3f s (audio %s s), %d KiB' "$(echo "${v%,*}" | tr , x)" "${v##*,}" \
    "$(probe format=duration "$f")" "$(echo "$a" | cut -d, -f4)" $(($(stat -c %s "$f") / 1024))
}
dur_ok() {
  awk -v d="$(probe format=duration "$1")" -v s="$ranges_sum" 'BEGIN { x = d - s; if (x < 0) x = -x; print (x <= 0.5) ? "ok" : "OFF" }'
}
# Where cutroom's time goes, from its stderr lines (stamped as they came):
# "planning ..." -> "rendering ..." is the planning wait (the ai_edit job),
# "rendering ..." -> "render succeeded" the rendering wait; inside it, the
# render job's progress sits at 15% while it opens the source and, with
# normalisation, makes its loudness pass over the kept audio.
# Prints: open, planning wait, rendering wait, of which at 15%.
phases() {
  awk -v t0="$(cat "$2")" '
    { $1 -= t0 }
    / planning / && p0 == "" { p0 = $1 }
    / rendering / && r0 == "" { r0 = $1 }
    r0 != "" && $2 == "render" && $3 == "running" {
      pct = $4 + 0
      if (pct == 15 && s15 == "") s15 = $1
      if (pct > 15 && s15 != "" && e15 == "") e15 = $1
    }
    $2 == "render" && $3 == "succeeded" { r1 = $1 }
    END { printf "%.2f %.2f %.2f %.2f\n", p0, r0 - p0, r1 - r0, e15 - s15 }' "$1"
}
# The jobs' own seconds, from `cutroom logs` (each ai_edit start is a new
# run; run 0 is the warm-up): "RUN ai_edit_s cancelled_render_s render_s".
job_seconds() {
  cr logs "$video_id" 2>/dev/null | awk 'BEGIN { run = -1 }
    $3 == "ai_edit" && / started / { run++ }
    match($0, /"seconds":[0-9.]+/) {
      sec = substr($0, RSTART + 10, RLENGTH - 10)
      if ($3 == "ai_edit" && / finished /) plan[run] += sec
      else if ($3 == "render" && / cancelled /) lost[run] += sec
      else if ($3 == "render" && / finished /) render[run] += sec
    }
    END { for (i = 1; i <= run; i++) printf "%d %.2f %.2f %.2f\n", i, plan[i], lost[i], render[i] }'
}
cr_s=$(median 1 cutroom) ff_s=$(median 1 ffmpeg)
ratio=$(awk -v c="$cr_s" -v f="$ff_s" 'BEGIN { printf "%.3f", c / f }')
cpu_ratio=$(awk -v c="$(median 2 cutroom)" -v f="$(median 2 ffmpeg)" 'BEGIN { printf "%.3f", c / f }')
mark=$(awk -v r="$ratio" -v t="$TARGET" 'BEGIN { print (r <= t) ? "" : " *" }')

echo
echo "AI edit \"$instruction\" on a $(printf '%.0f' "$src_duration") s $out_size $FPS fps H.264 + AAC talk (make_edit_talk.py, looped):"
echo "$range_count ranges kept, $ranges_sum s; x264 $PRESET CRF $CRF + AAC 128k, loudness normalisation $([[ $NORMALIZE == 1 ]] && echo "on (-14 LUFS)" || echo off);"
echo "median of $REPEAT runs each, alternating ($(nproc) cores); 1-min load average at the start of each round: ${loads[*]}"
printf '%-8s %8s %8s %7s %6s   %s\n' tool wall_s cpu_s others MiB "output (run 1); every run's wall"
for t in ffmpeg cutroom; do
  f=$ff_file
  [[ $t == cutroom ]] && f=$cr_file
  printf '%-8s %8.3f %8.2f %7.2f %6.0f   %s, duration %s; %s\n' "$t" "$(median 1 $t)" "$(median 2 $t)" "$(median 4 $t)" \
    "$(awk -v k="$(median 3 $t)" 'BEGIN { print k / 1024 }')" "$(describe "$f")" "$(dur_ok "$f")" "$(all_walls $t)"
done
echo "cutroom / ffmpeg wall = $ratio$mark (target <= $TARGET); CPU = $cpu_ratio"
echo "durations: ok = within 0.5 s of the ranges' sum ($ranges_sum s)"
echo "where cutroom's time goes, per run (seconds; the jobs' own from \`cutroom logs\`):"
job_seconds >"$WORK/jobs.txt"
for ((i = 1; i <= REPEAT; i++)); do
  read -r p0 plan_w render_w at15 <<<"$(phases "$WORK/cutroom.$i.err" "$WORK/cutroom.$i.start")"
  read -r _ plan_s lost_s render_s <<<"$(awk -v i="$i" '$1 == i' "$WORK/jobs.txt")"
  printf '  run %d: %.2f wall = open %.2f + planning wait %.2f (ai_edit job %.2f, a render attempt cancelled after %.2f)\n' \
    "$i" "$(sed -n "${i}p" "$WORK/cutroom.times" | cut -d' ' -f1)" "$p0" "$plan_w" "${plan_s:-0}" "${lost_s:-0}"
  printf '         + rendering wait %.2f (render job %.2f, of which %.2f at 15%%: %s) + exit\n' \
    "$render_w" "${render_s:-0}" "$at15" "$([[ $NORMALIZE == 1 ]] && echo "open + loudness pass" || echo "open")"
done
echo "(* = target missed; ffmpeg: ffmpeg -i SRC -filter_complex_script F -c:v libx264 -preset $PRESET -crf $CRF"
echo " -pix_fmt yuv420p -c:a aac -b:a 128k -ac N -movflags +faststart OUT, F = select/aselect of the $range_count ranges$([[ $NORMALIZE == 1 ]] && echo ", loudnorm"))"
