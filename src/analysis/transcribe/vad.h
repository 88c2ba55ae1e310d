// An energy-based voice activity detector that cuts a 16 kHz mono stream
// into utterances at pauses.
//
// Frames of 10 ms are classed as speech when their energy rises far enough
// above a running estimate of the noise floor; a run of non-speech frames
// at least min_pause long ends an utterance, and an utterance that grows
// past max_utterance is cut at its quietest recent frame. Each utterance
// keeps a little context on both sides so no word is clipped.
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace cutroom::analysis {

struct Utterance {
  int64_t start_sample = 0;     // in the whole stream
  std::vector<int16_t> samples;
};

struct VadOptions {
  int sample_rate = 16000;
  double min_pause_s = 0.5;      // silence that ends an utterance
  double max_utterance_s = 25.0;
  double padding_s = 0.25;       // context kept before and after speech
  double threshold_db = 9.0;     // speech is this far above the noise floor
  double min_speech_s = 0.15;    // shorter bursts are noise
};

class VoiceActivitySegmenter {
 public:
  using Emit = std::function<void(Utterance)>;
  VoiceActivitySegmenter(VadOptions options, Emit emit);

  void Push(const int16_t* samples, size_t count);
  // Flushes the last utterance.
  void Finish();

 private:
  void ProcessFrame(const int16_t* frame);
  void Close(int64_t end_sample);

  VadOptions options_;
  Emit emit_;
  int frame_len_;
  std::vector<int16_t> pending_;          // partial frame
  std::vector<int16_t> history_;          // recent audio for padding and the open utterance
  int64_t history_start_ = 0;             // sample index of history_[0]
  int64_t position_ = 0;                  // samples consumed
  double noise_db_ = -1;                  // running noise floor
  bool in_speech_ = false;
  int64_t speech_start_ = 0;
  int64_t last_speech_end_ = 0;
  int64_t speech_samples_ = 0;
  std::vector<std::pair<int64_t, double>> frame_energy_;  // open utterance: (frame start, dB)
};

}  // namespace cutroom::analysis
