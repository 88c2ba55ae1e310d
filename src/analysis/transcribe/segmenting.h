// Segments from timed words, the way every engine cuts them: a segment
// ends after a word with sentence-final punctuation (. ? ! and "..."), and
// before a pause longer than pause_split_s. Engines that return a flat word
// list (pocketsphinx per utterance, VideoDB) share this, so their segments
// look alike to subtitles, search and clip finding.
// Thread-safety: pure function.
#pragma once

#include <vector>

#include "analysis/transcribe/transcript.h"

namespace cutroom::analysis {

struct SegmentOptions {
  double pause_split_s = 0.6;  // a longer silence between two words ends the segment
};

// Each segment's text is its words joined by spaces, its times are its
// first word's start and last word's end, its confidence their mean.
// Words must be in time order; empty words are skipped.
std::vector<TranscriptSegment> SegmentWords(const std::vector<TranscriptWord>& words,
                                            const SegmentOptions& options = {});

}  // namespace cutroom::analysis
