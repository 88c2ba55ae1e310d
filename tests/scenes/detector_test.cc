#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "analysis/scenes/scene_detection.h"
#include "support/test_support.h"

namespace cutroom::analysis::scenes {
namespace {

using ::cutroom::testing::SharedData;

std::vector<int64_t> CutFrames(const SceneList& list) {
  std::vector<int64_t> out;
  for (const auto& t : list.transitions) {
    if (t.type == "cut") out.push_back(t.start_frame);
  }
  return out;
}

void Dump(const SceneList& list) {
  if (!std::getenv("CUTROOM_DUMP_SCENES")) return;
  for (const auto& t : list.transitions) {
    std::printf("  %s %lld-%lld score %.2f\n", t.type.c_str(), static_cast<long long>(t.start_frame),
                static_cast<long long>(t.end_frame), t.score);
  }
}

struct Span {
  std::string type;
  int64_t start, end;
};

std::vector<Span> GradualSpans(const SceneList& list) {
  std::vector<Span> out;
  for (const auto& t : list.transitions) {
    if (t.type != "cut") out.push_back({t.type, t.start_frame, t.end_frame});
  }
  return out;
}

// ../shared/data/README.md: hard cuts at 30 and 180; fade-in 211-240,
// fade-out 331-360, fade-in 394-423, dissolve 529-558, fade-out 664-693.
TEST(SceneDetection, TestVideoHardCutsExactAndGradualTransitionsAsSpans) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  const std::vector<Span> truth = {{"fade_in", 211, 240},  {"fade_out", 331, 360}, {"fade_in", 394, 423},
                                   {"dissolve", 529, 558}, {"fade_out", 664, 693}};
  for (auto kind : {DetectorKind::kContent, DetectorKind::kAdaptive, DetectorKind::kHash}) {
    SceneParams params;
    params.detector = kind;
    auto list = DetectScenes(path, params);
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    Dump(*list);
    EXPECT_EQ(CutFrames(*list), (std::vector<int64_t>{30, 180})) << DetectorName(kind);
    auto spans = GradualSpans(*list);
    ASSERT_EQ(spans.size(), truth.size()) << DetectorName(kind);
    for (size_t i = 0; i < spans.size(); ++i) {
      EXPECT_EQ(spans[i].type, truth[i].type) << i;
      EXPECT_LE(std::llabs(spans[i].start - truth[i].start), 2) << truth[i].type << " " << truth[i].start;
      EXPECT_LE(std::llabs(spans[i].end - truth[i].end), 2) << truth[i].type << " " << truth[i].end;
    }
    EXPECT_EQ(list->frames, 720);
  }
}

TEST(SceneDetection, TestVideoScenesSayHowTheyBegin) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  auto list = DetectScenes(path, SceneParams{});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> types;
  for (const auto& s : list->scenes) types.push_back(s.transition);
  EXPECT_EQ(types, (std::vector<std::string>{"start", "cut", "cut", "fade_in", "fade_out", "fade_in", "dissolve",
                                             "fade_out"}));
  // Contiguous, in order, covering the whole video; times from PTS.
  ASSERT_FALSE(list->scenes.empty());
  EXPECT_EQ(list->scenes.front().start_frame, 0);
  EXPECT_EQ(list->scenes.back().end_frame, 719);
  for (size_t i = 1; i < list->scenes.size(); ++i) {
    EXPECT_EQ(list->scenes[i].start_frame, list->scenes[i - 1].end_frame + 1);
    EXPECT_DOUBLE_EQ(list->scenes[i].start_s, list->scenes[i - 1].end_s);
  }
  EXPECT_NEAR(list->scenes[1].start_s, 30 * 1001.0 / 30000.0, 1e-3);
  EXPECT_NEAR(list->scenes.back().end_s, 720 * 1001.0 / 30000.0, 0.05);
}

