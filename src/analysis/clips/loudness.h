// Loudness curve of a media file's audio: RMS level in dBFS per fixed step
// (0.5 s by default), for scoring how energetic a stretch of speech is.
//
// The audio is streamed through media::ExtractAudio (mono, 8 kHz: speech
// energy lives well below 4 kHz) and only one window's running sum is kept,
// so memory does not grow with the length of the file.
// Thread-safety: MeasureLoudness is reentrant; a LoudnessMeter is a value
// owned by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"

namespace cutroom::analysis {

// Level of digital silence: the floor of every window.
inline constexpr double kSilenceDb = -100.0;

struct LoudnessCurve {
  double step_s = 0.5;
  std::vector<double> db;  // window i covers [i * step_s, (i + 1) * step_s)

  bool empty() const { return db.empty(); }
};

// Accumulates samples into windows. Exposed so that tests (and callers that
// already hold samples) can feed it directly.
class LoudnessMeter {
 public:
  // REQUIRES: sample_rate > 0, step_s > 0.
  LoudnessMeter(int sample_rate, double step_s);
  void Add(const int16_t* samples, size_t count);
  // Closes the last, partial window (when it holds any samples).
  LoudnessCurve Finish();

 private:
  void CloseWindow();
  size_t window_samples_;
  double step_s_;
  double sum_squares_ = 0;
  size_t in_window_ = 0;
  LoudnessCurve curve_;
};

// The curve of path's first audio stream. NotFound when it has no audio
// (callers score without loudness then); Cancelled when `cancelled`
// returns true; otherwise ExtractAudio's errors.
Result<LoudnessCurve> MeasureLoudness(const std::string& path, double step_s = 0.5,
                                      const std::function<bool()>& cancelled = {});

}  // namespace cutroom::analysis
