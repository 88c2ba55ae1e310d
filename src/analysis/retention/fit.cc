#include "analysis/retention/fit.h"

#include <algorithm>
#include <cmath>

namespace cutroom::analysis {
namespace {

std::vector<double> ToParams(const RetentionModel& m) {
  std::vector<double> p;
  for (const auto& name : RetentionFeatureNames()) {
    auto it = m.weights.find(name);
    p.push_back(it == m.weights.end() ? 0.0 : it->second);
  }
  p.push_back(std::log(std::max(1e-6, m.base_long)));
  p.push_back(std::log(std::max(1e-6, m.base_intro)));
  return p;
}

RetentionModel FromParams(const std::vector<double>& p, const std::string& version) {
  RetentionModel m;
  m.version = version;
  const auto& names = RetentionFeatureNames();
  for (size_t k = 0; k < names.size(); ++k) m.weights[names[k]] = p[k];
  m.base_long = std::exp(p[names.size()]);
  m.base_intro = std::exp(p[names.size() + 1]);
  return m;
}

// The squared error of the predicted share against the observed one, per
// second. The same curve as Predict's, without drop points and reasons
// (the optimiser evaluates this thousands of times).
double SampleMse(const std::vector<double>& p, const FitSample& s) {
  const auto& rows = s.features.rows;
  const size_t k_count = RetentionFeatureNames().size();
  const double base_long = std::exp(p[k_count]), base_intro = std::exp(p[k_count + 1]);
  const double length_factor = 1 + 0.25 * std::log1p(s.features.duration_s / 60.0);
  const size_t n = std::min(rows.size() + 1, s.observed.share.size());
  if (n == 0) return 0;
  double share = 1.0, err = 0;
  for (size_t t = 0; t < n; ++t) {
    double d = share - s.observed.share[t];
    err += d * d;
    if (t >= rows.size()) break;
    double z = 0;
    for (size_t k = 0; k < k_count; ++k) z += p[k] * rows[t][k];
    double base = base_long * length_factor + base_intro * std::exp(-static_cast<double>(t) / 4.0);
    double h = std::min(kMaxHazard, base * std::exp(std::clamp(z, -10.0, 10.0)));
    double span = std::min(1.0, s.features.duration_s - static_cast<double>(t));
    share *= std::pow(1 - h, std::max(0.0, span));
  }
  return err / static_cast<double>(n);
}

struct Objective {
  const std::vector<const FitSample*>& samples;
  const std::vector<double>& prior;
  double strength;

  double operator()(const std::vector<double>& p) const {
    double loss = 0;
    for (const FitSample* s : samples) loss += SampleMse(p, *s);
    loss /= static_cast<double>(samples.size());
    double penalty = 0;
    for (size_t k = 0; k < p.size(); ++k) penalty += (p[k] - prior[k]) * (p[k] - prior[k]);
    return loss + strength / static_cast<double>(samples.size()) * penalty;
  }
};

std::vector<double> Minimise(const std::vector<const FitSample*>& samples, const std::vector<double>& prior,
                             const FitOptions& o) {
  Objective f{samples, prior, o.prior_strength};
  std::vector<double> p = prior, m(p.size(), 0), v(p.size(), 0);
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8, h = 1e-3;
  for (int it = 1; it <= o.iterations; ++it) {
    std::vector<double> g(p.size());
    for (size_t k = 0; k < p.size(); ++k) {
      std::vector<double> a = p, b = p;
      a[k] += h;
      b[k] -= h;
      g[k] = (f(a) - f(b)) / (2 * h);
    }
    for (size_t k = 0; k < p.size(); ++k) {
      m[k] = b1 * m[k] + (1 - b1) * g[k];
      v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
      double mh = m[k] / (1 - std::pow(b1, it)), vh = v[k] / (1 - std::pow(b2, it));
      p[k] -= o.learning_rate * mh / (std::sqrt(vh) + eps);
    }
  }
  return p;
}

}  // namespace

double HazardSpearman(const RetentionModel& model, const FitSample& sample) {
  std::vector<double> predicted = Predict(model, sample.features).hazard;
  std::vector<double> observed = CurveHazards(sample.observed);
  size_t n = std::min(predicted.size(), observed.size());
  predicted.resize(n);
  observed.resize(n);
  return Spearman(SmoothHazards(predicted), SmoothHazards(observed));
}

Result<FitReport> FitRetentionModel(const std::vector<FitSample>& samples, const RetentionModel& prior,
                                    const FitOptions& o) {
  if (samples.size() < 2) return Status::InvalidArgument("fitting needs imported curves of at least 2 videos");
  for (const auto& s : samples) {
    if (s.features.rows.empty() || s.observed.share.size() < 3) {
      return Status::InvalidArgument("video " + s.video_id + " has too short a curve to fit on");
    }
  }
  const std::vector<double> prior_p = ToParams(prior);
  FitReport report;
  report.videos = samples.size();
  // Held-out quality: folds of videos, each predicted by a fit on the rest.
  const size_t folds = std::min(samples.size(), std::max<size_t>(2, o.max_folds));
  double before = 0, after = 0;
  for (size_t fold = 0; fold < folds; ++fold) {
    std::vector<const FitSample*> train, test;
    for (size_t i = 0; i < samples.size(); ++i) (i % folds == fold ? test : train).push_back(&samples[i]);
    RetentionModel fitted = FromParams(Minimise(train, prior_p, o), "fold");
    for (const FitSample* s : test) {
      before += HazardSpearman(prior, *s);
      after += HazardSpearman(fitted, *s);
    }
  }
  report.spearman_before = before / static_cast<double>(samples.size());
  report.spearman_after = after / static_cast<double>(samples.size());
  std::vector<const FitSample*> all;
  for (const auto& s : samples) all.push_back(&s);
  report.model = FromParams(Minimise(all, prior_p, o), prior.version);
  const std::vector<double> fitted_p = ToParams(report.model);
  for (const FitSample* s : all) {
    report.mse_before += SampleMse(prior_p, *s) / static_cast<double>(all.size());
    report.mse_after += SampleMse(fitted_p, *s) / static_cast<double>(all.size());
  }
  return report;
}

}  // namespace cutroom::analysis
