// Key frame times read from packet flags, and even thinning.
#include "analysis/frames/keyframes.h"

#include <gtest/gtest.h>

#include "core/subprocess.h"
#include "support/test_support.h"

namespace cutroom::analysis {
namespace {

using cutroom::testing::TempDir;
using cutroom::testing::TestMedia;

void ExpectTimes(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << i;
}

TEST(KeyframeTimes, AreTheEncodersIntraFrames) {
  // small.mp4 is encoded with a key frame every 25 frames at 25 fps.
  auto times = KeyframeTimes(TestMedia("small.mp4"));
  ASSERT_OK(times.status());
  ExpectTimes(*times, {0, 1, 2, 3});

  // Matroska, a key frame every 10 frames, starting at a non-zero time:
  // times count from the stream's start like decoded frames do.
  TempDir dir;
  std::string mkv = dir.File("gop10.mkv");
  ASSERT_OK(RunProcess({"ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25",
                        "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-keyint_min", "10",
                        "-sc_threshold", "0", "-output_ts_offset", "5", mkv}));
  times = KeyframeTimes(mkv);
  ASSERT_OK(times.status());
  ExpectTimes(*times, {0, 0.4, 0.8, 1.2, 1.6});
}

TEST(KeyframeTimes, AudioOnlyHasNoVideoStream) {
  auto times = KeyframeTimes(TestMedia("tone.wav"));
  EXPECT_TRUE(times.status().IsInvalidArgument());
  EXPECT_NE(times.status().message().find("has no video stream"), std::string::npos) << times.status().ToString();
  EXPECT_FALSE(KeyframeTimes("/nonexistent/video.mp4").ok());
  TempDir dir;
  cutroom::testing::WriteFile(dir.File("text.mp4"), "this is not a video at all");
  EXPECT_TRUE(KeyframeTimes(dir.File("text.mp4")).status().IsInvalidArgument());
}

TEST(ThinEvenly, KeepsTheEndsAndSpreadsTheRest) {
  std::vector<double> t;
  for (int i = 0; i <= 100; ++i) t.push_back(i);
  EXPECT_EQ(ThinEvenly(t, 200), t);
  ExpectTimes(ThinEvenly(t, 5), {0, 25, 50, 75, 100});
  ExpectTimes(ThinEvenly(t, 2), {0, 100});
  ExpectTimes(ThinEvenly(t, 1), {0});
  EXPECT_TRUE(ThinEvenly(t, 0).empty());
  std::vector<double> thinned = ThinEvenly(t, 7);
  EXPECT_EQ(thinned.size(), 7u);
  EXPECT_TRUE(std::is_sorted(thinned.begin(), thinned.end()));
}

}  // namespace
}  // namespace cutroom::analysis
