#!/usr/bin/env bash
# Whole-pipeline benchmark (issue 18): `cutroom run` on a generated talk
# (720p, flite speech over real footage) against, in the same run, one plain
# decode (`ffmpeg -threads 2 -i F -f null -`) and `pocketsphinx_batch` on
# its audio. Target: cutroom's wall time <= 1.3x the larger of the two.
# Prints each stage's run time from report.json.
#
#   bench/pipeline/run.sh              # 10-minute talk
#   MINUTES=2 bench/pipeline/run.sh    # quicker
#   CLIPS=3                            # clips cutroom renders (0: index only)
set -euo pipefail
cd "$(dirname "$0")/../.."
MINUTES=${MINUTES:-10}
CLIPS=${CLIPS:-3}
BIN=${CUTROOM_BINARY:-build/release/cutroom}
WORK=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/cutroom-bench-pipeline
footage=/usr/share/doc/opencv-doc/examples/data
model=/usr/share/pocketsphinx/model/en-us
mkdir -p "$WORK"
for tool in ffmpeg flite pocketsphinx_batch python3; do
  command -v "$tool" >/dev/null || { echo "bench/pipeline: needs $tool (scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench/pipeline: build cutroom first (scripts/build.sh)" >&2; exit 1; }

talk="$WORK/talk-${MINUTES}m.mp4"
seconds=$((MINUTES * 60))
if [ ! -s "$talk" ]; then
  echo "== making a ${MINUTES}-minute 1280x720 talk in $WORK (once; kept for later runs)"
  # Speech: the evaluation talks' sentences, read by flite's rms voice,
  # repeated to the length.
  python3 - "$WORK/speech.txt" <<'PY'
import glob, json, sys
lines = []
for path in sorted(glob.glob("bench/clips/talks/*.json")):
    talk = json.load(open(path))
    for part in talk.get("sentences", talk.get("script", [])):
        text = part if isinstance(part, str) else part.get("text", "")
        if text: lines.append(text)
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
  flite -voice rms -f "$WORK/speech.txt" -o "$WORK/speech-once.wav"
  ffmpeg -v error -y -stream_loop -1 -i "$WORK/speech-once.wav" -t "$seconds" -ar 16000 -ac 1 "$WORK/speech.wav"
  # Picture: 30 s segments of real footage and a slide, cut against each
  # other, encoded once and concatenated by stream copy.
  enc=(-c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p -r 30 -g 60 -an)
  fit="scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,fps=30"
  ffmpeg -v error -y -stream_loop -1 -i "$footage/Megamind.avi" -t 30 -vf "$fit" "${enc[@]}" "$WORK/seg-a.mp4"
  ffmpeg -v error -y -stream_loop -1 -i "$footage/vtest.avi" -t 30 -vf "$fit" "${enc[@]}" "$WORK/seg-b.mp4"
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=30" -t 30 \
    -vf "drawbox=x=0:y=0:w=1280:h=720:color=white@0.85:t=fill,drawtext=text='Quarterly figures':fontsize=64:x=80:y=80:fontcolor=black" \
    "${enc[@]}" "$WORK/seg-c.mp4"
  : > "$WORK/segments.txt"
  for ((i = 0; i * 30 < seconds; i++)); do
    seg=$(printf 'a\nb\nc' | sed -n "$((i % 3 + 1))p")
    echo "file '$WORK/seg-$seg.mp4'" >> "$WORK/segments.txt"
  done
  ffmpeg -v error -y -f concat -safe 0 -i "$WORK/segments.txt" -i "$WORK/speech.wav" -map 0:v -map 1:a \
    -c:v copy -c:a aac -b:a 96k -t "$seconds" -movflags +faststart "$talk"
fi
ffprobe -v error -show_entries format=duration:stream=codec_name,width,height -of compact "$talk" | sed 's/^/   /'

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }

echo "== ffmpeg -threads 2 -i talk -f null - (one plain decode)"
t0=$(now)
ffmpeg -v error -threads 2 -i "$talk" -f null -
t1=$(now)
decode_s=$(elapsed "$t0" "$t1")
echo "   $decode_s s"

echo "== pocketsphinx_batch on the talk's audio (16 kHz mono, extracted untimed)"
ffmpeg -v error -y -i "$talk" -ar 16000 -ac 1 "$WORK/audio.wav"
echo "audio" > "$WORK/fileids"
t0=$(now)
pocketsphinx_batch -adcin yes -cepdir "$WORK" -cepext .wav -ctl "$WORK/fileids" \
  -hmm "$model/en-us" -lm "$model/en-us.lm.bin" -dict "$model/cmudict-en-us.dict" \
  -hyp "$WORK/batch.hyp" -logfn /dev/null
t1=$(now)
batch_s=$(elapsed "$t0" "$t1")
echo "   $batch_s s"

echo "== cutroom run talk --clips $CLIPS (fresh data dir)"
rm -rf "$WORK/data" "$WORK/out"
t0=$(now)
"$BIN" --data-dir "$WORK/data" --log-level warn run "$talk" --clips "$CLIPS" --out "$WORK/out" > "$WORK/run.log" 2>&1 ||
  { tail -30 "$WORK/run.log"; echo "bench/pipeline: cutroom run failed" >&2; exit 1; }
t1=$(now)
run_s=$(elapsed "$t0" "$t1")
echo "   $run_s s"

python3 - "$WORK/out/report.json" "$decode_s" "$batch_s" "$run_s" "$seconds" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
decode, batch, run, length = map(float, sys.argv[2:6])
print("\nstage              status      run_s")
for st in report.get("stages", []):
    print(f"{st['stage']:<18} {st.get('status', ''):<10} {st.get('run_s', 0):>7.2f}")
renders = sum(c.get("render_s", 0) for c in report.get("clips", []))
peer = max(decode, batch)
print(f"\n{'run':<48}{'s':>8}{'x real time':>13}")
for name, s in [("ffmpeg -threads 2 decode", decode), ("pocketsphinx_batch (audio)", batch),
                (f"cutroom run (index + {len(report.get('clips', []))} renders)", run)]:
    print(f"{name:<48}{s:>8.2f}{s / length:>13.3f}")
ratio = run / peer
print(f"\ncutroom / max(decode, pocketsphinx_batch) = {ratio:.2f}x  (target <= 1.3x: {'met' if ratio <= 1.3 else 'MISSED'})")
PY