TEST(SceneDetection, ThresholdDetectorReportsFadesToAndFromBlack) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  SceneParams params;
  params.detector = DetectorKind::kThreshold;
  auto list = DetectScenes(path, params);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  Dump(*list);
  // Black to leaf and leaf to black are instant (cuts); the rest are fades.
  std::vector<std::string> types;
  for (const auto& t : list->transitions) types.push_back(t.type);
  EXPECT_EQ(types, (std::vector<std::string>{"cut", "cut", "fade_in", "fade_out", "fade_in", "fade_out"}));
  if (types.size() == 6) {
    EXPECT_EQ(list->transitions[0].start_frame, 30);
    EXPECT_EQ(list->transitions[1].start_frame, 180);
    EXPECT_NEAR(list->transitions[2].start_frame, 211, 2);
    EXPECT_NEAR(list->transitions[3].end_frame, 360, 2);
    EXPECT_NEAR(list->transitions[4].start_frame, 394, 2);
    EXPECT_NEAR(list->transitions[5].end_frame, 693, 2);
  }
}

// GoldenEye with a -90 degree display matrix: cuts at 90 and 210.
TEST(SceneDetection, RotatedFilmCutsExact) {
  REQUIRE_SHARED_DATA(path, "video/issue-134-rotate.mp4");
  for (auto kind : {DetectorKind::kContent, DetectorKind::kAdaptive, DetectorKind::kHash}) {
    SceneParams params;
    params.detector = kind;
    auto list = DetectScenes(path, params);
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    Dump(*list);
    EXPECT_EQ(CutFrames(*list), (std::vector<int64_t>{90, 210})) << DetectorName(kind);
  }
}

// A full-frame black/white oscillation: no hard cut.
TEST(SceneDetection, NoHardCutInSlowFades) {
  REQUIRE_SHARED_DATA(path, "video/fades.mp4");
  for (auto kind : {DetectorKind::kContent, DetectorKind::kAdaptive, DetectorKind::kHash}) {
    SceneParams params;
    params.detector = kind;
    auto list = DetectScenes(path, params);
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    Dump(*list);
    EXPECT_TRUE(CutFrames(*list).empty()) << DetectorName(kind);
  }
}

TEST(SceneDetection, MinSceneLengthDropsCloseBoundaries) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  SceneParams params;
  params.gradual = false;
  params.min_scene_len_frames = 25;
  auto list = DetectScenes(path, params);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(CutFrames(*list), (std::vector<int64_t>{30, 180}));
  // Counted from the start too (as PySceneDetect does): 30 is too early.
  params.min_scene_len_s = 5.5;  // 165 frames
  list = DetectScenes(path, params);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(CutFrames(*list), (std::vector<int64_t>{180}));
}

