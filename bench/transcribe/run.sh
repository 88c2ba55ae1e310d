#!/usr/bin/env bash
# Real-time factor of cutroom's pocketsphinx engine against Debian's
# pocketsphinx_batch on the same LibriVox files, in the same run, with the
# word error rate of both (so speed is not bought with accuracy).
#   bench/transcribe/run.sh [DATA_DIR]   (default ../shared/data/speech/librivox)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${1:-$root/../shared/data/speech/librivox}"
model=/usr/share/pocketsphinx/model/en-us
build="$root/build/bench"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCUTROOM_BUILD_BENCH=ON -DCUTROOM_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target transcribe_bench >/dev/null

files=()
while read -r id; do [ -n "$id" ] && files+=("$data/$id.wav"); done < "$data/fileids"

wer() {  # wer HYP_FILE: word error rate against the reference .txt files
  python3 - "$data" "$1" <<'PY'
import sys, re
data, hyp_file = sys.argv[1], sys.argv[2]
def words(s): return re.findall(r"[a-z']+", s.lower())
errs = total = 0
for line in open(hyp_file):
    line = line.strip()
    if not line: continue
    m = re.match(r"(.*?)\s*\((\S+?)(\s+-?\d+)?\)$", line)   # pocketsphinx_batch: "text (id -score)"
    if m: hyp, fid = m.group(1), m.group(2)
    else: fid, _, hyp = line.partition(" ")              # transcribe_bench: "id text"
    ref = words(open(f"{data}/{fid}.txt").read()); h = words(hyp)
    d = list(range(len(h) + 1))
    for i in range(1, len(ref) + 1):
        p, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            p, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, p + (ref[i - 1] != h[j - 1]))
    errs += d[len(h)]; total += len(ref)
print(f"{100.0 * errs / total:.1f}% ({errs}/{total})")
PY
}

audio=$(python3 -c "import sys,wave; print(sum(wave.open(f).getnframes()/wave.open(f).getframerate() for f in sys.argv[1:]))" "${files[@]}")

echo "== pocketsphinx_batch (Debian) on ${#files[@]} files, ${audio} s of audio"
start=$(date +%s.%N)
pocketsphinx_batch -adcin yes -cepdir "$data" -cepext .wav -ctl "$data/fileids" \
  -hmm "$model/en-us" -lm "$model/en-us.lm.bin" -dict "$model/cmudict-en-us.dict" \
  -hyp "$work/batch.hyp" -logfn /dev/null
end=$(date +%s.%N)
batch_s=$(python3 -c "print($end - $start)")
echo "   $(python3 -c "print(f'{$batch_s:.2f} s, {$batch_s / $audio:.3f} xRT')"), WER $(wer "$work/batch.hyp")"

echo "== cutroom pocketsphinx engine"
"$build/bench/transcribe/transcribe_bench" "${files[@]}" > "$work/cutroom.hyp" 2> "$work/cutroom.log"
cat "$work/cutroom.log"
echo "   WER $(wer "$work/cutroom.hyp")"
