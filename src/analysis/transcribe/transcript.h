// The engine-independent transcript: segments (sentence-like, split at
// pauses and at punctuation when the engine gives it) with timed words.
// This is what every Transcriber returns and what the `transcriptions`,
// `transcript_segments` and `transcript_words` tables store.
#pragma once

#include <string>
#include <vector>

namespace cutroom::analysis {

struct TranscriptWord {
  std::string word;
  double start_s = 0;
  double end_s = 0;
  double confidence = 0;  // 0..1
};

struct TranscriptSegment {
  double start_s = 0;
  double end_s = 0;
  std::string text;
  double confidence = 0;
  std::vector<TranscriptWord> words;
};

struct Transcript {
  std::string engine;    // "pocketsphinx", "openai"
  std::string model;
  std::string language;  // "en"
  std::vector<TranscriptSegment> segments;
  std::string note;      // e.g. "the media has no audio"

  std::string Text() const;
};

}  // namespace cutroom::analysis