TEST(SceneDetection, MissingAndNonVideoInputsAreErrors) {
  ::cutroom::testing::TempDir dir;
  EXPECT_FALSE(DetectScenes(dir.File("nope.mp4"), SceneParams{}).ok());
  std::string tone = ::cutroom::testing::TestMedia("tone.wav");
  REQUIRE_FILE(tone, "test media");
  auto r = DetectScenes(tone, SceneParams{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
  ::cutroom::testing::WriteFile(dir.File("junk.mp4"), std::string(4096, 'x'));
  EXPECT_FALSE(DetectScenes(dir.File("junk.mp4"), SceneParams{}).ok());
}

TEST(SceneDetection, CancelledStopsEarly) {
  std::string path = ::cutroom::testing::TestMedia("talk.mp4");
  REQUIRE_FILE(path, "synthetic talk video");
  auto r = DetectScenes(path, SceneParams{}, {}, [] { return true; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
}

TEST(SceneParamsTest, ParsesAndRejectsWithTheLimitNamed) {
  auto p = ParseSceneParams({{"detector", "adaptive"}, {"threshold", 2.5}, {"min_scene_len", "0.5s"}, {"downscale", 4}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->detector, DetectorKind::kAdaptive);
  EXPECT_DOUBLE_EQ(p->threshold, 2.5);
  EXPECT_DOUBLE_EQ(p->min_scene_len_s, 0.5);
  EXPECT_EQ(p->downscale, 4);
  struct Bad {
    nlohmann::json params;
    std::string mentions;
  };
  for (const auto& bad : std::vector<Bad>{{{{"detector", "magic"}}, "content, adaptive"},
                                          {{{"threshold", -1}}, "0 to 255"},
                                          {{{"detector", "hash"}, {"threshold", 3}}, "0 to 1"},
                                          {{{"min_scene_len", 1000000000}}, "1000000 frames"},
                                          {{{"min_scene_len", "ten"}}, "0.6s"},
                                          {{{"downscale", 1000}}, "1 to 64"},
                                          {{{"gradual", "yes"}}, "true or false"},
                                          {{{"colour", 1}}, "unknown scene parameter"}}) {
    auto r = ParseSceneParams(bad.params);
    ASSERT_FALSE(r.ok()) << bad.params.dump();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(bad.mentions), std::string::npos) << r.status().message();
  }
}

TEST(SceneFormat, TableJsonCsvEdl) {
  std::vector<double> times;
  for (int i = 0; i < 100; ++i) times.push_back(i / 25.0);
  SceneList list = BuildScenes({{"cut", 40, 40, 1.6, 1.6, 50}}, times, 4.0, 25);
  list.detector = "content";
  ASSERT_EQ(list.scenes.size(), 2u);
  auto json = FormatSceneList(list, "json", "in.mp4");
  ASSERT_TRUE(json.ok());
  auto j = nlohmann::json::parse(*json);
  EXPECT_EQ(j["scenes"][1]["start_frame"], 40);
  EXPECT_EQ(j["scenes"][1]["transition"], "cut");
  auto csv = FormatSceneList(list, "csv", "in.mp4");
  ASSERT_TRUE(csv.ok());
  EXPECT_NE(csv->find("2,41,00:00:01.600,1.600,100,00:00:04.000,4.000,60"), std::string::npos) << *csv;
  auto edl = FormatSceneList(list, "edl", "in.mp4");
  ASSERT_TRUE(edl.ok());
  EXPECT_NE(edl->find("002  AX       V     C        00:00:01:15 00:00:04:00 01:00:01:15 01:00:04:00"),
            std::string::npos)
      << *edl;
  EXPECT_TRUE(FormatSceneList(list, "table", "in.mp4").ok());
  EXPECT_FALSE(FormatSceneList(list, "xml", "in.mp4").ok());
}

// Synthetic videos from ../shared/tools/make_test_video.py: hard cuts with
// exact truth, scenes made of lavfi sources (noise, moving patterns).
class SyntheticCuts : public ::testing::TestWithParam<const char*> {};

TEST_P(SyntheticCuts, EveryCutWithinOneFrameAndNoFalseCut) {
  std::string path = ::cutroom::testing::TestMedia(GetParam());
  REQUIRE_FILE(path, "synthetic scene video (needs ../shared/tools and flite)");
  auto truth = nlohmann::json::parse(::cutroom::testing::ReadFile(path + ".truth.json"));
  std::vector<int64_t> expected = truth["cuts_frame"].get<std::vector<int64_t>>();
  for (auto kind : {DetectorKind::kContent, DetectorKind::kAdaptive, DetectorKind::kHash}) {
    SceneParams params;
    params.detector = kind;
    auto list = DetectScenes(path, params);
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    Dump(*list);
    std::vector<int64_t> found = CutFrames(*list);
    // Nothing but cuts: these videos have no fades.
    EXPECT_EQ(found.size(), list->transitions.size()) << DetectorName(kind);
    // Every cut found is a true one, within one frame.
    for (int64_t f : found) {
      bool near_truth = std::any_of(expected.begin(), expected.end(), [&](int64_t e) { return std::llabs(f - e) <= 1; });
      EXPECT_TRUE(near_truth) << DetectorName(kind) << " false cut at " << f << " on " << GetParam();
    }
    // A perceptual hash sees structure, not colour: a cut from one flat
    // colour to another is invisible to it, so recall is checked for the
    // content and adaptive detectors only.
    if (kind != DetectorKind::kHash) {
      EXPECT_EQ(found.size(), expected.size()) << DetectorName(kind) << " on " << GetParam();
    }
    EXPECT_EQ(list->frames, truth["frames"].get<int64_t>());
  }
}

INSTANTIATE_TEST_SUITE_P(Videos, SyntheticCuts,
                         ::testing::Values("scenes-a.mp4", "scenes-b.mkv", "scenes-c.mp4", "scenes-d.webm", "talk.mp4"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace cutroom::analysis::scenes
