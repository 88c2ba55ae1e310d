#!/usr/bin/env python3
"""Make a synthetic "talk" video whose pauses and filler words are known exactly.

For testing silence removal and filler removal ("AI edit"). A speaker (flite's
`rms` voice) says 9 short sentences with pauses of known, varied lengths
between them (0.3 to 3.0 s: some shorter than a usual minimum silence of
0.5-1 s, so a test can check they are kept) and planted filler words ("um",
"uh"), some on their own between sentences and some inside a sentence. Every
phrase and every filler is its own flite call, so each span is known to the
sample: the speech span of each clip is measured from its samples (the first
and last sample above THRESHOLD dBFS, found in 10 ms windows), not taken from
the wav's padded edges; only that span goes into the track, so the gaps
between consecutive speech spans are exactly the planted pauses (plus noise).

Output: OUT (320x180, 25 fps, H.264 + AAC 48 kHz mono MP4, about 45 s; the
current phrase is drawn on screen with a clock) and OUT.truth.json:
  duration_s, fps, size,
  phrases   [{text, start_s, end_s, kind: speech|filler, sentence, max_inner_gap_s}]
            every flite clip in time order (a sentence with a filler inside is
            3 phrases: "So", "um", "we refunded every cent.")
  silences  [{start_s, end_s, duration_s, kind: leading|pause|inner|trailing}]
            every gap between consecutive speech spans, including the leading
            and trailing one; "inner" = the short gap around a filler inside a
            sentence, "pause" = between sentences / standalone fillers
  fillers   [{word, start_s, end_s, standalone}]
  sentences [{text, text_with_fillers, start_s, end_s, fillers}]
  transcript, transcript_with_fillers, made_with
Times are seconds on the output timeline (exact to 1/16000 s, rounded to
0.1 ms); max_inner_gap_s is the longest sub-threshold run inside a phrase
(flite's own pauses at commas), which a silence remover must keep.

The layout is fixed; --seed only changes the background noise, so the truth
JSON is byte-identical for every seed (and the MP4 for the same seed).

Fillers are spelled "um" and "uh": flite says them as cmudict's `um AH M` and
`uh AH`. cutroom's pocketsphinx engine does not return them as filler words
(the en-us LM makes them unlikely): an "um" comes back as "them"/"'em", an
"uh" as nothing (<sil> or [SPEECH], which the engine drops). No other spelling
(umm, erm, er, ah) or flite voice did better.

Needs: python3, ffmpeg and flite on PATH (Debian packages `ffmpeg`, `flite`);
fonts-dejavu-core for the on-screen text (skipped when the font is missing).

Examples:
  make_edit_talk.py edit-talk.mp4
  make_edit_talk.py out.mp4 --seed 2 --noise-db -50
  make_edit_talk.py out.mp4 --noise-db none --no-text
"""
import argparse
import array
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import wave

SR = 16000          # layout rate (flite's rms voice speaks at 16 kHz)
WIN = SR // 100     # 10 ms measuring windows
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

# The talk: (pieces, gaps inside the group, pause after the group in seconds).
# A piece "*um" is a filler spoken as its own flite call. The leading silence
# is LEAD_S, and the last group's pause is the trailing silence.
LEAD_S = 1.0
TALK = [
    (["Welcome back to the show."], [], 0.8),
    (["Today we talk about", "*um", "the billing bug from last month."], [0.15, 0.2], 1.5),
    (["It charged some customers twice for the same order."], [], 0.3),
    (["So", "*um", "we refunded every cent."], [0.12, 0.18], 2.0),
    (["*uh"], [], 1.2),
    (["The fix itself took two days."], [], 0.5),
    (["But finding the cause took", "*uh", "almost a week."], [0.2, 0.15], 2.5),
    (["We also", "*uh", "wrote a short note to every customer."], [0.15, 0.25], 3.0),
    (["Next time we will test the billing code before every release."], [], 0.4),
    (["*um"], [], 1.0),
    (["Thanks for watching, and see you next week."], [], 1.5),
]


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("command failed: %s\n%s" % (" ".join(cmd), r.stderr[-2000:]))
    return r.stdout


def read_pcm(path):
    with wave.open(path) as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1 or w.getframerate() != SR:
            return None
        a = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        a.byteswap()
    return a


def say(text, voice, stretch, path):
    cmd = ["flite", "-voice", voice]
    if stretch != 1.0:
        cmd += ["--setf", "duration_stretch=%g" % stretch]
    run(cmd + ["-t", text, "-o", path])
    pcm = read_pcm(path)
    if pcm is None:  # another voice / rate: convert to 16 kHz mono s16
        conv = path + ".16k.wav"
        run(["ffmpeg", "-v", "error", "-y", "-i", path, "-ac", "1", "-ar", str(SR), "-c:a", "pcm_s16le", conv])
        pcm = read_pcm(conv)
    return pcm


