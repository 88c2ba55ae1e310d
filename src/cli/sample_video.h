// The sample that `cutroom run --sample` works on: a 1280x720 company
// update of about 70 seconds, made on the spot from what Debian ships
// (nothing is downloaded). Six scenes, each spoken over by flite's rms
// voice (speech pocketsphinx reads almost word for word):
//   1. title slide        greeting and housekeeping
//   2. Megamind.avi       a story begins: the backup server that failed
//   3. messi5.jpg (zoom)  the stakes and the turn
//   4. vtest.avi          the resolution and its lesson
//   5. figures slide      numbers for the quarter
//   6. closing slide      sign-off
// so the obvious best clip is the story (scenes 2-4), and the renders show
// what cutroom does with each kind of picture: slides fitted whole, a face
// followed, a wide shot. Each scene lasts its paragraph plus a pause, so
// cuts fall between sentences.
//
// The footage comes from opencv-doc's examples (scripts/install-deps.sh
// installs it) and the slides are drawn with DejaVu Sans; a missing file
// is replaced by one of ffmpeg's test patterns, so the sample still runs.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace cutroom::cli {

// The paragraphs the sample speaks, in order (for tests: its clips'
// titles must be sentences of this script).
const std::vector<std::string>& SampleScript();

// Writes <out_dir>/sample.mp4 (creating out_dir) and returns its path.
// Needs ffmpeg and flite on PATH.
Result<std::string> MakeSampleVideo(const std::string& out_dir);

}  // namespace cutroom::cli
