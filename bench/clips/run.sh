#!/usr/bin/env bash
# The clip-quality evaluation: every talk in bench/clips/talks spoken by
# flite, transcribed by pocketsphinx and clipped with the product defaults;
# prints per-talk results and the totals (top-1 / top-3 hold >= 80% of the
# planted story; clip edges in pauses). Fails when below the targets.
#   bench/clips/run.sh            transcribe every talk (about 25 s per talk on one core)
#   bench/clips/run.sh cached     reuse transcripts kept beside the videos (scorer work)
#   CUTROOM_CLIP_EVAL_VERBOSE=1   also every candidate with its features
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${CUTROOM_BUILD_DIR:-$root/build/release}"
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target clips_story_test >/dev/null
# Videos and truth files are made once per build tree under test-media/clips/story.
cd "$build"
CUTROOM_CLIP_EVAL="${1:-1}" ./tests/clips/clips_story_test --gtest_filter='ClipStoryBench.*' --gtest_also_run_disabled_tests 2>&1 |
  grep -vE '^\[|^$|^Note: Google Test filter'
