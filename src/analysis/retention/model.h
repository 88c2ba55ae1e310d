// The retention model: a per-second hazard model over explainable
// features of a video (or a stretch of it, for clips), giving the curve of
// the share of starting viewers still watching, the places where viewers
// are most likely to leave and why, and a summary.
//
// For each second t of the output, features x_k(t) are measured from the
// stored index (RetentionInputs): speech, pauses, words per second, a hook
// in the opening, scene cuts and how long a shot or slide has stayed on
// screen, faces, text on screen, loudness. The hazard (the share of the
// viewers still there who leave during that second) is
//     h(t) = base(t) * exp(sum_k w_k x_k(t)),   capped at kMaxHazard,
//     base(t) = b_long * (1 + 0.25 ln(1 + T/60)) + b_intro * exp(-t / 4 s),
// so leaving is likeliest in the opening seconds and long videos lose
// more viewers overall, as audience studies of online video find; and
// share(t+1) = share(t) * (1 - h(t)).
//
// The weights are a RetentionModel: the built-in defaults (hand-set from
// the literature's directions: silence, slow starts and static slides lose
// viewers; cuts, faces and a hook hold them) or an owner's refit
// (fit.h). Every analysis stores the model version it used.
//
// Drop points are stretches where the hazard is at least kDropRatio times
// both the base and the video's median hazard, the costliest first (at
// most kMaxDropPoints, 5 s apart), each with the features that raised it
// most, in words ("6.2 s of silence",
// "no speech in the first 4 s", "static slide for 40 s"). A drop point's
// time is where its cause begins (the silence, the slide), so a creator
// sees what to cut.
// Thread-safety: pure functions over values.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/clips/loudness.h"
#include "analysis/retention/curve.h"
#include "core/result.h"

namespace cutroom::analysis {

inline constexpr const char* kDefaultRetentionModelVersion = "retention/1";
inline constexpr double kMaxHazard = 0.5;
inline constexpr double kDropRatio = 1.6;
inline constexpr size_t kMaxDropPoints = 6;

// The features, by name, in the order of their weights.
const std::vector<std::string>& RetentionFeatureNames();

struct RetentionModel {
  std::string version = kDefaultRetentionModelVersion;
  // Per second, late in a short video: a 10-minute talk with nothing
  // wrong keeps about a third of its viewers, a 60 s clip most of them.
  double base_long = 0.0015;
  double base_intro = 0.025;  // extra per second at t = 0, decaying over 4 s
  std::map<std::string, double> weights;  // by feature name

  static RetentionModel Defaults();
  nlohmann::json ToJson() const;
  // InvalidArgument for unknown features or non-finite numbers.
  static Result<RetentionModel> FromJson(const nlohmann::json& j);
};

struct RetentionWord {
  double start_s = 0, end_s = 0;
};

struct RetentionFrame {
  double t_s = 0;
  bool faces_known = false;
  int faces = 0;
  bool text_known = false;
  bool text = false;  // OCR read a line or more
};

// What the model reads, in source time.
struct RetentionInputs {
  double duration_s = 0;
  std::vector<RetentionWord> words;  // in time order; empty: no transcript
  bool has_transcript = false;
  std::string opening_text;          // the first sentence (hook cues)
  char opening_terminal = 0;
  std::vector<double> cuts_s;        // scene cuts; empty with scenes_known: one shot
  bool scenes_known = false;
  std::vector<RetentionFrame> frames;  // sampled frames in time order
  LoudnessCurve loudness;            // empty when unknown
};

// The inputs of the stretch [start_s, end_s) re-timed to start at 0 (a
// clip), with its own opening sentence.
RetentionInputs SliceInputs(const RetentionInputs& in, double start_s, double end_s, const std::string& opening_text,
                            char opening_terminal);

// Per-second features: rows[t][k] for the feature RetentionFeatureNames()[k].
struct RetentionFeatures {
  std::vector<std::vector<double>> rows;
  // Facts for the reasons, per second: the silence run containing t, the
  // time on screen of the current shot, the first word's start...
  std::vector<nlohmann::json> facts;
  double duration_s = 0;
};

RetentionFeatures ComputeFeatures(const RetentionInputs& in);

struct DropPoint {
  double t_s = 0;       // where its cause begins
  double peak_s = 0;    // the second with the highest hazard
  double end_s = 0;     // where the hazard falls back
  double hazard = 0;    // at the peak, per second
  double lost = 0;      // share of starting viewers lost over the stretch
  std::vector<std::string> reasons;  // strongest first
};

struct RetentionSummary {
  double at_3s = 0, at_30s = 0, at_half = 0, at_end = 0;
  double average_view_s = 0;
  double average_view_share = 0;  // of the duration
};

struct RetentionPrediction {
  RetentionCurve curve;
  std::vector<double> hazard;  // per second
  std::vector<DropPoint> drops;
  RetentionSummary summary;
  std::string model_version;
};

RetentionPrediction Predict(const RetentionModel& model, const RetentionFeatures& features);



nlohmann::json DropPointsJson(const std::vector<DropPoint>& drops);
nlohmann::json SummaryJson(const RetentionSummary& s);
RetentionSummary Summarize(const RetentionCurve& curve);

}  // namespace cutroom::analysis
