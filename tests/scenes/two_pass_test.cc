// Two-pass scene detection (analysis/scenes/two_pass.h) held to decoding
// every frame: the same transitions on the same frames with the same
// times, on the shared and synthetic sets and on clips made here for the
// cases it decides on (still and noisy tails, scenecut keyframes, a
// dissolve and a fade inside a long GOP, a fixed GOP without scenecut).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "analysis/scenes/scene_detection.h"
#include "support/test_support.h"

namespace cutroom::analysis::scenes {
namespace {

using ::cutroom::testing::TempDir;

SceneList Detect(const std::string& path, DetectorKind kind, ScanMode scan) {
  SceneParams params;
  params.detector = kind;
  params.scan = scan;
  params.threads = 2;
  auto list = DetectScenes(path, params);
  EXPECT_TRUE(list.ok()) << list.status().ToString();
  return list.ok() ? *list : SceneList{};
}

// Scores may differ (a skipped frame is compared as its stand-in); where
// and when every transition and scene is may not.
void ExpectSameScenes(const SceneList& every, const SceneList& two, const std::string& what) {
  EXPECT_EQ(two.frames, every.frames) << what;
  EXPECT_DOUBLE_EQ(two.fps, every.fps) << what;
  EXPECT_DOUBLE_EQ(two.duration_s, every.duration_s) << what;
  ASSERT_EQ(two.transitions.size(), every.transitions.size()) << what;
  for (size_t i = 0; i < every.transitions.size(); ++i) {
    const Transition& a = every.transitions[i];
    const Transition& b = two.transitions[i];
    EXPECT_EQ(b.type, a.type) << what << " #" << i;
    EXPECT_EQ(b.start_frame, a.start_frame) << what << " #" << i;
    EXPECT_EQ(b.end_frame, a.end_frame) << what << " #" << i;
    EXPECT_DOUBLE_EQ(b.start_s, a.start_s) << what << " #" << i;
    EXPECT_DOUBLE_EQ(b.end_s, a.end_s) << what << " #" << i;
  }
  ASSERT_EQ(two.scenes.size(), every.scenes.size()) << what;
  for (size_t i = 0; i < every.scenes.size(); ++i) {
    EXPECT_EQ(two.scenes[i].start_frame, every.scenes[i].start_frame) << what << " scene " << i;
    EXPECT_DOUBLE_EQ(two.scenes[i].start_s, every.scenes[i].start_s) << what << " scene " << i;
    EXPECT_DOUBLE_EQ(two.scenes[i].end_s, every.scenes[i].end_s) << what << " scene " << i;
  }
}

std::vector<int64_t> Boundaries(const SceneList& list) {
  std::vector<int64_t> out;
  for (size_t i = 1; i < list.scenes.size(); ++i) out.push_back(list.scenes[i].start_frame);
  return out;
}

// Runs ffmpeg with `args` (lavfi inputs and an output in `dir`).
void Ffmpeg(const std::string& args) {
  const std::string cmd = "ffmpeg -nostdin -hide_banner -loglevel error -y " + args;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

class TwoPassOnSets : public ::testing::TestWithParam<const char*> {};

TEST_P(TwoPassOnSets, FindsWhatDecodingEveryFrameFinds) {
  const std::string name = GetParam();
  std::string path;
  if (name.rfind("shared/", 0) == 0) {
    REQUIRE_SHARED_DATA(shared, name.substr(7));
    path = shared;
  } else {
    path = ::cutroom::testing::TestMedia(name);
    REQUIRE_FILE(path, "synthetic test video (needs ../shared/tools and flite)");
  }
  for (auto kind : {DetectorKind::kContent, DetectorKind::kAdaptive, DetectorKind::kHash}) {
    SceneList every = Detect(path, kind, ScanMode::kEveryFrame);
    SceneList two = Detect(path, kind, ScanMode::kTwoPass);
    ExpectSameScenes(every, two, name + " " + DetectorName(kind));
    EXPECT_EQ(every.frames_decoded, every.frames);
    EXPECT_LE(two.frames_decoded, two.frames);
  }
}

INSTANTIATE_TEST_SUITE_P(Videos, TwoPassOnSets,
                         ::testing::Values("shared/video/testvideo.mp4", "shared/video/issue-134-rotate.mp4",
                                           "shared/video/fades.mp4", "shared/video/goldeneye-vfr-drop3.mp4",
                                           "shared/video/issue-195-aspect-ratio.mp4", "shared/video/counter.mp4",
                                           "scenes-a.mp4", "scenes-b.mkv", "scenes-c.mp4", "scenes-d.webm", "talk.mp4",
                                           "edit-talk.mp4"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

// A still shot long enough for x264 to put a scheduled keyframe in it
// (frame 250), then flat noise, a moving pattern and another still shot:
// cuts at 300 (inside a GOP), 400 and 450 (scenecut keyframes).
TEST(TwoPass, SkipsStillAndNoisyTailsAndKeepsEveryCutOnItsFrame) {
  TempDir dir;
  const std::string path = dir.File("tails.mp4");
  Ffmpeg("-f lavfi -i smptehdbars=size=640x360:rate=25:d=12 "
         "-f lavfi -i color=c=0xe0c040:size=640x360:rate=25:d=4,noise=alls=12:allf=t "
         "-f lavfi -i testsrc=size=640x360:rate=25:d=2 -f lavfi -i pal75bars=size=640x360:rate=25:d=3 "
         "-filter_complex \"[0][1][2][3]concat=n=4:v=1:a=0,format=yuv420p\" -c:v libx264 -preset veryfast " +
         path);
  SceneList every = Detect(path, DetectorKind::kContent, ScanMode::kEveryFrame);
  SceneList two = Detect(path, DetectorKind::kContent, ScanMode::kAuto);
  ExpectSameScenes(every, two, "content");
  EXPECT_EQ(Boundaries(two), (std::vector<int64_t>{300, 400, 450}));
  EXPECT_EQ(two.frames, 525);
  // The still GOP after its first frames, and the noise up to frame 400.
  EXPECT_LT(two.frames_decoded, 250) << "decoded " << two.frames_decoded << " of " << two.frames;
  ExpectSameScenes(Detect(path, DetectorKind::kAdaptive, ScanMode::kEveryFrame),
                   Detect(path, DetectorKind::kAdaptive, ScanMode::kAuto), "adaptive");
}

// How pass 1 sees a dissolve: inside a still GOP it makes the packets grow
// (the steady tail ends before it), so it is decoded and found as before.
TEST(TwoPass, DissolveAndFadeInsideALongGopAreFound) {
  TempDir dir;
  const std::string dissolve = dir.File("dissolve.mp4");
  Ffmpeg("-f lavfi -i smptehdbars=size=640x360:rate=25:d=8 "
         "-f lavfi -i testsrc=size=640x360:rate=25:d=1,trim=end_frame=1,loop=300:1:0,setpts=N/25/TB "
         "-filter_complex \"[0][1]xfade=transition=fade:duration=1.2:offset=7,format=yuv420p\" "
         "-c:v libx264 -preset veryfast " + dissolve);
  SceneList every = Detect(dissolve, DetectorKind::kContent, ScanMode::kEveryFrame);
  SceneList two = Detect(dissolve, DetectorKind::kContent, ScanMode::kTwoPass);
  ExpectSameScenes(every, two, "dissolve");
  ASSERT_EQ(two.transitions.size(), 1u);
  EXPECT_EQ(two.transitions[0].type, "dissolve");
  // xfade blends frames 175-205; the last few change too little to count.
  EXPECT_NEAR(two.transitions[0].start_frame, 175, 2);
  EXPECT_NEAR(two.transitions[0].end_frame, 200, 6);

  const std::string fade = dir.File("fade.mp4");
  Ffmpeg("-f lavfi -i smptehdbars=size=640x360:rate=25:d=8,fade=t=out:st=6:d=1 "
         "-f lavfi -i pal75bars=size=640x360:rate=25:d=3 "
         "-filter_complex \"[0][1]concat=n=2:v=1:a=0,format=yuv420p\" -c:v libx264 -preset veryfast " + fade);
  every = Detect(fade, DetectorKind::kContent, ScanMode::kEveryFrame);
  two = Detect(fade, DetectorKind::kContent, ScanMode::kTwoPass);
  ExpectSameScenes(every, two, "fade");
  ASSERT_FALSE(two.transitions.empty());
  EXPECT_EQ(two.transitions[0].type, "fade_out");
}

// Keyframes every 48 frames and none at the cuts: a skipped tail may only
// be one where nothing changed.
TEST(TwoPass, FixedGopWithoutScenecutKeyframes) {
  TempDir dir;
  const std::string path = dir.File("fixed.mp4");
  Ffmpeg("-f lavfi -i smptehdbars=size=640x360:rate=25:d=6 "
         "-f lavfi -i color=c=0xe0c040:size=640x360:rate=25:d=4,noise=alls=12:allf=t "
         "-f lavfi -i pal75bars=size=640x360:rate=25:d=5 "
         "-filter_complex \"[0][1][2]concat=n=3:v=1:a=0,format=yuv420p\" "
         "-c:v libx264 -preset veryfast -g 48 -sc_threshold 0 " + path);
  for (auto kind : {DetectorKind::kContent, DetectorKind::kAdaptive, DetectorKind::kHash}) {
    SceneList every = Detect(path, kind, ScanMode::kEveryFrame);
    SceneList two = Detect(path, kind, ScanMode::kTwoPass);
    ExpectSameScenes(every, two, DetectorName(kind));
    if (kind != DetectorKind::kHash) {
      EXPECT_EQ(Boundaries(two), (std::vector<int64_t>{150, 250}));
    }
  }
}

// Variable frame rate (every third frame dropped): times come from each
// frame's PTS, skipped frames' included.
TEST(TwoPass, VariableFrameRateTimesComeFromPts) {
  REQUIRE_SHARED_DATA(path, "video/goldeneye-vfr-drop3.mp4");
  SceneList every = Detect(path, DetectorKind::kContent, ScanMode::kEveryFrame);
  SceneList two = Detect(path, DetectorKind::kContent, ScanMode::kTwoPass);
  ExpectSameScenes(every, two, "vfr");
  EXPECT_EQ(two.frames, 160);
}

TEST(TwoPass, ThresholdDetectorDecodesEveryFrame) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  SceneList two = Detect(path, DetectorKind::kThreshold, ScanMode::kTwoPass);
  EXPECT_EQ(two.frames_decoded, two.frames);
  ExpectSameScenes(Detect(path, DetectorKind::kThreshold, ScanMode::kEveryFrame), two, "threshold");
}

TEST(TwoPass, CancelledStopsEarly) {
  std::string path = ::cutroom::testing::TestMedia("scenes-a.mp4");
  REQUIRE_FILE(path, "synthetic scene video (needs ../shared/tools and flite)");
  SceneParams params;
  params.scan = ScanMode::kTwoPass;
  auto r = DetectScenes(path, params, {}, [] { return true; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
}

TEST(TwoPass, MissingAndNonVideoInputsAreTheSameErrors) {
  TempDir dir;
  SceneParams params;
  params.scan = ScanMode::kTwoPass;
  EXPECT_FALSE(DetectScenes(dir.File("nope.mp4"), params).ok());
  std::string tone = ::cutroom::testing::TestMedia("tone.wav");
  REQUIRE_FILE(tone, "test media");
  auto r = DetectScenes(tone, params);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
}

}  // namespace
}  // namespace cutroom::analysis::scenes
