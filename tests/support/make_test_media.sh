#!/usr/bin/env bash
# Makes the small synthetic media the C++ tests share, once per build tree:
# later runs find the files and return at once. Needs ffmpeg, and flite with
# the shared tool for the speech files.
set -euo pipefail
out="${1:?usage: make_test_media.sh OUTDIR}"
stamp="$out/.version-5"
[ -f "$stamp" ] && exit 0
mkdir -p "$out"
tmp="$(mktemp -d "$out/.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
# 4 s, 320x180, H.264 + AAC, index at the end (as cameras write it).
ff -f lavfi -i testsrc2=size=320x180:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 \
   -t 4 -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 25 -c:a aac -b:a 64k "$tmp/small.mp4"
ff -f lavfi -i sine=frequency=300:sample_rate=16000 -t 2 -ac 1 "$tmp/tone.wav"
ff -f lavfi -i testsrc2=size=320x180 -frames:v 1 "$tmp/still.png"
# Speech with known sentence times (shared tool, when the shared folder is there).
tool="$(cd "$(dirname "$0")/../../.." && pwd)/shared/tools/make_test_video.py"
if [ -f "$tool" ] && command -v flite >/dev/null; then
  python3 "$tool" "$tmp/talk.mp4" --size 320x180 --fps 25 --seed 3 >/dev/null
  # Hard cuts only, with exact truth: several seeds, sizes, rates, codecs,
  # and a long GOP (scene detection tests).
  python3 "$tool" "$tmp/scenes-a.mp4" --seed 11 --size 320x180 --fps 30 --scenes 6 --no-speech >/dev/null
  python3 "$tool" "$tmp/scenes-b.mkv" --seed 12 --size 256x144 --fps 25 --scenes 6 --no-speech --vcodec mpeg4 >/dev/null
  python3 "$tool" "$tmp/scenes-c.mp4" --seed 13 --size 320x180 --fps 24 --scenes 6 --no-speech --gop 250 >/dev/null
  python3 "$tool" "$tmp/scenes-d.webm" --seed 14 --size 320x180 --fps 30 --scenes 6 --no-speech --vcodec libvpx-vp9 >/dev/null
fi
# A talk with planted pauses and "um"/"uh" fillers, exact truth beside it
# (silence and filler removal tests).
if command -v flite >/dev/null; then
  python3 "$(dirname "$0")/make_edit_talk.py" "$tmp/edit-talk.mp4" >/dev/null
fi
mv "$tmp"/* "$out"/
touch "$stamp"