def speech_span(pcm, threshold_db):
    """(first, last+1) sample of speech and the longest quiet run inside it."""
    thr = 32768.0 * 10 ** (threshold_db / 20.0)
    loud = []
    for i in range(0, len(pcm) - WIN + 1, WIN):
        e = sum(x * x for x in pcm[i:i + WIN]) / WIN
        loud.append(math.sqrt(e) > thr)
    if not any(loud):
        sys.exit("flite produced no speech above %g dBFS" % threshold_db)
    w0 = loud.index(True)
    w1 = len(loud) - 1 - loud[::-1].index(True)
    # A window's RMS above thr means some sample in it is above thr too.
    s = next(j for j in range(w0 * WIN, w0 * WIN + WIN) if abs(pcm[j]) > thr)
    e = next(j for j in range(w1 * WIN + WIN - 1, w1 * WIN - 1, -1) if abs(pcm[j]) > thr) + 1
    gap = best = 0
    for k in range(w0, w1 + 1):
        gap = 0 if loud[k] else gap + 1
        best = max(best, gap)
    return s, e, best * WIN / SR


def r4(x):
    return round(x, 4)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="output video path (.mp4)")
    ap.add_argument("--truth", help="ground-truth JSON path (default: OUT + .truth.json)")
    ap.add_argument("--seed", type=int, default=1, help="background noise seed (the truth does not change)")
    ap.add_argument("--noise-db", default="-55",
                    help="pink background noise level, dBFS RMS, or 'none' (default -55)")
    ap.add_argument("--voice", default="rms", help="flite voice (default rms: pocketsphinx reads it best)")
    ap.add_argument("--filler-stretch", type=float, default=1.6,
                    help="flite duration_stretch for the fillers (default 1.6: a hesitant 'um' of "
                         "0.38 s and 'uh' of 0.30 s; 1 gives flite's clipped 0.25 s / 0.20 s)")
    ap.add_argument("--threshold-db", type=float, default=-45.0,
                    help="speech starts/ends at the first/last sample above this, dBFS (default -45)")
    ap.add_argument("--size", default="320x180")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--no-text", action="store_true", help="do not draw the phrases on screen")
    a = ap.parse_args()
    for tool in ("ffmpeg", "flite"):
        if not shutil.which(tool):
            sys.exit("%s is not on PATH (Debian package `%s`)" % (tool, tool))
    truth_path = a.truth or a.out + ".truth.json"
    noise_db = None if a.noise_db.lower() in ("none", "off", "-inf") else float(a.noise_db)

    with tempfile.TemporaryDirectory() as tmp:
        # Synthesise every piece once, measure its speech span, lay it out.
        cache = {}
        track = array.array("h")
        phrases, groups = [], []
        cur = int(round(LEAD_S * SR))  # where the next speech span starts
        for g, (pieces, inner, pause) in enumerate(TALK):
            assert len(inner) == len(pieces) - 1
            gp = []
            for k, piece in enumerate(pieces):
                filler = piece.startswith("*")
                text = piece.lstrip("*")
                key = (text, filler)
                if key not in cache:
                    pcm = say(text, a.voice, a.filler_stretch if filler else 1.0,
                              os.path.join(tmp, "p%d.wav" % len(cache)))
                    cache[key] = (pcm,) + speech_span(pcm, a.threshold_db)
                pcm, s, e, inner_gap = cache[key]
                # Only the speech span goes in (flite's padding is below the
                # threshold), so the gaps hold nothing but the noise floor.
                if len(track) < cur:
                    track.extend([0] * (cur - len(track)))
                track.extend(pcm[s:e])
                ph = {"text": text, "start": cur, "end": cur + (e - s),
                      "kind": "filler" if filler else "speech", "group": g,
                      "max_inner_gap_s": r4(inner_gap)}
                phrases.append(ph)
                gp.append(ph)
                cur = ph["end"] + int(round((inner[k] if k < len(inner) else pause) * SR))
            groups.append(gp)
        total = cur  # the last pause is the trailing silence
        frames = int(math.ceil(total * a.fps / SR))
        duration = frames / float(a.fps)
        end_sample = int(round(duration * SR))
        if len(track) < end_sample:
            track.extend([0] * (end_sample - len(track)))
        del track[end_sample:]

        speech_wav = os.path.join(tmp, "speech.wav")
        with wave.open(speech_wav, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SR)
            out = array.array("h", track)
            if sys.byteorder == "big":
                out.byteswap()
            w.writeframes(out.tobytes())

        # Video: a plain background, the current group's text, and a clock.
        vf = ["color=c=0x1d2b3a:size=%s:rate=%d:duration=%.6f" % (a.size, a.fps, duration)]
        if not a.no_text and os.path.exists(FONT):
            for g, gp in enumerate(groups):
                t0 = gp[0]["start"] / SR
                t1 = groups[g + 1][0]["start"] / SR if g + 1 < len(groups) else duration
                words, lines, line = " ".join(p["text"] for p in gp).split(), [], ""
                for wd in words:
                    if line and len(line) + 1 + len(wd) > 30:
                        lines.append(line)
                        line = wd
                    else:
                        line = (line + " " + wd).strip()
                lines.append(line)
                tf = os.path.join(tmp, "t%d.txt" % g)
                with open(tf, "w") as f:
                    f.write("\n".join(lines))
                vf.append("drawtext=fontfile=%s:textfile=%s:fontsize=16:fontcolor=white:line_spacing=4:"
                          "x=(w-text_w)/2:y=(h-text_h)/2:enable='between(t,%.4f,%.4f)'" % (FONT, tf, t0, t1))
            vf.append("drawtext=fontfile=%s:text='%%{pts\\:hms}':fontsize=12:fontcolor=0xb0b0b0:x=6:y=h-th-6"
                      % FONT)
        fc = ",".join(vf) + ",format=yuv420p[v]"
        # Audio: speech at 48 kHz, plus pink noise at noise_db RMS.
        cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "nullsrc=s=16x16", "-i", speech_wav]
        if noise_db is not None:
            # anoisesrc's pink noise has about 0.2x the RMS of its amplitude.
            amp = min(1.0, 10 ** (noise_db / 20.0) / 0.2)
            cmd += ["-f", "lavfi", "-i", "anoisesrc=color=pink:sample_rate=48000:amplitude=%.6f:seed=%d"
                    % (amp, a.seed)]
            fc += ";[1:a]aresample=48000[s];[s][2:a]amix=inputs=2:normalize=0:duration=first[a]"
        else:
            fc += ";[1:a]aresample=48000[a]"
        cmd += ["-filter_complex", fc, "-map", "[v]", "-map", "[a]",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "%d" % (2 * a.fps),
                "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-ar", "48000", "-ac", "1",
                "-t", "%.6f" % duration, "-movflags", "+faststart", a.out]
        run(cmd)

    # Truth.
    sec = lambda n: r4(n / SR)
    silences, prev = [], 0
    for i, ph in enumerate(phrases):
        kind = "leading" if i == 0 else ("inner" if ph["group"] == phrases[i - 1]["group"] else "pause")
        silences.append({"start_s": sec(prev), "end_s": sec(ph["start"]),
                         "duration_s": sec(ph["start"] - prev), "kind": kind})
        prev = ph["end"]
    silences.append({"start_s": sec(prev), "end_s": r4(duration), "duration_s": r4(duration - prev / SR),
                     "kind": "trailing"})
    sentences, sidx = [], {}
    for g, gp in enumerate(groups):
        spoken = [p for p in gp if p["kind"] == "speech"]
        if not spoken:
            continue
        sidx[g] = len(sentences)
        sentences.append({"text": " ".join(p["text"] for p in spoken),
                          "text_with_fillers": " ".join(p["text"] for p in gp),
                          "start_s": sec(gp[0]["start"]), "end_s": sec(gp[-1]["end"]),
                          "fillers": sum(p["kind"] == "filler" for p in gp)})
    fillers = [{"word": p["text"], "start_s": sec(p["start"]), "end_s": sec(p["end"]),
                "standalone": p["group"] not in sidx} for p in phrases if p["kind"] == "filler"]
    truth = {
        "video": os.path.basename(a.out), "fps": a.fps, "size": a.size, "frames": frames,
        "duration_s": r4(duration),
        "phrases": [{"text": p["text"], "start_s": sec(p["start"]), "end_s": sec(p["end"]), "kind": p["kind"],
                     "sentence": sidx.get(p["group"]), "max_inner_gap_s": p["max_inner_gap_s"]}
                    for p in phrases],
        "silences": silences, "fillers": fillers, "sentences": sentences,
        "transcript": " ".join(s["text"] for s in sentences),
        "transcript_with_fillers": " ".join(p["text"] for p in phrases),
        "made_with": {"tts": "flite", "voice": a.voice, "filler_stretch": a.filler_stretch,
                      "threshold_db": a.threshold_db, "sample_rate": SR},
    }
    with open(truth_path, "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")
    print("%s: %.2f s, %d sentences, %d fillers, %d silences; truth in %s" % (
        a.out, duration, len(sentences), len(fillers), len(silences), truth_path))


if __name__ == "__main__":
    main()
