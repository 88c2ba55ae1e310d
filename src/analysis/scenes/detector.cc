#include "analysis/scenes/detector.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <opencv2/core.hpp>
#include <opencv2/img_hash.hpp>

namespace cutroom::analysis::scenes {
namespace {

// Twin-comparison: frames changing by at least this much (content score)
// may be part of a gradual transition. A 30-frame fade of a mid-grey
// picture changes about 1.5 a frame; a still shot with compression noise
// about 0.3.
constexpr double kGradualLow = 0.8;
// Frames below kGradualLow tolerated inside a transition (encoders repeat
// frames at the start of a fade).
constexpr int kGradualQuiet = 2;
constexpr int64_t kGradualMinFrames = 4;
constexpr double kGradualTotal = 0.6;  // of the cut threshold
// Frames on each side of a transition that must change clearly less than
// the transition itself (at most kQuietRatio of its mean change).
constexpr int64_t kQuietAround = 4;
constexpr double kQuietRatio = 0.5;
constexpr double kGradualMaxSeconds = 3.0;
// A middle frame is a blend of the ends when what the blend does not
// explain is at most this fraction of the difference between the ends.
constexpr double kBlendResidual = 0.3;
// Mean luma (0..255) under which a picture counts as black.
constexpr double kBlack = 20.0;
constexpr int kAdaptiveWindow = 2;
constexpr double kAdaptiveMinContent = 15.0;
// Hue differences count fully only where both pixels have at least this
// chroma saturation; grey pixels have no meaningful hue.
constexpr int kHueFullSat = 32;
// Content and hash cuts must also stand out from the frames just before
// them: a scene whose every frame changes a lot (noise, scrolling
// patterns, fast motion) would otherwise cut every min_scene_len frames.
constexpr int kRecentFrames = 8;
constexpr double kStandOut = 1.5;

uint64_t PerceptualHash(const AnalysisFrame& f) {
  cv::Mat gray(f.height, f.width, CV_8UC1, const_cast<uint8_t*>(f.luma.data()));
  cv::Mat hash;
  cv::img_hash::pHash(gray, hash);
  uint64_t h = 0;
  for (int i = 0; i < hash.cols && i < 8; ++i) h = (h << 8) | hash.at<uint8_t>(0, i);
  return h;
}

}  // namespace

std::string DetectorName(DetectorKind kind) {
  switch (kind) {
    case DetectorKind::kContent: return "content";
    case DetectorKind::kAdaptive: return "adaptive";
    case DetectorKind::kThreshold: return "threshold";
    case DetectorKind::kHash: return "hash";
  }
  return "content";
}

Result<DetectorKind> ParseDetector(const std::string& name) {
  for (auto k : {DetectorKind::kContent, DetectorKind::kAdaptive, DetectorKind::kThreshold, DetectorKind::kHash}) {
    if (DetectorName(k) == name) return k;
  }
  return Status::InvalidArgument("unknown detector '" + name + "' (use content, adaptive, threshold or hash)");
}

double DefaultThreshold(DetectorKind kind) {
  switch (kind) {
    case DetectorKind::kContent: return 16.0;
    case DetectorKind::kAdaptive: return 3.0;
    case DetectorKind::kThreshold: return 12.0;
    case DetectorKind::kHash: return 0.4;
  }
  return 27.0;
}

SceneDetector::SceneDetector(DetectorOptions options) : options_(options) {
  threshold_ = options_.threshold >= 0 ? options_.threshold : DefaultThreshold(options_.kind);
  double fps = options_.fps > 0 ? options_.fps : 30.0;
  auto ring = static_cast<size_t>(std::clamp(std::ceil(fps * kGradualMaxSeconds) + 4.0, 16.0, 400.0));
  ring_.resize(ring);
}

double SceneDetector::ContentScore(const AnalysisFrame& a, const AnalysisFrame& b) {
  const size_t n = std::min(a.luma.size(), b.luma.size());
  if (n == 0) return 0;
  uint64_t dy = 0, ds = 0, dh = 0;
  for (size_t i = 0; i < n; ++i) {
    dy += static_cast<uint64_t>(std::abs(a.luma[i] - b.luma[i]));
    ds += static_cast<uint64_t>(std::abs(a.sat[i] - b.sat[i]));
    int h = std::abs(a.hue[i] - b.hue[i]);
    h = std::min(h, 256 - h) * 2;  // circular, 0..256
    int s = std::min<int>(std::min(a.sat[i], b.sat[i]), kHueFullSat);
    dh += static_cast<uint64_t>(h * s / kHueFullSat);
  }
  return static_cast<double>(dy + ds + dh) / (3.0 * static_cast<double>(n));
}

bool SceneDetector::InRing(int64_t index) const {
  return index >= 0 && index < frames_ && frames_ - index <= static_cast<int64_t>(ring_.size());
}

const AnalysisFrame& SceneDetector::Ring(int64_t index) const {
  return ring_[static_cast<size_t>(index) % ring_.size()];
}

double SceneDetector::TimeOf(int64_t index) const {
  if (index >= 0 && index < static_cast<int64_t>(times_.size())) return times_[index];
  return options_.fps > 0 ? static_cast<double>(index) / options_.fps : 0.0;
}

void SceneDetector::Push(const AnalysisFrame& frame) {
  // Indexes come from the decoder; frames it dropped as undecodable leave
  // gaps, which are filled so that index == position here.
  const int64_t index = frames_;
  double score = index > 0 ? ContentScore(Ring(index - 1), frame) : 0.0;
  scores_.push_back(score);
  times_.push_back(frame.pts_s);
  AnalysisFrame& slot = ring_[static_cast<size_t>(index) % ring_.size()];
  slot.index = index;
  slot.pts_s = frame.pts_s;
  slot.width = frame.width;
  slot.height = frame.height;
  slot.luma.assign(frame.luma.begin(), frame.luma.end());
  slot.hue.assign(frame.hue.begin(), frame.hue.end());
  slot.sat.assign(frame.sat.begin(), frame.sat.end());
  slot.mean_luma = frame.mean_luma;
  ++frames_;

  if (options_.kind == DetectorKind::kThreshold) {
    TrackThreshold(slot);
    return;
  }
  if (options_.gradual) TrackGradual(slot, score);
  switch (options_.kind) {
    case DetectorKind::kContent:
      if (index > 0) DetectCut(slot, score);
      break;
    case DetectorKind::kAdaptive:
      if (index - kAdaptiveWindow >= 1) DecideAdaptive(index - kAdaptiveWindow);
      break;
    case DetectorKind::kHash: {
      uint64_t h = PerceptualHash(slot);
      double distance = index > 0 ? static_cast<double>(std::popcount(h ^ last_hash_)) / 64.0 : 0.0;
      hash_distances_.push_back(distance);
      if (index > 0 && distance >= threshold_ && StandsOut(hash_distances_, index)) {
        cuts_.push_back({"cut", index, index, frame.pts_s, frame.pts_s, distance});
      }
      last_hash_ = h;
      break;
    }
    case DetectorKind::kThreshold: break;
  }
}

bool SceneDetector::StandsOut(const std::vector<double>& history, int64_t index) const {
  double sum = 0;
  int n = 0;
  for (int64_t i = std::max<int64_t>(1, index - kRecentFrames); i < index; ++i, ++n) sum += history[i];
  return n == 0 || history[index] >= kStandOut * (sum / n);
}

void SceneDetector::DetectCut(const AnalysisFrame& f, double score) {
  if (score >= threshold_ && StandsOut(scores_, f.index)) {
    cuts_.push_back({"cut", f.index, f.index, f.pts_s, f.pts_s, score});
  }
}

void SceneDetector::DecideAdaptive(int64_t t) {
  double sum = 0;
  int n = 0;
  for (int64_t i = t - kAdaptiveWindow; i <= t + kAdaptiveWindow; ++i) {
    if (i == t || i < 1 || i >= frames_) continue;
    sum += scores_[i];
    ++n;
  }
  double mean = n > 0 ? sum / n : 0.0;
  double ratio = scores_[t] / std::max(mean, 1e-3);
  if (scores_[t] >= kAdaptiveMinContent && ratio >= threshold_) {
    cuts_.push_back({"cut", t, t, TimeOf(t), TimeOf(t), std::min(ratio, 1e3)});
  }
}

void SceneDetector::TrackGradual(const AnalysisFrame& f, double score) {
  const double cut_level = options_.kind == DetectorKind::kContent ? threshold_ : DefaultThreshold(DetectorKind::kContent);
  const int64_t max_len = static_cast<int64_t>(ring_.size()) - 4;
  Candidate& c = candidate_;
  if (score >= cut_level) {
    // A hard cut ends any transition in progress (and starts none).
    if (c.start >= 0) EvaluateGradual(c.start, c.end);
    c = Candidate{};
    return;
  }
  if (score >= kGradualLow && f.index > 0) {
    if (c.start < 0) c.start = f.index;
    c.end = f.index;
    c.quiet = 0;
    if (c.end - c.start + 1 > max_len) c = Candidate{};  // too slow to be a transition: motion
    return;
  }
  if (c.start >= 0 && ++c.quiet > kGradualQuiet) {
    EvaluateGradual(c.start, c.end);
    c = Candidate{};
  }
}

void SceneDetector::EvaluateGradual(int64_t start, int64_t end) {
  if (end - start + 1 < kGradualMinFrames || !InRing(start - 1) || !InRing(end)) return;
  // Fades often start and end gently (a first step below kGradualLow):
  // widen the span over neighbours that still change noticeably.
  const double cut_level = options_.kind == DetectorKind::kContent ? threshold_ : DefaultThreshold(DetectorKind::kContent);
  double mean = 0;
  for (int64_t i = start; i <= end; ++i) mean += scores_[i];
  mean /= static_cast<double>(end - start + 1);
  auto part_of_it = [&](int64_t i) { return scores_[i] >= 0.2 * mean && scores_[i] < cut_level; };
  for (int k = 0; k <= kGradualQuiet && start - 1 >= 1 && InRing(start - 2) && part_of_it(start - 1); ++k) --start;
  for (int k = 0; k <= kGradualQuiet && end + 1 < frames_ && part_of_it(end + 1); ++k) ++end;
  // Twin comparison's premise: a transition changes more than the shots
  // around it. Continuous motion (a zoom, noise) changes as much before
  // and after, and is not a transition.
  double around = 0;
  int around_n = 0;
  for (int64_t i = start - kQuietAround; i <= end + kQuietAround; ++i) {
    if (i >= start && i <= end) continue;
    if (i < 1 || i >= frames_) continue;
    around += scores_[i] >= cut_level ? 0.0 : scores_[i];
    ++around_n;
  }
  if (around_n > 0 && around / around_n > kQuietRatio * mean) return;
  const AnalysisFrame& a = Ring(start - 1);
  const AnalysisFrame& b = Ring(end);
  const double total = ContentScore(a, b);
  // The blend test below is what tells a transition from motion, so the
  // total change may be smaller than a cut's (a dim picture fading in).
  if (total < kGradualTotal * cut_level) return;
  const size_t n = a.luma.size();
  // Frames a quarter, half and three quarters through must each be
  // alpha*a + (1-alpha)*b, with alpha falling from 1 to 0.
  double previous_alpha = 1.05;
  for (double at : {0.25, 0.5, 0.75}) {
    int64_t mid = start + static_cast<int64_t>(std::lround(at * static_cast<double>(end - start)));
    const AnalysisFrame& m = Ring(mid);
    double num = 0, den = 0;
    auto accumulate = [&](const std::vector<uint8_t>& pa, const std::vector<uint8_t>& pb, const std::vector<uint8_t>& pm) {
      for (size_t i = 0; i < n; ++i) {
        double ab = static_cast<double>(pa[i]) - pb[i];
        num += (static_cast<double>(pm[i]) - pb[i]) * ab;
        den += ab * ab;
      }
    };
    accumulate(a.luma, b.luma, m.luma);
    accumulate(a.sat, b.sat, m.sat);
    if (den <= 0) return;
    double alpha = num / den;
    double residual = 0, spread = 0;
    auto measure = [&](const std::vector<uint8_t>& pa, const std::vector<uint8_t>& pb, const std::vector<uint8_t>& pm) {
      for (size_t i = 0; i < n; ++i) {
        double blend = alpha * pa[i] + (1 - alpha) * pb[i];
        residual += std::abs(pm[i] - blend);
        spread += std::abs(static_cast<double>(pa[i]) - pb[i]);
      }
    };
    measure(a.luma, b.luma, m.luma);
    measure(a.sat, b.sat, m.sat);
    if (spread <= 0 || residual / spread > kBlendResidual) return;
    if (alpha > previous_alpha || alpha < -0.05) return;
    previous_alpha = alpha + 0.05;
  }
  std::string type = a.mean_luma < kBlack ? "fade_in" : (b.mean_luma < kBlack ? "fade_out" : "dissolve");
  if (a.mean_luma < kBlack && b.mean_luma < kBlack) return;
  gradual_.push_back({type, start, end, TimeOf(start), TimeOf(end), total});
}

void SceneDetector::TrackThreshold(const AnalysisFrame& f) {
  const bool dark = f.mean_luma < threshold_;
  const int64_t t = f.index;
  const int64_t max_len = static_cast<int64_t>(ring_.size()) - 4;
  auto mean = [this](int64_t i) { return Ring(i).mean_luma; };
  if (t == 0) {
    dark_ = dark;
    return;
  }
  if (dark && !dark_) {
    // Into black: the fade began where the luma started falling.
    int64_t s = t;
    while (s - 1 >= 1 && InRing(s - 2) && t - s < max_len && mean(s - 1) < mean(s - 2) - 0.5) --s;
    std::string type = t - s <= 1 ? "cut" : "fade_out";
    if (type == "cut") s = t;
    cuts_.push_back({type, s, type == "cut" ? t : t - 1, TimeOf(s), TimeOf(type == "cut" ? t : t - 1), f.mean_luma});
    dark_since_ = t;
    if (type == "fade_out" && f.mean_luma < mean(t - 1) - 0.3) {
      cuts_.back().end_frame = t;
      cuts_.back().end_s = f.pts_s;
    }
  } else if (!dark && dark_) {
    // Out of black: it began where the luma started rising; its end is
    // found as later frames arrive (the pending transition below).
    int64_t s = t;
    while (s - 1 >= 1 && InRing(s - 1) && t - s < max_len && mean(s - 1) > mean(s - 2) + 0.5 && s - 1 > dark_since_) --s;
    cuts_.push_back({"fade_in", s, t, TimeOf(s), TimeOf(t), f.mean_luma});
  } else if (!cuts_.empty() && cuts_.back().end_frame == t - 1 && t - cuts_.back().start_frame < max_len &&
             ((!dark && cuts_.back().type == "fade_in" && f.mean_luma > mean(t - 1) + 0.5) ||
              (dark && cuts_.back().type == "fade_out" && f.mean_luma < mean(t - 1) - 0.3))) {
    // The fade goes on: the span grows until the luma settles.
    cuts_.back().end_frame = t;
    cuts_.back().end_s = f.pts_s;
  }
  dark_ = dark;
}

void SceneDetector::Finish() {
  if (finished_) return;
  finished_ = true;
  if (options_.kind == DetectorKind::kAdaptive) {
    for (int64_t t = std::max<int64_t>(1, frames_ - kAdaptiveWindow); t < frames_; ++t) DecideAdaptive(t);
  }
  if (options_.gradual && candidate_.start >= 0) EvaluateGradual(candidate_.start, candidate_.end);
  for (auto& c : cuts_) {
    if (c.type == "fade_in" && c.end_frame == c.start_frame) c.type = "cut";
  }
  // A cut inside a fade or dissolve is part of it.
  std::vector<Transition> all = gradual_;
  for (const auto& c : cuts_) {
    bool inside = std::any_of(gradual_.begin(), gradual_.end(), [&](const Transition& g) {
      return c.start_frame > g.start_frame && c.start_frame <= g.end_frame;
    });
    if (!inside) all.push_back(c);
  }
  std::sort(all.begin(), all.end(), [](const Transition& x, const Transition& y) { return x.start_frame < y.start_frame; });
  result_.clear();
  int64_t previous = 0;
  for (const auto& t : all) {
    if (t.start_frame - previous < options_.min_scene_len) continue;
    result_.push_back(t);
    previous = t.end_frame;
  }
}

}  // namespace cutroom::analysis::scenes
