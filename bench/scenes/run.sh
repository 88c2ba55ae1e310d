#!/usr/bin/env bash
# Scene detection benchmark: cutroom's content detector (scenes_bench, i.e.
# DetectScenes) against `ffmpeg -vf scdet`, both on the same cached
# 1920x1080 30 fps H.264 video whose cut frames are known exactly (made by
# ../shared/tools/make_test_video.py), both with 2 threads on the same CPUs,
# in this one run. Prints precision, recall and F1 of each against the
# truth, the median wall time of REPEAT runs, and ffmpeg's time divided by
# cutroom's; then a profile of where cutroom's time goes.
# Not a test: it marks missed targets and exits 0 unless something broke.
# See README.md beside this file.
#
#   bench/scenes/run.sh
#   REPEAT=1 PROFILE=0 bench/scenes/run.sh     # quick run
#
# Environment:
#   SCENES_BENCH   the scenes_bench binary (default: the first found under
#                  build/*/bench/scenes/; build with -DCUTROOM_BUILD_BENCH=ON)
#   CACHE_DIR      where the generated video and its truth are kept
#                  (default: cache/ beside the scenes_bench binary)
#   MAKE_VIDEO     the generator (default ../shared/tools/make_test_video.py
#                  next to the repository)
#   SIZE=1920x1080 FPS=30 SEED=7 SCENES=14   the generated video (61.5 s)
#   THREADS=2      decoder threads of both tools
#   CPUS=0,1       taskset CPU list for every timed run ("" : no taskset)
#   THRESHOLD=auto scdet threshold; auto: the best F1 of SWEEP on this file
#                  (ties: the one nearest scdet's default 10)
#   SWEEP="3 5 7 10 15 20 30"  thresholds tried for auto
#   CR_SWEEP="12 24"  untimed scenes_bench runs at these content thresholds,
#                  for comparison with the timed run at the default (16)
#   REPEAT=3       timed runs of each command; the median counts
#   TARGET=2.0     ffmpeg seconds / cutroom seconds to reach
#   PROFILE=1      also time scenes_bench's decode-only, decode+shrink and
#                  --no-gradual modes and ffmpeg's decode-only variants
#   PERF=1         with PROFILE=1 and perf installed: perf record one
#                  scenes_bench run and print the CPU share of each library
#   LOCK=/tmp/cutroom-build.lock  flock'ed around the timed part so that no
#                  build shares the CPUs with it ("" : no lock)
#   KEEP=0         1: keep the work dir (every run's JSON and logs)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

SIZE=${SIZE:-1920x1080}
FPS=${FPS:-30}
SEED=${SEED:-7}
SCENES=${SCENES:-14}
THREADS=${THREADS:-2}
CPUS=${CPUS-0,1}
THRESHOLD=${THRESHOLD:-auto}
SWEEP=${SWEEP:-3 5 7 10 15 20 30}
CR_SWEEP=${CR_SWEEP-12 24}
REPEAT=${REPEAT:-3}
TARGET=${TARGET:-2.0}
PROFILE=${PROFILE:-1}
PERF=${PERF:-1}
LOCK=${LOCK-/tmp/cutroom-build.lock}
KEEP=${KEEP:-0}
MAKE_VIDEO=${MAKE_VIDEO:-$REPO/../shared/tools/make_test_video.py}

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }
for tool in ffmpeg python3 awk /usr/bin/time; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ -z $CPUS ]] || command -v taskset >/dev/null || die "taskset is required (or CPUS=)"
[[ -z $LOCK ]] || command -v flock >/dev/null || die "flock is required (or LOCK=)"

if [[ -z ${SCENES_BENCH:-} ]]; then
  for candidate in "$REPO"/build/*/bench/scenes/scenes_bench "$REPO"/build/*/*/bench/scenes/scenes_bench; do
    [[ -x $candidate ]] && { SCENES_BENCH=$candidate; break; }
  done
