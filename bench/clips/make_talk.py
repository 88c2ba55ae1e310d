#!/usr/bin/env python3
"""Make a talk video from a written script, with its truth: which sentences are the planted story.

A talk script (bench/clips/talks/*.json) is a list of sentences and the range of them that
forms the one self-contained story; everything else is housekeeping. This speaks each
sentence with flite's rms voice (the voice ../shared/tools/make_test_video.py uses:
pocketsphinx recognises it at about 10% WER), leaves a random pause of 0.6 to 1.4 s between
sentences (the same inside the story and outside it, so pauses give nothing away), and lays
the speech over that tool's lavfi scenes with hard cuts at random times.

The truth file (OUT + .truth.json) has make_test_video.py's fields (duration_s, cuts_s,
speech with start_s/end_s/text) plus "story" on each story sentence and story_start_s /
story_end_s.

  make_talk.py talks/warehouse.json out.mp4 [--size 320x180] [--fps 25] [--seed 1]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import wave

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "shared", "tools"))
import make_test_video as mtv  # noqa: E402  (its scene sources and helpers)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("script")
    ap.add_argument("out")
    ap.add_argument("--truth")
    ap.add_argument("--size", default="320x180")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    script = json.load(open(a.script))
    sentences = script["sentences"]
    first, last = script["story"]
    rnd = random.Random(a.seed)
    truth_path = a.truth or a.out + ".truth.json"

    with tempfile.TemporaryDirectory() as tmp:
        # Speech: one wav of 16 kHz mono samples, silence between sentences.
        rate, pcm, speech, cur = None, bytearray(), [], 0.8
        for k, text in enumerate(sentences):
            wpath = os.path.join(tmp, "s%d.wav" % k)
            mtv.run(["flite", "-voice", "rms", "-t", text, "-o", wpath])
            with wave.open(wpath) as w:
                if rate is None:
                    rate = w.getframerate()
                    pcm += b"\0\0" * int(round(cur * rate))
                frames = w.readframes(w.getnframes())
                d = w.getnframes() / float(rate)
            item = {"start_s": round(cur, 3), "end_s": round(cur + d, 3), "text": text}
            if first <= k <= last:
                item["story"] = True
            speech.append(item)
            pcm += frames
            gap = rnd.uniform(0.6, 1.4)
            pcm += b"\0\0" * int(round(gap * rate))
            cur += d + gap
        duration = round(len(pcm) / 2 / rate, 3)
        apath = os.path.join(tmp, "audio.wav")
        with wave.open(apath, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(bytes(pcm))

        # Video: the tool's sources, 4 to 9 s scenes, frame-exact cuts.
        order = list(range(len(mtv.SOURCES)))
        rnd.shuffle(order)
        total = int(duration * a.fps)
        scenes, t, i = [], 0, 0
        while t < total:
            n = min(total - t, int(round(rnd.uniform(4, 9) * a.fps)))
            scenes.append((mtv.SOURCES[order[i % len(order)]], t, n))
            t, i = t + n, i + 1
        inputs, chains = [], []
        for j, (src, _, n) in enumerate(scenes):
            inputs += ["-f", "lavfi", "-i", src.format(s=a.size, r=a.fps)]
            chains.append("[%d:v]trim=end_frame=%d,setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v%d]" % (j, n, j))
        fc = ";".join(chains) + ";" + "".join("[v%d]" % j for j in range(len(scenes))) + \
            "concat=n=%d:v=1:a=0[vout]" % len(scenes)
        tmp_out = a.out + ".tmp%d%s" % (os.getpid(), os.path.splitext(a.out)[1])
        mtv.run(["ffmpeg", "-v", "error", "-y"] + inputs + ["-i", apath, "-filter_complex", fc,
                 "-map", "[vout]", "-map", "%d:a" % len(scenes), "-c:v", "libx264", "-preset", "ultrafast",
                 "-crf", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k",
                 "-t", "%.3f" % (total / a.fps), tmp_out])
        os.replace(tmp_out, a.out)

    story = [s for s in speech if s.get("story")]
    truth = {"video": os.path.basename(a.out), "script": os.path.basename(a.script), "fps": a.fps,
             "size": a.size, "duration_s": total / a.fps,
             "cuts_s": [start / a.fps for _, start, _ in scenes[1:]], "speech": speech,
             "story_start_s": story[0]["start_s"], "story_end_s": story[-1]["end_s"],
             "made_with": {"tts": "flite rms", "seed": a.seed}}
    tmp_truth = truth_path + ".tmp%d" % os.getpid()
    with open(tmp_truth, "w") as f:
        json.dump(truth, f, indent=1)
    os.replace(tmp_truth, truth_path)
    print("%s: %.1f s, %d sentences, story %.1f-%.1f s" % (a.out, truth["duration_s"], len(speech),
                                                          truth["story_start_s"], truth["story_end_s"]))


if __name__ == "__main__":
    main()
