// Retention curves: the share of starting viewers still watching, per
// second of a video or clip, predicted (retention_model.h) or imported
// from a platform (import.h), and how two of them agree.
//
// share[i] is the share still watching at t = i seconds (share[0] is the
// start, 1.0 for a predicted curve); the last point is at the end of the
// media, so a curve of a 42.3 s video has 44 points (0..42 and 42.3).
// Imported curves may exceed 1 (YouTube counts re-watches).
// Thread-safety: value types and pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace cutroom::analysis {

struct RetentionCurve {
  double duration_s = 0;
  std::vector<double> share;  // per second, see above

  // The share at time t (linear between points; clamped to the ends).
  double At(double t_s) const;
  // Average view duration in seconds: the area under the curve.
  double AverageViewSeconds() const;
};

// A curve given as points (t as a ratio of the duration 0..1, share),
// resampled to whole seconds of a media lasting duration_s.
// REQUIRES: points sorted by ratio, at least one point, duration_s > 0.
RetentionCurve ResampleRatioPoints(const std::vector<std::pair<double, double>>& points, double duration_s);

// Hazards of a curve (1 - share(t+1)/share(t)), for comparing where
// viewers leave rather than how many are left (two falling curves always
// rank their seconds alike).
std::vector<double> CurveHazards(const RetentionCurve& curve);

// Hazards averaged over kHazardSmoothS seconds (centred): a platform's
// per-second curve is noisy, and where viewers leave matters at the scale
// of a few seconds, not one.
inline constexpr int kHazardSmoothS = 3;
std::vector<double> SmoothHazards(const std::vector<double>& hazards);

struct RetentionAgreement {
  // Rank correlation of where viewers leave: the smoothed per-second
  // hazards (two falling curves always rank their share values alike, so
  // comparing shares would say nothing), -1..1.
  double spearman = 0;
  double spearman_share = 0;  // of the share values themselves, for reference
  double mean_abs_error = 0;
  size_t seconds = 0;       // how many seconds were compared
};

// Compares two curves of the same media over their common seconds.
// InvalidArgument when fewer than 3 seconds overlap.
Result<RetentionAgreement> CompareCurves(const RetentionCurve& predicted, const RetentionCurve& real);

// Spearman's rank correlation (average ranks for ties); 0 when either side
// is constant. REQUIRES: a.size() == b.size().
double Spearman(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace cutroom::analysis
