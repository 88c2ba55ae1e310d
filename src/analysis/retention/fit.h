// Refitting the retention model to real curves: an owner's imported
// audience-retention curves teach the hazard weights (model.h) what their
// audience does.
//
// The fit minimises the mean squared error between predicted and observed
// share per second, over all videos, plus a ridge penalty pulling every
// parameter toward the prior (the built-in defaults, or the owner's
// current model) with strength prior_strength / videos: a handful of
// videos moves the weights little, many move them more. Parameters are the
// feature weights and the logs of the two base hazards; the optimiser is
// Adam on central-difference gradients (13 parameters; the features are
// computed once per video, so an evaluation is a pass over seconds).
//
// Quality is reported as held-out (k-fold over videos, k = min(videos,
// 5)) Spearman correlation of per-second hazards, where viewers leave,
// before (the prior) and after (a fit without the held-out videos).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "analysis/retention/model.h"

namespace cutroom::analysis {

struct FitSample {
  std::string video_id;
  RetentionFeatures features;
  RetentionCurve observed;
};

struct FitOptions {
  double prior_strength = 0.001;
  int iterations = 300;
  double learning_rate = 0.05;
  size_t max_folds = 5;
};

struct FitReport {
  RetentionModel model;            // fitted on every sample
  size_t videos = 0;
  double spearman_before = 0;      // held-out, mean over videos
  double spearman_after = 0;
  double mse_before = 0, mse_after = 0;  // in-sample share error
};

// InvalidArgument when there are fewer than 2 samples or a sample has no
// seconds in common with its curve.
Result<FitReport> FitRetentionModel(const std::vector<FitSample>& samples, const RetentionModel& prior,
                                    const FitOptions& options = {});

// Where viewers leave, predicted against observed: Spearman of per-second
// hazards over their common seconds.
double HazardSpearman(const RetentionModel& model, const FitSample& sample);

}  // namespace cutroom::analysis
