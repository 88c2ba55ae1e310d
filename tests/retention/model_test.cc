// The retention model on synthetic talks whose structure is known exactly
// (a planted silence, a static slide, a late start, a cut-rich opening),
// and refitting against a hidden audience.
#include <gtest/gtest.h>

#include <random>

#include "analysis/retention/curve.h"
#include "analysis/retention/fit.h"
#include "analysis/retention/model.h"
#include "support/test_support.h"

namespace cutroom::analysis {
namespace {

// A talk of `duration` s: words of 0.3 s every 0.4 s wherever speech is
// (the gaps listed are silent), a cut every `shot` s, a face in every
// frame (one a second), steady loudness.
struct TalkSpec {
  double duration = 60;
  std::vector<std::pair<double, double>> gaps;  // silent stretches
  double shot = 6;
  std::vector<std::pair<double, double>> slides;  // stretches of one shot with text and no face
  std::string opening = "Here's the one mistake that cost us fifty thousand dollars?";
};

RetentionInputs MakeTalk(const TalkSpec& spec) {
  RetentionInputs in;
  in.duration_s = spec.duration;
  in.has_transcript = true;
  in.opening_text = spec.opening;
  in.opening_terminal = spec.opening.empty() ? 0 : spec.opening.back();
  auto silent = [&](double t) {
    for (auto [a, b] : spec.gaps) {
      if (t >= a && t < b) return true;
    }
    return false;
  };
  auto in_slide = [&](double t) {
    for (auto [a, b] : spec.slides) {
      if (t >= a && t < b) return true;
    }
    return false;
  };
  for (double t = 0; t + 0.3 <= spec.duration; t += 0.4) {
    if (!silent(t) && !silent(t + 0.3)) in.words.push_back({t, t + 0.3});
  }
  in.scenes_known = true;
  for (double t = spec.shot; t < spec.duration; t += spec.shot) {
    if (!in_slide(t) && !in_slide(t - 0.01)) in.cuts_s.push_back(t);
  }
  for (auto [a, b] : spec.slides) {
    in.cuts_s.push_back(a);
    if (b < spec.duration) in.cuts_s.push_back(b);
  }
  std::sort(in.cuts_s.begin(), in.cuts_s.end());
  for (double t = 0.5; t < spec.duration; t += 1.0) {
    bool slide = in_slide(t);
    in.frames.push_back({t, true, slide ? 0 : 1, true, slide});
  }
  in.loudness.step_s = 0.1;
  for (double t = 0; t < spec.duration; t += 0.1) in.loudness.db.push_back(silent(t) ? -70.0 : -20.0);
  return in;
}

RetentionPrediction PredictTalk(const TalkSpec& spec) {
  return Predict(RetentionModel::Defaults(), ComputeFeatures(MakeTalk(spec)));
}

const DropPoint* DropNear(const RetentionPrediction& p, double t, double tolerance = 1.0) {
  for (const auto& d : p.drops) {
    if (std::abs(d.t_s - t) <= tolerance) return &d;
  }
  return nullptr;
}

std::string All(const RetentionPrediction& p) {
  std::string s;
  for (const auto& d : p.drops) {
    s += std::to_string(d.t_s) + ":";
    for (const auto& r : d.reasons) s += " " + r + ";";
    s += "\n";
  }
  return s;
}

TEST(RetentionModel, ACurveStartsAtOneAndOnlyFalls) {
  auto p = PredictTalk({});
  ASSERT_EQ(p.curve.share.size(), 61u);
  EXPECT_DOUBLE_EQ(p.curve.share[0], 1.0);
  for (size_t i = 1; i < p.curve.share.size(); ++i) EXPECT_LE(p.curve.share[i], p.curve.share[i - 1]);
  EXPECT_GT(p.summary.at_end, 0.3);
  EXPECT_LT(p.summary.at_end, 0.95);
  EXPECT_NEAR(p.summary.average_view_s, p.curve.AverageViewSeconds(), 1e-9);
  EXPECT_EQ(p.model_version, "retention/1");
}

TEST(RetentionModel, ALongSilenceIsADropPointWhereItBeginsSayingHowLong) {
  TalkSpec spec;
  spec.gaps = {{20.0, 26.2}};
  auto p = PredictTalk(spec);
  const DropPoint* d = DropNear(p, 20.0);
  ASSERT_NE(d, nullptr) << All(p);
  ASSERT_FALSE(d->reasons.empty());
  // The words nearest the gap end at 19.9 s and start again at 26.4 s.
  EXPECT_NE(d->reasons[0].find("6.5 s of silence (from 0:19.9)"), std::string::npos) << d->reasons[0];
}

TEST(RetentionModel, AStaticSlideStretchIsADropPointNamingTheSlide) {
  TalkSpec spec;
  spec.duration = 90;
  spec.slides = {{30.0, 70.0}};
  auto p = PredictTalk(spec);
  const DropPoint* d = DropNear(p, 30.0);
  ASSERT_NE(d, nullptr) << All(p);
  EXPECT_NE(d->reasons[0].find("static slide for 40.0 s"), std::string::npos) << All(p);
}

TEST(RetentionModel, ALateStartIsADropPointAtTheStart) {
  TalkSpec spec;
  spec.gaps = {{0.0, 6.0}};
  auto p = PredictTalk(spec);
  const DropPoint* d = DropNear(p, 0.0);
  ASSERT_NE(d, nullptr) << All(p);
  bool said = false;
  for (const auto& r : d->reasons) said = said || r.find("no speech in the first 6.") != std::string::npos;
  EXPECT_TRUE(said) << All(p);
}

TEST(RetentionModel, ADenseCutRichOpeningHoldsMoreViewersAtThreeSeconds) {
  TalkSpec dense;
  dense.shot = 1.5;
  TalkSpec silent;
  silent.gaps = {{0.0, 4.0}};
  silent.shot = 30;
  silent.opening = "and so anyway";
  auto a = PredictTalk(dense);
  auto b = PredictTalk(silent);
  EXPECT_GT(a.summary.at_3s, b.summary.at_3s + 0.02) << a.summary.at_3s << " vs " << b.summary.at_3s;
}

TEST(RetentionModel, LongerVideosLoseMoreViewersOverall) {
  TalkSpec short_talk;
  TalkSpec long_talk;
  long_talk.duration = 600;
  auto a = PredictTalk(short_talk);
  auto b = PredictTalk(long_talk);
  EXPECT_GT(a.summary.at_end, b.summary.at_end);
  EXPECT_LT(a.hazard[50], b.hazard[50]);  // the same second of a longer video is riskier
}

TEST(RetentionModel, ASliceIsItsOwnVideo) {
  TalkSpec spec;
  spec.gaps = {{20.0, 26.0}};
  RetentionInputs in = MakeTalk(spec);
  RetentionInputs clip = SliceInputs(in, 15, 35, "Why did we refund everyone?", '?');
  EXPECT_DOUBLE_EQ(clip.duration_s, 20);
  auto p = Predict(RetentionModel::Defaults(), ComputeFeatures(clip));
  EXPECT_NE(DropNear(p, 5.0), nullptr) << All(p);
}

TEST(RetentionModel, ModelsRoundTripAsJsonAndRefuseUnknownFeatures) {
  RetentionModel m = RetentionModel::Defaults();
  m.version = "owner/2";
  m.weights["cut"] = -0.9;
  auto back = RetentionModel::FromJson(m.ToJson());
  ASSERT_OK(back.status());
  EXPECT_EQ(back->ToJson(), m.ToJson());
  EXPECT_TRUE(RetentionModel::FromJson({{"weights", {{"colour", 1}}}}).status().IsInvalidArgument());
}

TEST(RetentionCurves, ResampleCompareAndRankCorrelate) {
  auto c = ResampleRatioPoints({{0.0, 1.0}, {0.5, 0.6}, {1.0, 0.4}}, 10.5);
  ASSERT_EQ(c.share.size(), 12u);
  EXPECT_NEAR(c.share[0], 1.0, 1e-9);
  EXPECT_NEAR(c.share[5], 1.0 - 0.4 * (5 / 10.5) / 0.5, 1e-9);
  EXPECT_NEAR(c.At(10.5), 0.4, 1e-9);
  EXPECT_NEAR(c.share.back(), 0.4, 1e-9);
  EXPECT_NEAR(Spearman({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0, 1e-12);
  EXPECT_NEAR(Spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0, 1e-12);
  auto agree = CompareCurves(c, c);
  ASSERT_OK(agree.status());
  EXPECT_NEAR(agree->mean_abs_error, 0, 1e-12);
}

// A hidden audience: the same model form with weights the code under test
// never sees, some of the opposite sign to the defaults.
RetentionModel HiddenAudience() {
  RetentionModel m = RetentionModel::Defaults();
  m.version = "hidden";
  m.weights = {{"pause", 0.2},        {"silence_run", 0.3},  {"no_speech_yet", 0.4}, {"slow_speech", 1.2},
               {"static_shot", 2.0},  {"static_slide", 1.5}, {"cut", 0.6},           {"face", 0.5},
               {"quiet", 0.1},        {"loudness_change", 0.0}, {"weak_hook", 0.2}};
  m.base_long = 0.005;
  m.base_intro = 0.01;
  return m;
}

TEST(RetentionFit, LearnsAHiddenAudienceFromFifteenTalksAndPredictsTheOtherFive) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<FitSample> train, test;
  for (int v = 0; v < 20; ++v) {
    TalkSpec spec;
    spec.duration = 60 + 60 * u(rng);
    spec.shot = 3 + 12 * u(rng);
    for (double t = 5 + 10 * u(rng); t < spec.duration - 5; t += 8 + 20 * u(rng)) {
      spec.gaps.push_back({t, t + 0.5 + 4 * u(rng)});
    }
    if (u(rng) < 0.6) {
      double a = 10 + 20 * u(rng);
      spec.slides = {{a, std::min(spec.duration, a + 10 + 30 * u(rng))}};
    }
    if (u(rng) < 0.5) spec.opening = "so anyway where was I";
    RetentionFeatures f = ComputeFeatures(MakeTalk(spec));
    RetentionPrediction truth = Predict(HiddenAudience(), f);
    // Real audiences are noisy: each second's leaving rate off by a
    // log-normal factor (about +-20%).
    RetentionCurve observed = truth.curve;
    std::normal_distribution<double> noise(0, 0.2);
    for (size_t i = 0; i < truth.hazard.size(); ++i) {
      double h = std::min(0.9, truth.hazard[i] * std::exp(noise(rng)));
      observed.share[i + 1] = observed.share[i] * (1 - h);
    }
    FitSample s{"vid_" + std::to_string(v), f, observed};
    (v < 15 ? train : test).push_back(std::move(s));
  }
  auto report = FitRetentionModel(train, RetentionModel::Defaults());
  ASSERT_OK(report.status());
  double before = 0, after = 0;
  for (const auto& s : test) {
    before += HazardSpearman(RetentionModel::Defaults(), s) / static_cast<double>(test.size());
    after += HazardSpearman(report->model, s) / static_cast<double>(test.size());
  }
  EXPECT_GT(after, before) << "held out: " << before << " -> " << after;
  EXPECT_GT(after, 0.8) << "held out: " << before << " -> " << after;
  EXPECT_GT(report->spearman_after, report->spearman_before);
  EXPECT_LT(report->mse_after, report->mse_before);
}

TEST(RetentionFit, AFewVideosMoveTheWeightsLittle) {
  std::vector<FitSample> two;
  for (int v = 0; v < 2; ++v) {
    TalkSpec spec;
    spec.gaps = {{10.0 + v, 14.0 + v}};
    RetentionFeatures f = ComputeFeatures(MakeTalk(spec));
    two.push_back({"v" + std::to_string(v), f, Predict(HiddenAudience(), f).curve});
  }
  FitOptions o;
  o.prior_strength = 5;  // a strong prior: two videos should barely move it
  auto report = FitRetentionModel(two, RetentionModel::Defaults(), o);
  ASSERT_OK(report.status());
  for (const auto& [k, w] : RetentionModel::Defaults().weights) {
    EXPECT_NEAR(report->model.weights.at(k), w, 0.6) << k;
  }
  EXPECT_TRUE(FitRetentionModel({two[0]}, RetentionModel::Defaults()).status().IsInvalidArgument());
}

}  // namespace
}  // namespace cutroom::analysis
