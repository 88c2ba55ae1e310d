// The reframe planner on synthetic face tracks: following, stillness under
// detection jitter, speed limits, holding through gaps, edges.
#include "edit/reframe/crop_path.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "support/test_support.h"

namespace cutroom::edit {
namespace {

constexpr int kW = 1920, kH = 1080;
constexpr int kCropW = 606;  // the widest even 9:16 width of 1080 rows

ReframeOptions Options(double duration) {
  ReframeOptions o;
  o.source_width = kW;
  o.source_height = kH;
  o.duration_s = duration;
  return o;
}

// A face of w x h (fractions) centred at (cx(t), 0.4), sampled every step
// seconds over [0, duration]; present(t) false gives a sample without it.
std::vector<FaceSample> Track(double duration, double step, const std::function<double(double)>& cx,
                              const std::function<bool(double)>& present = [](double) { return true; },
                              double w = 0.06, double h = 0.1) {
  std::vector<FaceSample> out;
  for (int i = 0; i * step <= duration + 1e-9; ++i) {
    double t = i * step;
    FaceSample s{t, {}};
    if (present(t)) s.boxes.push_back({cx(t) - w / 2, 0.4 - h / 2, w, h});
    out.push_back(s);
  }
  return out;
}

void ExpectSpeedWithin(const std::vector<CropKey>& keys, double max_px_per_s) {
  for (size_t i = 1; i < keys.size(); ++i) {
    double dt = keys[i].t_s - keys[i - 1].t_s;
    ASSERT_GT(dt, 0.0) << "keys in time order";
    EXPECT_LE(std::abs(keys[i].x - keys[i - 1].x), max_px_per_s * dt + 1e-9) << "at " << keys[i].t_s;
    EXPECT_LE(std::abs(keys[i].y - keys[i - 1].y), max_px_per_s * dt + 1e-9) << "at " << keys[i].t_s;
  }
}

TEST(CropPath, KeysComeAtTheKeyRateAndEndAtTheDuration) {
  auto keys = PlanCropPath({}, Options(2.05));
  ASSERT_EQ(keys.size(), 22u);
  for (size_t i = 0; i + 1 < keys.size(); ++i) EXPECT_NEAR(keys[i].t_s, i * 0.1, 1e-9);
  EXPECT_DOUBLE_EQ(keys.back().t_s, 2.05);
  EXPECT_EQ(PlanCropPath({}, Options(0)).size(), 1u);
}

TEST(CropPath, NoFacesGiveTheCentredCrop) {
  auto empty_samples = Track(5, 0.5, [](double) { return 0.5; }, [](double) { return false; });
  for (const auto& samples : {std::vector<FaceSample>{}, empty_samples}) {
    auto keys = PlanCropPath(samples, Options(5));
    ASSERT_FALSE(keys.empty());
    for (const auto& k : keys) {
      EXPECT_EQ(k.x, (kW - kCropW) / 2);
      EXPECT_EQ(k.y, 0);
    }
  }
  // A portrait source: the crop is the whole width.
  ReframeOptions o = Options(1);
  o.source_width = 1080;
  o.source_height = 1920;
  int w = 0, h = 0;
  ResolveCropSize(o, &w, &h);
  EXPECT_EQ(w, 1080);
  EXPECT_EQ(h, 1920);
}

TEST(CropPath, AStillFaceWithDetectionJitterGivesAPathThatDoesNotMove) {
  // Up to 4 px of jitter in x, y and size around (0.62, 0.4).
  std::vector<FaceSample> samples;
  for (int i = 0; i <= 100; ++i) {
    double j = std::sin(i * 12.9898) * 4.0 / kW;
    double k = std::cos(i * 78.233) * 4.0 / kH;
    samples.push_back({i * 0.1, {{0.62 - 0.03 + j, 0.35 + k, 0.06 + j / 2, 0.1 - k / 2}}});
  }
  auto keys = PlanCropPath(samples, Options(10));
  ASSERT_EQ(keys.size(), 101u);
  for (const auto& k : keys) {
    EXPECT_EQ(k.x, keys[0].x) << "at " << k.t_s;
    EXPECT_EQ(k.y, keys[0].y);
  }
  EXPECT_NEAR(keys[0].x, 0.62 * kW - kCropW / 2.0, 5);  // centred on the face from the first key
}

TEST(CropPath, AFaceMovingAcrossTheFrameStaysInsideTheCropAtEveryKey) {
  // 0.15 -> 0.85 of the width between 1 s and 11 s: 134 px/s.
  auto cx = [](double t) { return 0.15 + 0.7 * std::clamp((t - 1.0) / 10.0, 0.0, 1.0); };
  for (double step : {0.2, 1.0}) {
    SCOPED_TRACE("a sample every " + std::to_string(step) + " s");
    auto keys = PlanCropPath(Track(12, step, cx), Options(12));
    ASSERT_FALSE(keys.empty());
    for (const auto& k : keys) {
      double left = (cx(k.t_s) - 0.03) * kW, right = (cx(k.t_s) + 0.03) * kW;
      EXPECT_GE(left, k.x) << "at " << k.t_s;
      EXPECT_LE(right, k.x + kCropW) << "at " << k.t_s;
      EXPECT_GE(k.x, 0);
      EXPECT_LE(k.x, kW - kCropW);
    }
    EXPECT_GT(keys.back().x, keys.front().x + 1000) << "it followed the face";
    ExpectSpeedWithin(keys, 0.25 * kW);
  }
}

TEST(CropPath, PanSpeedNeverExceedsTheLimit) {
  // The face jumps from the left to the right edge at 2 s.
  auto samples = Track(10, 0.1, [](double t) { return t < 2 ? 0.15 : 0.85; });
  for (double limit : {0.0, 200.0, 1000.0}) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    ReframeOptions o = Options(10);
    o.max_pan_px_per_s = limit;
    auto keys = PlanCropPath(samples, o);
    ExpectSpeedWithin(keys, limit > 0 ? limit : 0.25 * kW);
    // ...and it gets there: the face ends up in the crop's centre third.
    double face = 0.85 * kW - keys.back().x;
    EXPECT_NEAR(face, kCropW / 2.0, kCropW * 0.15 + 2) << "crop at " << keys.back().x;
    EXPECT_LT(keys[19].x, keys.back().x - 500) << "nothing moved before the jump";
  }
}

TEST(CropPath, AGapInDetectionsHoldsThePositionThenDriftsToTheCentre) {
  // Lost for 1.5 s, back at the same place: the crop never moves.
  auto keys = PlanCropPath(Track(10, 0.1, [](double) { return 0.2; }, [](double t) { return t < 4 || t >= 5.5; }),
                           Options(10));
  for (const auto& k : keys) EXPECT_EQ(k.x, keys[0].x) << "at " << k.t_s;
  // Lost for good at 3 s: held for hold_s (2 s), then back to the centre.
  keys = PlanCropPath(Track(12, 0.1, [](double) { return 0.2; }, [](double t) { return t < 3; }), Options(12));
  for (const auto& k : keys) {
    if (k.t_s <= 5.0) {
      EXPECT_EQ(k.x, keys[0].x) << "at " << k.t_s;
    }
  }
  EXPECT_EQ(keys.back().x, (kW - kCropW) / 2);
  ExpectSpeedWithin(keys, 0.25 * kW);
}

TEST(CropPath, TheCropStopsAtTheFrameEdges) {
  for (double at : {0.01, 0.04, 0.97, 0.995}) {
    auto keys = PlanCropPath(Track(3, 0.2, [&](double) { return at; }, [](double) { return true; }, 0.02, 0.05),
                             Options(3));
    for (const auto& k : keys) EXPECT_EQ(k.x, at < 0.5 ? 0 : kW - kCropW) << at;
  }
  // A crop smaller than the height moves vertically too, inside the frame.
  ReframeOptions o = Options(3);
  o.crop_width = 400;
  o.crop_height = 400;
  std::vector<FaceSample> top = {{0, {{0.5, 0.0, 0.05, 0.05}}}, {3, {{0.5, 0.0, 0.05, 0.05}}}};
  for (const auto& k : PlanCropPath(top, o)) EXPECT_EQ(k.y, 0);
  std::vector<FaceSample> bottom = {{0, {{0.5, 0.95, 0.05, 0.05}}}, {3, {{0.5, 0.95, 0.05, 0.05}}}};
  for (const auto& k : PlanCropPath(bottom, o)) EXPECT_EQ(k.y, kH - 400);
}

TEST(CropPath, WithSeveralFacesTheLargestMostPersistentOneIsFollowed) {
  std::vector<FaceSample> samples;
  for (int i = 0; i <= 50; ++i) {
    FaceSample s{i * 0.2, {}};
    s.boxes.push_back({0.12, 0.4, 0.03, 0.05});  // small, always there
    s.boxes.push_back({0.70, 0.3, 0.10, 0.18});  // large, always there
    if (i % 10 == 3) s.boxes.push_back({0.40, 0.3, 0.12, 0.2});  // larger still, but only now and then
    samples.push_back(s);
  }
  auto keys = PlanCropPath(samples, Options(10));
  for (const auto& k : keys) {
    EXPECT_NEAR(k.x + kCropW / 2.0, 0.75 * kW, 3) << "at " << k.t_s;
  }
}

TEST(CropPath, InvalidOptionsGiveAnEmptyPathAndSayWhy) {
  ReframeOptions o = Options(5);
  o.crop_width = 4000;
  o.crop_height = 1080;
  EXPECT_TRUE(ValidateReframeOptions(o).IsInvalidArgument());
  EXPECT_TRUE(PlanCropPath({}, o).empty());
  o = Options(5);
  o.key_rate = 0;
  EXPECT_TRUE(ValidateReframeOptions(o).IsInvalidArgument());
  o = Options(std::nan(""));
  EXPECT_TRUE(ValidateReframeOptions(o).IsInvalidArgument());
  o = Options(5);
  o.dead_zone = 1;
  EXPECT_TRUE(ValidateReframeOptions(o).IsInvalidArgument());
  o = Options(5);
  o.source_width = 0;
  EXPECT_TRUE(PlanCropPath({}, o).empty());
  EXPECT_OK(ValidateReframeOptions(Options(5)));
}

}  // namespace
}  // namespace cutroom::edit
