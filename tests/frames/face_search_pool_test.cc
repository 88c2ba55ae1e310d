// Face searches on the pool's threads against a FaceDetector in the
// test's thread: the same faces for every frame, whatever order the
// searches finish in, and failures reported at the next Wait.
#include "analysis/frames/face_search_pool.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <mutex>
#include <optional>

#include "frame_images.h"
#include "support/test_support.h"

namespace cutroom::analysis {
namespace {

using testing::FlatFrame;
using testing::FrameFromMat;
using testing::kOpenCvData;

void ExpectSameFaces(const std::vector<FaceBox>& got, const std::vector<FaceBox>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].x, want[i].x) << what;
    EXPECT_EQ(got[i].y, want[i].y) << what;
    EXPECT_EQ(got[i].width, want[i].width) << what;
    EXPECT_EQ(got[i].height, want[i].height) << what;
  }
}

TEST(FaceSearchPool, EveryFrameGetsTheFacesADetectorInTheCallersThreadFinds) {
  std::string path = std::string(kOpenCvData) + "messi5.jpg";
  REQUIRE_FILE(path, "opencv-doc example image");
  cv::Mat img = cv::imread(path), big, shifted;
  cv::resize(img, big, cv::Size(), 1.5, 1.5, cv::INTER_LINEAR);
  cv::Mat m = cv::Mat::zeros(img.rows, img.cols, img.type());
  img(cv::Rect(0, 0, img.cols - 60, img.rows)).copyTo(m(cv::Rect(60, 0, img.cols - 60, img.rows)));
  shifted = m;
  const std::vector<media::VideoFrame> frames = {FrameFromMat(img), FrameFromMat(big), FrameFromMat(shifted),
                                                 FlatFrame(320, 180, 128)};

  auto serial = FaceDetector::Open();
  ASSERT_OK(serial.status());
  std::vector<std::vector<FaceBox>> whole;
  for (const auto& f : frames) {
    auto faces = (*serial)->Detect(f);
    ASSERT_OK(faces.status());
    whole.push_back(*faces);
  }
  ASSERT_EQ(whole[0].size(), 1u);  // the player's face
  ASSERT_TRUE(whole[3].empty());   // the flat frame
  // A region search too: around the face of the first frame, in the
  // shifted one.
  const std::vector<FaceSearchRegion> near = {RegionAround(whole[0][0])};
  auto near_want = (*serial)->DetectIn(frames[2], near);
  ASSERT_OK(near_want.status());

  auto pool = FaceSearchPool::Open({}, 2);
  ASSERT_OK(pool.status());
  EXPECT_EQ((*pool)->threads(), 2);
  constexpr int kRounds = 6;
  std::mutex mu;
  std::vector<std::optional<std::vector<FaceBox>>> got(kRounds * (frames.size() + 1));
  for (int r = 0; r < kRounds; ++r) {
    for (size_t k = 0; k <= frames.size(); ++k) {
      const size_t slot = r * (frames.size() + 1) + k;
      const bool region = k == frames.size();
      ASSERT_OK((*pool)->Submit(region ? frames[2] : frames[k], region ? near : std::vector<FaceSearchRegion>{},
                                [&, slot](std::vector<FaceBox> faces) {
                                  std::lock_guard lock(mu);
                                  got[slot] = std::move(faces);
                                }));
    }
  }
  ASSERT_OK((*pool)->Wait());
  for (int r = 0; r < kRounds; ++r) {
    for (size_t k = 0; k <= frames.size(); ++k) {
      const auto& g = got[r * (frames.size() + 1) + k];
      ASSERT_TRUE(g.has_value()) << "round " << r << " frame " << k;
      ExpectSameFaces(*g, k == frames.size() ? *near_want : whole[k],
                      "round " + std::to_string(r) + " frame " + std::to_string(k));
    }
  }
}

TEST(FaceSearchPool, AFailedSearchIsReportedAtWaitAndThePoolGoesOn) {
  auto pool = FaceSearchPool::Open({}, 2);
  ASSERT_OK(pool.status());
  media::VideoFrame bad = FlatFrame(10, 10, 0);
  bad.pixels.pop_back();
  int called = 0;
  std::mutex mu;
  auto count = [&](std::vector<FaceBox>) {
    std::lock_guard lock(mu);
    ++called;
  };
  ASSERT_OK((*pool)->Submit(bad, {}, count));
  EXPECT_TRUE((*pool)->Wait().IsInvalidArgument());
  EXPECT_EQ(called, 0);
  ASSERT_OK((*pool)->Submit(FlatFrame(64, 64, 0), {}, count));
  EXPECT_OK((*pool)->Wait());
  EXPECT_EQ(called, 1);
}

TEST(FaceSearchPool, OpeningChecksTheThreadCount) {
  EXPECT_TRUE(FaceSearchPool::Open({}, 0).status().IsInvalidArgument());
  EXPECT_TRUE(FaceSearchPool::Open({}, 17).status().IsInvalidArgument());
}

}  // namespace
}  // namespace cutroom::analysis