fi
[[ -x ${SCENES_BENCH:-} ]] || die "scenes_bench not found: configure with -DCUTROOM_BUILD_BENCH=ON, build scenes_bench, or set SCENES_BENCH"
SCENES_BENCH=$(cd "$(dirname "$SCENES_BENCH")" && pwd)/$(basename "$SCENES_BENCH")
CACHE_DIR=${CACHE_DIR:-$(dirname "$SCENES_BENCH")/cache}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cutroom-bench-scenes.XXXXXX")
cleanup() { if [[ $KEEP == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# --- source and truth (cached) -------------------------------------------------
name="scenes-${SIZE}-${FPS}fps-seed${SEED}-${SCENES}scenes.mp4"
src="$CACHE_DIR/$name"
truth="$src.truth.json"
if [[ ! -s $src || ! -s $truth ]]; then
  [[ -f $MAKE_VIDEO ]] || die "generator not found: $MAKE_VIDEO (set MAKE_VIDEO)"
  mkdir -p "$CACHE_DIR"
  tmp=$(mktemp -d "$CACHE_DIR/.make.XXXXXX")
  log "generating $src (once; cached; a minute or more)"
  python3 "$MAKE_VIDEO" "$tmp/$name" --size "$SIZE" --fps "$FPS" --seed "$SEED" --scenes "$SCENES" --no-speech >&2
  mv "$tmp/$name.truth.json" "$truth"
  mv "$tmp/$name" "$src"
  rmdir "$tmp"
fi
[[ $src != *[[:space:]]* && $SCENES_BENCH != *[[:space:]]* ]] || die "paths with spaces are not supported: $src"
cat "$src" >/dev/null  # every run reads it from the page cache

# --- scoring ---------------------------------------------------------------------
# score.py TRUTH KIND FILE: P/R/F1 of the detections in FILE (KIND "scdet":
# ffmpeg's log, times; "cutroom": scenes_bench's JSON, frames), matched one
# to one with the truth's cuts, nearest first. Prints one JSON line.
cat >"$WORK/score.py" <<'EOF'
import json, re, sys

truth_path, kind, path = sys.argv[1:4]
threshold = float(sys.argv[4]) if len(sys.argv) > 4 else None
truth = json.load(open(truth_path))
fps = float(truth["fps"])
text = open(path).read()
if kind == "scdet":
    # [scdet @ 0x...] lavfi.scd.score: 39.145, lavfi.scd.time: 6.6
    found = [(float(s), float(t)) for s, t in
             re.findall(r"lavfi\.scd\.score: ([0-9.]+), lavfi\.scd\.time: ([-0-9.]+)", text)]
    if threshold is not None:  # the log of a threshold-0 run, filtered as scdet would
        found = [(s, t) for s, t in found if s >= threshold]
    # In seconds, within 1.5 frames: the times are the frames' own PTS.
    detections = sorted(t for _, t in found)
    cuts = [float(c) for c in truth["cuts_s"]]
    tolerance = 1.5 / fps
    as_frame = lambda x: int(round(x * fps))
else:
    j = json.loads(text)
    detections = sorted(int(f) for f in j["boundaries_frame"])
    cuts = [int(c) for c in truth["cuts_frame"]]
    tolerance = 1
    as_frame = lambda x: x
pairs = sorted((abs(d - c), i, k) for i, c in enumerate(cuts) for k, d in enumerate(detections)
               if abs(d - c) <= tolerance + 1e-9)
used_c, used_d = set(), set()
for _, i, k in pairs:
    if i not in used_c and k not in used_d:
        used_c.add(i)
        used_d.add(k)
tp = len(used_c)
p = tp / len(detections) if detections else (1.0 if not cuts else 0.0)
r = tp / len(cuts) if cuts else 1.0
f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
print(json.dumps({"detections": len(detections), "tp": tp, "fp": len(detections) - tp, "fn": len(cuts) - tp,
                  "precision": p, "recall": r, "f1": f1,
                  "missed_frames": [as_frame(cuts[i]) for i in range(len(cuts)) if i not in used_c],
                  "extra_frames": [as_frame(detections[k]) for k in range(len(detections)) if k not in used_d]}))
EOF
score() { python3 "$WORK/score.py" "$truth" "$@"; }
field() { python3 -c 'import json, sys; v = json.loads(sys.argv[1])[sys.argv[2]]; print(" ".join(map(str, v)) if isinstance(v, list) else v)' "$1" "$2"; }

pin=()
[[ -z $CPUS ]] || pin=(taskset -c "$CPUS")
scdet_cmd() { echo ffmpeg -nostdin -hide_banner -nostats -threads "$THREADS" -i "$src" -vf "scdet=threshold=$1" -f null -; }

# --- scdet threshold --------------------------------------------------------------
# scdet's score of a frame does not depend on the threshold (it logs frames
# whose score is >= it), so one untimed run at 0 gives every threshold's result.
cut_count=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["cuts_frame"]))' "$truth")
log "scdet threshold sweep (one untimed run at threshold 0)"
read -ra sweep_cmd <<<"$(scdet_cmd 0)"
"${pin[@]}" "${sweep_cmd[@]}" >"$WORK/scdet-0.log" 2>&1 || { tail -5 "$WORK/scdet-0.log" >&2; die "ffmpeg scdet failed"; }
sweep_lines=()
best_t="" best_f1=-1
for t in $SWEEP; do
  s=$(score scdet "$WORK/scdet-0.log" "$t")
  f1=$(field "$s" f1)
  sweep_lines+=("$(printf 'T=%-4s P=%.3f R=%.3f F1=%.3f  (%s found, missed frames: %s; extra: %s)' "$t" \
    "$(field "$s" precision)" "$(field "$s" recall)" "$f1" "$(field "$s" detections)" \
    "$(field "$s" missed_frames)" "$(field "$s" extra_frames)")")
  if awk -v f="$f1" -v b="$best_f1" -v t="$t" -v bt="${best_t:-1e9}" \
      'function d(x) { return x > 10 ? x - 10 : 10 - x } BEGIN { exit !(f > b + 1e-9 || (f > b - 1e-9 && d(t) < d(bt))) }'; then
    best_t=$t best_f1=$f1
  fi
done
[[ $THRESHOLD == auto ]] && THRESHOLD=$best_t

cr_sweep_lines=()
for t in $CR_SWEEP; do
  log "scenes_bench at threshold $t (untimed)"
  "$SCENES_BENCH" "$src" --threads "$THREADS" --threshold "$t" >"$WORK/cr-sweep-$t.json" || die "scenes_bench failed"
  s=$(score cutroom "$WORK/cr-sweep-$t.json")
  cr_sweep_lines+=("$(printf 'T=%-4s P=%.3f R=%.3f F1=%.3f  (%s found, missed frames: %s; extra: %s)' "$t" \
    "$(field "$s" precision)" "$(field "$s" recall)" "$(field "$s" f1)" "$(field "$s" detections)" \
    "$(field "$s" missed_frames)" "$(field "$s" extra_frames)")")
done

# --- timed runs ---------------------------------------------------------------------
# The CPUs the runs are pinned to (all when CPUS is empty), to tell how much
# CPU time other processes took on them during each run.
read -ra measured_cpus <<<"$(python3 -c '
import os, sys
spec = sys.argv[1]
if not spec:
    print(" ".join(str(c) for c in sorted(os.sched_getaffinity(0))))
else:
    out = []
    for part in spec.split(","):
        a, _, b = part.partition("-")
        out += range(int(a), int(b or a) + 1)
    print(" ".join(map(str, out)))' "$CPUS")"
clock_ticks=$(getconf CLK_TCK)
# Busy jiffies (user nice system irq softirq steal) of the measured CPUs.
busy_jiffies() {
  awk -v list="${measured_cpus[*]}" 'BEGIN { n = split(list, c, " "); for (i = 1; i <= n; i++) want["cpu" c[i]] = 1 }
    $1 in want { sum += $2 + $3 + $4 + $7 + $8 + $9 } END { printf "%d\n", sum }' /proc/stat
}
# timed LABEL CMD...: runs CMD once; appends "wall cpu maxrss_kb others_cpu"
# to $WORK/LABEL.times (others_cpu: CPU seconds that other processes used on
# the measured CPUs meanwhile) and keeps its stdout+stderr in $WORK/LABEL.out.
timed() {
  local label=$1; shift
  local start end b0 b1 user sys rss
  b0=$(busy_jiffies)
  start=$(date +%s.%N)
  /usr/bin/time -f '%U %S %M' -o "$WORK/$label.rusage" "${pin[@]}" "$@" >"$WORK/$label.out" 2>&1 ||
    { tail -5 "$WORK/$label.out" >&2; die "failed: $*"; }
  end=$(date +%s.%N)
  b1=$(busy_jiffies)
  read -r user sys rss <"$WORK/$label.rusage"
  awk -v a="$start" -v b="$end" -v u="$user" -v s="$sys" -v m="$rss" -v j="$((b1 - b0))" -v hz="$clock_ticks" \
    'BEGIN { o = j / hz - (u + s); printf "%.3f %.2f %d %.2f\n", b - a, u + s, m, (o > 0 ? o : 0) }' >>"$WORK/$label.times"
}
# median COLUMN LABEL
median() { awk -v c="$1" '{ print $c }' "$WORK/$2.times" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# every run as wall/others_cpu
all_walls() { awk '{ printf "%s%s/%s", sep, $1, $4; sep = " " }' "$WORK/$1.times"; }

commands=(
  "scdet|$(scdet_cmd "$THRESHOLD")"
  "cutroom|$SCENES_BENCH $src --threads $THREADS"
)
if [[ $PROFILE == 1 ]]; then
  commands+=(
    "cr-every|$SCENES_BENCH $src --threads $THREADS --scan every"
    "cr-nograd|$SCENES_BENCH $src --threads $THREADS --scan every --no-gradual"
    "cr-frames|$SCENES_BENCH $src --threads $THREADS --mode frames"
    "cr-decode|$SCENES_BENCH $src --threads $THREADS --mode decode"
    "cr-decode-lf|$SCENES_BENCH $src --threads $THREADS --mode decode --loop-filter"
    "ff-decode|ffmpeg -nostdin -hide_banner -threads $THREADS -i $src -f null -"
    "ff-decode-nolf|ffmpeg -nostdin -hide_banner -threads $THREADS -skip_loop_filter all -i $src -f null -"
    "ff-decode-ref|ffmpeg -nostdin -hide_banner -threads $THREADS -skip_loop_filter all -skip_frame noref -i $src -f null -"
    "ff-decode-ip|ffmpeg -nostdin -hide_banner -threads $THREADS -skip_loop_filter all -skip_frame bidir -i $src -f null -"
  )
fi

# One round runs every command once; the lock is held for a round at a
# time, so builds waiting on it get in between rounds, never inside one.
loads=()
for ((i = 0; i < REPEAT; i++)); do
  if [[ -n $LOCK ]]; then
    log "round $((i + 1))/$REPEAT: waiting for $LOCK"
    exec 9>"$LOCK"
    flock 9
  fi
  loads+=("$(cut -d' ' -f1 /proc/loadavg)")
  for entry in "${commands[@]}"; do
    log "round $((i + 1))/$REPEAT: ${entry%%|*}"
    # shellcheck disable=SC2086  # the command lines are word lists without quoting
    timed "${entry%%|*}" ${entry#*|}
  done
  [[ -z $LOCK ]] || exec 9>&-
done

# --- results ------------------------------------------------------------------------
ff_score=$(score scdet "$WORK/scdet.out")
cr_score=$(score cutroom "$WORK/cutroom.out")
ff_s=$(median 1 scdet) cr_s=$(median 1 cutroom)
ratio=$(awk -v f="$ff_s" -v c="$cr_s" 'BEGIN { printf "%.2f", f / c }')
mark=$(awk -v r="$ratio" -v t="$TARGET" 'BEGIN { print (r >= t) ? "" : " *" }')
f1_note=$(awk -v a="$(field "$cr_score" f1)" -v b="$(field "$ff_score" f1)" \
  'BEGIN { print (a >= b - 1e-9) ? "cutroom F1 >= ffmpeg F1" : "cutroom F1 < ffmpeg F1 (not equal)" }')

echo
echo "scene cuts in a $(awk -v f="$(field "$(cat "$WORK/cutroom.out")" frames)" -v r="$FPS" 'BEGIN { printf "%.1f", f / r }') s ${SIZE} ${FPS} fps H.264 video (x264 veryfast, $cut_count hard cuts, seed $SEED);"
echo "median wall seconds of $REPEAT runs, $THREADS decoder threads each${CPUS:+, taskset -c $CPUS}; 1-min load average at the start of each round: ${loads[*]}"
echo
echo "scdet thresholds tried (one untimed run at 0, filtered):"
for l in "${sweep_lines[@]}"; do echo "  $l"; done
echo "  used: T=$THRESHOLD$([[ $THRESHOLD == "$best_t" ]] && echo " (best F1; ties: nearest the default 10)")"
if ((${#cr_sweep_lines[@]})); then
  echo "scenes_bench content thresholds, untimed (the timed run uses the default, 16):"
  for l in "${cr_sweep_lines[@]}"; do echo "  $l"; done
fi
echo
printf '%-36s %8s %8s %7s %6s %5s %4s %4s %4s %6s %6s %6s  %s\n' tool seconds cpu_s others MiB found TP FP FN prec recall F1 \
  "every run: wall/others (s)"
result_row() {
  local label=$1 what=$2 s=$3
  printf '%-36s %8.3f %8.2f %7.2f %6.0f %5d %4d %4d %4d %6.3f %6.3f %6.3f  %s\n' "$what" "$(median 1 "$label")" \
    "$(median 2 "$label")" "$(median 4 "$label")" "$(awk -v k="$(median 3 "$label")" 'BEGIN { print k / 1024 }')" \
    "$(field "$s" detections)" "$(field "$s" tp)" "$(field "$s" fp)" "$(field "$s" fn)" \
    "$(field "$s" precision)" "$(field "$s" recall)" "$(field "$s" f1)" "$(all_walls "$label")"
}
result_row scdet "ffmpeg scdet threshold=$THRESHOLD" "$ff_score"
result_row cutroom "scenes_bench content (DetectScenes)" "$cr_score"
echo "  ffmpeg missed frames: $(field "$ff_score" missed_frames); extra: $(field "$ff_score" extra_frames)"
echo "  cutroom missed frames: $(field "$cr_score" missed_frames); extra: $(field "$cr_score" extra_frames)"
echo
echo "speed-up ffmpeg / cutroom: ${ratio}x${mark} (target >= ${TARGET}x; $f1_note)"
echo "per round, ffmpeg / cutroom wall: $(paste -d' ' "$WORK/scdet.times" "$WORK/cutroom.times" |
  awk '{ printf "%s%.2fx", sep, $1 / $5; sep = " " }') (both run back to back in each round)"
echo "CPU time ffmpeg / cutroom: $(awk -v f="$(median 2 scdet)" -v c="$(median 2 cutroom)" 'BEGIN { printf "%.2f", f / c }')x (user+sys; less sensitive to other load than wall time)"
echo "(seconds, cpu_s, others: medians; others = CPU seconds other processes used on the measured CPUs during the run)"
echo "(* = target missed; ffmpeg: $(scdet_cmd "$THRESHOLD" | sed "s|$src|F|"); cutroom: scenes_bench F --threads $THREADS)"

if [[ $PROFILE == 1 ]]; then
  frames=$(field "$(cat "$WORK/cutroom.out")" frames)
  frames_of() { tr '\r' '\n' <"$WORK/$1.out" | awk '/^frame=/ { sub(/^frame= */, ""); n = $1 } END { print n + 0 }'; }
  echo
  echo "where cutroom's time goes (medians; shares of the full detection's wall and CPU time):"
  printf '  %-66s %8s %6s %8s %6s %7s  %s\n' run seconds share cpu_s share others frames
  prow() {
    printf '  %-66s %8.3f %5.1f%% %8.2f %5.1f%% %7.2f  %s\n' "$2" "$(median 1 "$1")" \
      "$(awk -v a="$(median 1 "$1")" -v b="$cr_s" 'BEGIN { print 100 * a / b }')" "$(median 2 "$1")" \
      "$(awk -v a="$(median 2 "$1")" -v b="$(median 2 cutroom)" 'BEGIN { print 100 * a / b }')" "$(median 4 "$1")" "$3"
  }
  prow cutroom "scenes_bench: two passes where they pay (the timed run)" "$(field "$(cat "$WORK/cutroom.out")" frames_decoded)"
  prow cr-every "scenes_bench --scan every: decode + shrink + detect every frame" "$frames"
  prow cr-nograd "scenes_bench --scan every --no-gradual: cuts only" "$frames"
  prow cr-frames "scenes_bench --mode frames: decode + shrink to ~128 px" "$frames"
  prow cr-decode "scenes_bench --mode decode: NextRaw, no deblocking" "$frames"
  prow cr-decode-lf "scenes_bench --mode decode --loop-filter: NextRaw, deblocking" "$frames"
  prow scdet "ffmpeg scdet (the timed run above)" "$frames"
  prow ff-decode "ffmpeg -f null: decode only (deblocking), no scdet" "$frames"
  prow ff-decode-nolf "ffmpeg -skip_loop_filter all: decode only" "$frames"
  prow ff-decode-ref "ffmpeg -skip_loop_filter all -skip_frame noref: reference frames" "$(frames_of ff-decode-ref)"
  prow ff-decode-ip "ffmpeg -skip_loop_filter all -skip_frame bidir: I and P frames" "$(frames_of ff-decode-ip)"
  for col in 1 2; do
    awk -v what="$([[ $col == 1 ]] && echo wall || echo CPU)" -v full="$(median "$col" cr-every)" \
      -v ng="$(median "$col" cr-nograd)" -v fr="$(median "$col" cr-frames)" -v de="$(median "$col" cr-decode)" \
      -v ff="$(median "$col" scdet)" -v ffd="$(median "$col" ff-decode)" 'BEGIN {
        printf "  by %s time, decoding every frame: cutroom decode %.0f%%, shrinking %.0f%%, detector %.0f%%", what,
          100 * de / full, 100 * (fr - de) / full, 100 * (full - fr) / full
        if (what == "CPU") printf " (gradual tracking %.0f%%)", 100 * (full - ng) / full
        printf ";"
        printf " ffmpeg decode %.0f%%, scdet %.0f%%\n", 100 * ffd / ff, 100 * (ff - ffd) / ff
      }'
  done
fi

if [[ $PROFILE == 1 && $PERF == 1 ]] && command -v perf >/dev/null; then
  [[ -z $LOCK ]] || { exec 9>"$LOCK"; flock 9; }
  if perf record -q -F 499 -o "$WORK/perf.data" "${pin[@]}" "$SCENES_BENCH" "$src" --threads "$THREADS" \
      >"$WORK/perf.out" 2>&1; then
    echo
    echo "perf record of one scenes_bench run (CPU samples of all its threads):"
    perf report -i "$WORK/perf.data" --no-children --sort dso --stdio 2>/dev/null |
      awk '/%/ && $1 + 0 >= 0.5 { printf "  %7s  %s\n", $1, $2 }'
    echo "  in scenes_bench itself:"
    perf report -i "$WORK/perf.data" --no-children --dsos "$(basename "$SCENES_BENCH")" --sort symbol --stdio 2>/dev/null |
      awk '/%/ && $1 + 0 >= 0.1 { pct = $1; $1 = ""; $2 = ""; sub(/^ +/, ""); sub(/[ -]+$/, ""); printf "  %7s  %s\n", pct, $0 }'
  else
    log "perf record failed (perf_event_paranoid?): $(tail -1 "$WORK/perf.out")"
  fi
  [[ -z $LOCK ]] || exec 9>&-
fi
