// Frame features on real images: blur, exposure, re-encoding and motion.
#include "analysis/frames/features.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "frame_images.h"
#include "media/thumbnails.h"
#include "support/test_support.h"

namespace cutroom::analysis {
namespace {

using testing::DecodeFrameAt;
using testing::FlatFrame;
using testing::FrameFromMat;
using testing::kOpenCvData;
using testing::LoadImageFrame;
using testing::MatFromFrame;

TEST(FrameFeatures, BlackAndWhiteFramesHaveTheExtremeBrightnessAndNoContrast) {
  for (auto format : {media::PixelFormat::kRgb24, media::PixelFormat::kBgr24, media::PixelFormat::kGray8}) {
    auto black = ComputeFrameFeatures(FlatFrame(64, 48, 0, format));
    auto white = ComputeFrameFeatures(FlatFrame(64, 48, 255, format));
    ASSERT_OK(black.status());
    ASSERT_OK(white.status());
    EXPECT_NEAR(black->brightness, 0.0, 1e-9);
    EXPECT_NEAR(white->brightness, 1.0, 1e-9);
    EXPECT_NEAR(black->contrast, 0.0, 1e-9);
    EXPECT_NEAR(white->contrast, 0.0, 1e-9);
    EXPECT_NEAR(black->sharpness, 0.0, 1e-9);
    EXPECT_FALSE(black->motion.has_value());
  }
}

TEST(FrameFeatures, HalfBlackHalfWhiteHasMaximalContrast) {
  cv::Mat m(40, 40, CV_8UC3, cv::Scalar(0, 0, 0));
  m(cv::Rect(0, 0, 40, 20)).setTo(cv::Scalar(255, 255, 255));
  auto f = ComputeFrameFeatures(FrameFromMat(m));
  ASSERT_OK(f.status());
  EXPECT_NEAR(f->brightness, 0.5, 1e-9);
  EXPECT_NEAR(f->contrast, 0.5, 1e-9);
}

TEST(FrameFeatures, BlurLowersSharpness) {
  std::string path = std::string(kOpenCvData) + "messi5.jpg";
  REQUIRE_FILE(path, "opencv-doc example image");
  cv::Mat img = cv::imread(path);
  ASSERT_FALSE(img.empty());
  cv::Mat blurred;
  cv::GaussianBlur(img, blurred, cv::Size(0, 0), 3.0);
  auto sharp = ComputeFrameFeatures(FrameFromMat(img));
  auto soft = ComputeFrameFeatures(FrameFromMat(blurred));
  ASSERT_OK(sharp.status());
  ASSERT_OK(soft.status());
  EXPECT_GT(sharp->sharpness, 100.0);
  EXPECT_LT(soft->sharpness * 10, sharp->sharpness);
  // Blur leaves the exposure alone.
  EXPECT_NEAR(soft->brightness, sharp->brightness, 0.01);
}

TEST(FrameFeatures, PerceptualHashSurvivesResizingAndJpegButNotAnotherPicture) {
  std::string messi = std::string(kOpenCvData) + "messi5.jpg";
  std::string other = std::string(kOpenCvData) + "fruits.jpg";
  REQUIRE_FILE(messi, "opencv-doc example image");
  REQUIRE_FILE(other, "opencv-doc example image");
  cv::Mat img = cv::imread(messi);
  cv::Mat small;
  cv::resize(img, small, cv::Size(img.cols / 2, img.rows / 2), 0, 0, cv::INTER_AREA);
  // Re-encode the smaller copy as a low-quality JPEG through cutroom's
  // encoder, and read it back.
  auto jpeg = media::EncodeJpeg(FrameFromMat(small), 40);
  ASSERT_OK(jpeg.status());
  std::vector<uint8_t> bytes(jpeg->begin(), jpeg->end());
  cv::Mat reencoded = cv::imdecode(bytes, cv::IMREAD_COLOR);
  ASSERT_FALSE(reencoded.empty());

  auto a = PerceptualHash(FrameFromMat(img));
  auto b = PerceptualHash(FrameFromMat(reencoded));
  auto c = PerceptualHash(LoadImageFrame(other));
  ASSERT_OK(a.status());
  ASSERT_OK(b.status());
  ASSERT_OK(c.status());
  EXPECT_LE(PerceptualHashDistance(*a, *b), 4);
  EXPECT_GE(PerceptualHashDistance(*a, *c), 20);
  EXPECT_EQ(PerceptualHashDistance(*a, *a), 0);
}

TEST(FrameFeatures, PerceptualHashIsTheSameForRgbAndBgrOfOnePicture) {
  std::string path = std::string(kOpenCvData) + "messi5.jpg";
  REQUIRE_FILE(path, "opencv-doc example image");
  cv::Mat bgr = cv::imread(path);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  media::VideoFrame rgb_frame = FrameFromMat(rgb);
  rgb_frame.format = media::PixelFormat::kRgb24;
  auto a = PerceptualHash(FrameFromMat(bgr));
  auto b = PerceptualHash(rgb_frame);
  ASSERT_OK(a.status());
  ASSERT_OK(b.status());
  EXPECT_EQ(*a, *b);
}

TEST(FrameFeatures, HashHexRoundTrips) {
  EXPECT_EQ(PerceptualHashHex(0x8f3a00c1d2e4b567ULL), "8f3a00c1d2e4b567");
  EXPECT_EQ(PerceptualHashHex(0), "0000000000000000");
  auto parsed = ParsePerceptualHash("8F3A00C1D2E4B567");
  ASSERT_OK(parsed.status());
  EXPECT_EQ(*parsed, 0x8f3a00c1d2e4b567ULL);
  EXPECT_TRUE(ParsePerceptualHash("8f3a").status().IsInvalidArgument());
  EXPECT_TRUE(ParsePerceptualHash("8f3a00c1d2e4b56g").status().IsInvalidArgument());
  EXPECT_EQ(PerceptualHashDistance(0, ~0ULL), 64);
  EXPECT_EQ(PerceptualHashDistance(0b1011, 0b0001), 2);
}

TEST(FrameFeatures, MotionIsZeroForIdenticalFramesAndGrowsWithChange) {
  std::string small = cutroom::testing::TestMedia("small.mp4");
  auto a = DecodeFrameAt(small, 1.0);
  auto b = DecodeFrameAt(small, 1.0);
  auto later = DecodeFrameAt(small, 3.0);
  ASSERT_OK(a.status());
  ASSERT_OK(b.status());
  ASSERT_OK(later.status());
  auto same = ComputeFrameFeatures(*b, &*a);
  ASSERT_OK(same.status());
  ASSERT_TRUE(same->motion.has_value());
  EXPECT_EQ(*same->motion, 0.0);
  auto moved = FrameMotion(*a, *later);
  ASSERT_OK(moved.status());
  EXPECT_GT(*moved, 0.01);
  auto extreme = FrameMotion(FlatFrame(32, 32, 0), FlatFrame(640, 360, 255));
  ASSERT_OK(extreme.status());
  EXPECT_NEAR(*extreme, 1.0, 1e-9);
}

TEST(FrameFeatures, RejectsFramesWhosePixelsDoNotMatchTheirSize) {
  media::VideoFrame bad = FlatFrame(10, 10, 0);
  bad.pixels.resize(10);
  EXPECT_TRUE(ComputeFrameFeatures(bad).status().IsInvalidArgument());
  EXPECT_TRUE(ComputeFrameFeatures(media::VideoFrame{}).status().IsInvalidArgument());
  EXPECT_TRUE(FrameMotion(bad, FlatFrame(10, 10, 0)).status().IsInvalidArgument());
}

}  // namespace
}  // namespace cutroom::analysis
