#include "analysis/retention/curve.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace cutroom::analysis {

double RetentionCurve::At(double t_s) const {
  if (share.empty()) return 0;
  if (t_s <= 0) return share.front();
  const size_t whole = static_cast<size_t>(std::floor(t_s));
  if (whole + 1 >= share.size()) return share.back();
  // The last point sits at duration_s, not at a whole second.
  double next_t = whole + 1 == share.size() - 1 ? duration_s : static_cast<double>(whole + 1);
  double f = (t_s - static_cast<double>(whole)) / std::max(1e-9, next_t - static_cast<double>(whole));
  return share[whole] + std::clamp(f, 0.0, 1.0) * (share[whole + 1] - share[whole]);
}

double RetentionCurve::AverageViewSeconds() const {
  double area = 0;
  for (size_t i = 0; i + 1 < share.size(); ++i) {
    double t0 = static_cast<double>(i);
    double t1 = i + 1 == share.size() - 1 ? duration_s : static_cast<double>(i + 1);
    area += 0.5 * (share[i] + share[i + 1]) * std::max(0.0, t1 - t0);
  }
  return area;
}

RetentionCurve ResampleRatioPoints(const std::vector<std::pair<double, double>>& points, double duration_s) {
  RetentionCurve c;
  c.duration_s = duration_s;
  const size_t n = static_cast<size_t>(std::floor(duration_s)) + (std::floor(duration_s) < duration_s ? 2 : 1);
  c.share.resize(n);
  for (size_t i = 0; i < n; ++i) {
    double t = i + 1 == n ? duration_s : static_cast<double>(i);
    double r = duration_s > 0 ? t / duration_s : 0;
    auto it = std::lower_bound(points.begin(), points.end(), r,
                               [](const std::pair<double, double>& p, double v) { return p.first < v; });
    if (it == points.begin()) {
      c.share[i] = points.front().second;
    } else if (it == points.end()) {
      c.share[i] = points.back().second;
    } else {
      const auto& b = *it;
      const auto& a = *(it - 1);
      double f = (r - a.first) / std::max(1e-12, b.first - a.first);
      c.share[i] = a.second + f * (b.second - a.second);
    }
  }
  return c;
}

namespace {

std::vector<double> Ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> rank(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    double r = 0.5 * static_cast<double>(i + j) + 1;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = r;
    i = j + 1;
  }
  return rank;
}

}  // namespace

double Spearman(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size() || a.size() < 2) return 0;
  std::vector<double> ra = Ranks(a), rb = Ranks(b);
  double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / static_cast<double>(ra.size());
  double mb = std::accumulate(rb.begin(), rb.end(), 0.0) / static_cast<double>(rb.size());
  double cov = 0, va = 0, vb = 0;
  for (size_t i = 0; i < ra.size(); ++i) {
    cov += (ra[i] - ma) * (rb[i] - mb);
    va += (ra[i] - ma) * (ra[i] - ma);
    vb += (rb[i] - mb) * (rb[i] - mb);
  }
  if (va <= 0 || vb <= 0) return 0;
  return cov / std::sqrt(va * vb);
}

std::vector<double> CurveHazards(const RetentionCurve& curve) {
  std::vector<double> h;
  for (size_t i = 0; i + 1 < curve.share.size(); ++i) {
    h.push_back(curve.share[i] > 1e-9 ? 1.0 - curve.share[i + 1] / curve.share[i] : 0.0);
  }
  return h;
}

std::vector<double> SmoothHazards(const std::vector<double>& h) {
  std::vector<double> out(h.size());
  const int half = kHazardSmoothS / 2;
  for (size_t i = 0; i < h.size(); ++i) {
    double sum = 0;
    int n = 0;
    for (int d = -half; d <= half; ++d) {
      int64_t j = static_cast<int64_t>(i) + d;
      if (j < 0 || j >= static_cast<int64_t>(h.size())) continue;
      sum += h[static_cast<size_t>(j)];
      ++n;
    }
    out[i] = sum / n;
  }
  return out;
}

Result<RetentionAgreement> CompareCurves(const RetentionCurve& predicted, const RetentionCurve& real) {
  size_t n = std::min(predicted.share.size(), real.share.size());
  if (n < 3) return Status::InvalidArgument("the curves share fewer than 3 seconds");
  std::vector<double> a(predicted.share.begin(), predicted.share.begin() + static_cast<std::ptrdiff_t>(n));
  std::vector<double> b(real.share.begin(), real.share.begin() + static_cast<std::ptrdiff_t>(n));
  RetentionAgreement out;
  out.seconds = n;
  out.spearman_share = Spearman(a, b);
  std::vector<double> ha = CurveHazards(predicted), hb = CurveHazards(real);
  const size_t m = std::min(ha.size(), hb.size());
  ha.resize(m);
  hb.resize(m);
  out.spearman = Spearman(SmoothHazards(ha), SmoothHazards(hb));
  double err = 0;
  for (size_t i = 0; i < n; ++i) err += std::abs(a[i] - b[i]);
  out.mean_abs_error = err / static_cast<double>(n);
  return out;
}

}  // namespace cutroom::analysis
