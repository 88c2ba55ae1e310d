#include "analysis/clips/loudness.h"

#include <algorithm>
#include <cmath>

#include "media/audio.h"

namespace cutroom::analysis {
namespace {

constexpr int kLoudnessRate = 8000;

}  // namespace

LoudnessMeter::LoudnessMeter(int sample_rate, double step_s)
    : window_samples_(std::max<size_t>(1, static_cast<size_t>(std::llround(sample_rate * step_s)))), step_s_(step_s) {
  curve_.step_s = step_s;
}

void LoudnessMeter::Add(const int16_t* samples, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    double s = samples[i];
    sum_squares_ += s * s;
    if (++in_window_ == window_samples_) CloseWindow();
  }
}

void LoudnessMeter::CloseWindow() {
  double mean_square = sum_squares_ / static_cast<double>(in_window_);
  // Full scale is a square wave at 32768: 0 dBFS.
  double db = mean_square > 0 ? 10.0 * std::log10(mean_square / (32768.0 * 32768.0)) : kSilenceDb;
  curve_.db.push_back(std::max(kSilenceDb, db));
  sum_squares_ = 0;
  in_window_ = 0;
}

LoudnessCurve LoudnessMeter::Finish() {
  if (in_window_ > 0) CloseWindow();
  LoudnessCurve out = std::move(curve_);
  curve_ = LoudnessCurve{};
  curve_.step_s = step_s_;
  return out;
}

Result<LoudnessCurve> MeasureLoudness(const std::string& path, double step_s, const std::function<bool()>& cancelled) {
  if (!(step_s >= 0.01 && step_s <= 60)) {
    return Status::InvalidArgument("loudness step must be between 0.01 and 60 s");
  }
  LoudnessMeter meter(kLoudnessRate, step_s);
  size_t since_check = 0;
  Status st = media::ExtractAudio(path, kLoudnessRate, [&](const int16_t* samples, size_t count) -> Status {
    meter.Add(samples, count);
    since_check += count;
    if (cancelled && since_check >= kLoudnessRate) {  // about once a second of audio
      since_check = 0;
      if (cancelled()) return Status::Cancelled("loudness measurement cancelled");
    }
    return Status::Ok();
  });
  CUTROOM_RETURN_IF_ERROR(st);
  return meter.Finish();
}

}  // namespace cutroom::analysis
