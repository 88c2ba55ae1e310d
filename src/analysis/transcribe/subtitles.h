// Subtitles from a transcript, following the usual conventions: cues of 1
// to 7 seconds, at most two lines of at most 42 characters, lines broken at
// the most balanced space, cues never spanning a long pause.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "analysis/transcribe/transcript.h"

namespace cutroom::analysis {

struct Cue {
  double start_s = 0;
  double end_s = 0;
  std::vector<std::string> lines;  // 1 or 2
};

struct CueOptions {
  size_t max_line_chars = 42;
  size_t max_lines = 2;
  double min_duration_s = 1.0;
  double max_duration_s = 7.0;
};

std::vector<Cue> BuildCues(const Transcript& transcript, const CueOptions& options = {});

std::string FormatSrt(const std::vector<Cue>& cues);
std::string FormatVtt(const std::vector<Cue>& cues);
// Plain text: one segment per line.
std::string FormatText(const Transcript& transcript);

// "00:01:02,345" (SRT) or "00:01:02.345" (VTT).
std::string SubtitleTime(double seconds, char decimal_separator);

}  // namespace cutroom::analysis
