// Sentences of a transcript: the units clip edges are made of.
//
// A clip starts on the first word of a sentence and ends on the last word
// of one, so candidates, exports and their markers share one split.
// When the engine punctuates (some segment text or word carries . ? !),
// each word is aligned with its segment's text to recover the punctuation
// and casing that word lists lack (Whisper's word timestamps come without
// them), and the word stream is split at sentence-final punctuation across
// segment boundaries (Whisper segments often break mid-sentence) and at
// pauses of at least SentenceOptions::pause_split_s. Without punctuation
// (pocketsphinx) the segments, which engines split at pauses, are the
// units. A unit longer than max_unit_s is split again at its longest pauses
// so that no stretch of run-on speech is too long to be a clip.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "analysis/transcribe/transcript.h"

namespace cutroom::analysis {

// A word as shown to people: with its punctuation and case when the engine
// gave them in the segment text.
struct SpokenWord {
  std::string text;
  double start_s = 0;
  double end_s = 0;
  double confidence = 0;
};

struct Sentence {
  size_t first_word = 0;  // inclusive indices into SentenceSplit::words
  size_t last_word = 0;
  double start_s = 0;     // first word's start
  double end_s = 0;       // last word's end
  std::string text;       // the words' display text joined by spaces
  // '.', '?' or '!' when punctuation closes the sentence; 0 for a unit cut
  // at a pause (unpunctuated transcripts, over-long sentences).
  char terminal = 0;
};

struct SentenceSplit {
  std::vector<SpokenWord> words;  // every word of the transcript, in time order
  std::vector<Sentence> sentences;
  bool punctuated = false;
};

struct SentenceOptions {
  double max_unit_s = 60;     // longer units are split at their longest pauses
  double pause_split_s = 2.0; // punctuated transcripts also split at pauses this long
};

SentenceSplit SplitSentences(const Transcript& transcript, const SentenceOptions& options = {});

// The sentence-final punctuation of a display word ('.', '?', '!') looking
// past closing quotes and brackets, or 0. "..." counts as '.'.
char TerminalPunctuation(const std::string& word);

}  // namespace cutroom::analysis
