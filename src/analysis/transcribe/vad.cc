#include "analysis/transcribe/vad.h"

#include <algorithm>
#include <cmath>

namespace cutroom::analysis {


VoiceActivitySegmenter::VoiceActivitySegmenter(VadOptions options, Emit emit)
    : options_(options), emit_(std::move(emit)), frame_len_(options.sample_rate / 100) {}

void VoiceActivitySegmenter::Push(const int16_t* samples, size_t count) {
  history_.insert(history_.end(), samples, samples + count);
  pending_.insert(pending_.end(), samples, samples + count);
  size_t off = 0;
  while (pending_.size() - off >= static_cast<size_t>(frame_len_)) {
    ProcessFrame(pending_.data() + off);
    off += static_cast<size_t>(frame_len_);
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(off));
  // Outside speech only the padding before a possible start is worth keeping.
  if (!in_speech_) {
    int64_t keep_from = position_ - static_cast<int64_t>(options_.padding_s * options_.sample_rate) - frame_len_;
    if (keep_from > history_start_ && last_speech_end_ <= keep_from) {
      size_t drop = static_cast<size_t>(std::min<int64_t>(keep_from - history_start_,
                                                          static_cast<int64_t>(history_.size())));
      history_.erase(history_.begin(), history_.begin() + static_cast<std::ptrdiff_t>(drop));
      history_start_ += static_cast<int64_t>(drop);
    }
  }
}

void VoiceActivitySegmenter::ProcessFrame(const int16_t* frame) {
  double sum = 0;
  for (int i = 0; i < frame_len_; ++i) sum += static_cast<double>(frame[i]) * frame[i];
  double db = 10.0 * std::log10(sum / frame_len_ + 1.0);
  int64_t start = position_;
  position_ += frame_len_;

  // The noise floor follows quiet frames quickly and loud ones slowly, so
  // it settles on the background level between words.
  if (noise_db_ < 0) noise_db_ = db;
  if (db < noise_db_) {
    noise_db_ = 0.7 * noise_db_ + 0.3 * db;
  } else {
    noise_db_ = 0.999 * noise_db_ + 0.001 * db;
  }
  // Digital silence would put the floor at 0 dB; keep a sensible minimum.
  double floor = std::max(noise_db_, 20.0);
  bool speech = db > floor + options_.threshold_db;

  if (speech) {
    if (!in_speech_) {
      in_speech_ = true;
      speech_start_ = start;
      speech_samples_ = 0;
      frame_energy_.clear();
    }
    last_speech_end_ = position_;
    speech_samples_ += frame_len_;
  }
  if (in_speech_) {
    frame_energy_.emplace_back(start, db);
    int64_t pause = position_ - last_speech_end_;
    int64_t length = position_ - speech_start_;
    if (pause >= static_cast<int64_t>(options_.min_pause_s * options_.sample_rate)) {
      Close(last_speech_end_);
    } else if (length >= static_cast<int64_t>(options_.max_utterance_s * options_.sample_rate)) {
      // Cut at the quietest frame of the last two seconds.
      int64_t window_start = position_ - 2 * options_.sample_rate;
      auto best = frame_energy_.end();
      for (auto it = frame_energy_.begin(); it != frame_energy_.end(); ++it) {
        if (it->first < window_start) continue;
        if (best == frame_energy_.end() || it->second < best->second) best = it;
      }
      int64_t cut = best == frame_energy_.end() ? position_ : best->first;
      Close(cut);
      if (cut < position_) {  // the rest continues as a new utterance
        in_speech_ = true;
        speech_start_ = cut;
        speech_samples_ = position_ - cut;
        frame_energy_.clear();
      }
    }
  }
}

void VoiceActivitySegmenter::Close(int64_t end_sample) {
  in_speech_ = false;
  if (speech_samples_ < static_cast<int64_t>(options_.min_speech_s * options_.sample_rate)) return;
  int64_t pad = static_cast<int64_t>(options_.padding_s * options_.sample_rate);
  int64_t from = std::max(history_start_, speech_start_ - pad);
  int64_t to = std::min(history_start_ + static_cast<int64_t>(history_.size()), end_sample + pad);
  if (to <= from) return;
  Utterance u;
  u.start_sample = from;
  u.samples.assign(history_.begin() + (from - history_start_), history_.begin() + (to - history_start_));
  emit_(std::move(u));
}

void VoiceActivitySegmenter::Finish() {
  if (in_speech_) Close(std::min(position_, last_speech_end_));
}

}  // namespace cutroom::analysis
