// The Haar face detector on a photograph with one clear face and a crowd
// behind it, and on frames that hold no face at all.
#include "analysis/frames/faces.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "frame_images.h"
#include "support/test_support.h"

namespace cutroom::analysis {
namespace {

using testing::DecodeFrameAt;
using testing::FlatFrame;
using testing::FrameFromMat;
using testing::kOpenCvData;

std::unique_ptr<FaceDetector> OpenDetector() {
  auto d = FaceDetector::Open();
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? std::move(d).value() : nullptr;
}

// messi5.jpg is 548x342: the player's face (looking down, hair over the
// forehead) spans about x 218..258, y 85..130, centred near (238, 107);
// the blurred crowd behind him has faces a third that size.
constexpr double kFaceCentreX = 238;
constexpr double kFaceCentreY = 107;

TEST(FaceDetector, FindsThePlayersFaceAndNotTheCrowd) {
  std::string path = std::string(kOpenCvData) + "messi5.jpg";
  REQUIRE_FILE(path, "opencv-doc example image");
  auto detector = OpenDetector();
  ASSERT_TRUE(detector);
  cv::Mat img = cv::imread(path);
  ASSERT_EQ(img.cols, 548);
  auto faces = detector->Detect(FrameFromMat(img));
  ASSERT_OK(faces.status());
  ASSERT_EQ(faces->size(), 1u);
  const FaceBox& f = (*faces)[0];
  double cx = f.x + f.width / 2.0, cy = f.y + f.height / 2.0;
  EXPECT_NEAR(cx, kFaceCentreX, 12);
  EXPECT_NEAR(cy, kFaceCentreY, 12);
  EXPECT_GT(f.width, 30);
  EXPECT_LT(f.width, 80);
  EXPECT_NEAR(f.nx, f.x / 548.0, 1e-9);
  EXPECT_NEAR(f.ny, f.y / 342.0, 1e-9);
  EXPECT_NEAR(f.nwidth, f.width / 548.0, 1e-9);
  EXPECT_NEAR(f.nheight, f.height / 342.0, 1e-9);
  EXPECT_GT(f.score, 0);
}

TEST(FaceDetector, BoxesAreInTheCallersPixelsWhenTheFrameIsShrunkForDetection) {
  std::string path = std::string(kOpenCvData) + "messi5.jpg";
  REQUIRE_FILE(path, "opencv-doc example image");
  auto detector = OpenDetector();
  ASSERT_TRUE(detector);
  cv::Mat img = cv::imread(path), big;
  cv::resize(img, big, cv::Size(img.cols * 3, img.rows * 3), 0, 0, cv::INTER_CUBIC);
  auto faces = detector->Detect(FrameFromMat(big));
  ASSERT_OK(faces.status());
  ASSERT_EQ(faces->size(), 1u);
  const FaceBox& f = (*faces)[0];
  EXPECT_NEAR(f.x + f.width / 2.0, kFaceCentreX * 3, 36);
  EXPECT_NEAR(f.y + f.height / 2.0, kFaceCentreY * 3, 36);
  EXPECT_NEAR(f.nx + f.nwidth / 2, kFaceCentreX / 548.0, 0.03);
}

TEST(FaceDetector, FindsNoFaceInFlatFramesOrTestPatterns) {
  auto detector = OpenDetector();
  ASSERT_TRUE(detector);
  for (uint8_t v : {0, 128, 255}) {
    auto faces = detector->Detect(FlatFrame(640, 360, v));
    ASSERT_OK(faces.status());
    EXPECT_TRUE(faces->empty()) << "flat " << int(v);
  }
  std::string still = cutroom::testing::TestMedia("still.png");
  std::string small = cutroom::testing::TestMedia("small.mp4");
  for (double t : {0.0, 1.0, 2.0, 3.0}) {
    auto frame = DecodeFrameAt(small, t);
    ASSERT_OK(frame.status());
    auto faces = detector->Detect(*frame);
    ASSERT_OK(faces.status());
    EXPECT_TRUE(faces->empty()) << "small.mp4 at " << t;
  }
  auto frame = DecodeFrameAt(still, 0);
  ASSERT_OK(frame.status());
  auto faces = detector->Detect(*frame);
  ASSERT_OK(faces.status());
  EXPECT_TRUE(faces->empty());
}

TEST(FaceDetector, FindsABigCloseUpFace) {
  // Megamind.avi (opencv-doc): at 9.5 s a close-up of a bespectacled
  // cartoon face fills the middle of the frame.
  std::string clip = std::string(kOpenCvData) + "Megamind.avi";
  REQUIRE_FILE(clip, "opencv-doc example video");
  auto detector = OpenDetector();
  ASSERT_TRUE(detector);
  auto frame = DecodeFrameAt(clip, 9.5, media::PixelFormat::kBgr24, 640);
  ASSERT_OK(frame.status());
  auto faces = detector->Detect(*frame);
  ASSERT_OK(faces.status());
  ASSERT_EQ(faces->size(), 1u);
  const FaceBox& f = (*faces)[0];
  EXPECT_NEAR(f.nx + f.nwidth / 2, 0.54, 0.08);
  EXPECT_NEAR(f.ny + f.nheight / 2, 0.45, 0.08);
  EXPECT_GT(f.nwidth, 0.3);
  EXPECT_GT(f.neighbors, 10);
}

TEST(FaceDetector, NearAnEarlierBoxFindsTheSameFaceAndNothingElsewhere) {
  std::string path = std::string(kOpenCvData) + "messi5.jpg";
  REQUIRE_FILE(path, "opencv-doc example image");
  auto detector = OpenDetector();
  ASSERT_TRUE(detector);
  const media::VideoFrame frame = FrameFromMat(cv::imread(path));
  auto full = detector->Detect(frame);
  ASSERT_OK(full.status());
  ASSERT_EQ(full->size(), 1u);
  // The box from "a moment before", 12 px to the left and up: the face
  // moved a little.
  FaceBox before = (*full)[0];
  before.x -= 12;
  before.y -= 12;
  auto near = detector->DetectIn(frame, {RegionAround(before)});
  ASSERT_OK(near.status());
  ASSERT_EQ(near->size(), 1u);
  const FaceBox& f = (*near)[0];
  EXPECT_NEAR(f.x + f.width / 2.0, kFaceCentreX, 12);
  EXPECT_NEAR(f.y + f.height / 2.0, kFaceCentreY, 12);
  EXPECT_NEAR(f.width, (*full)[0].width, (*full)[0].width * 0.2);
  EXPECT_NEAR(f.nx, f.x / 548.0, 1e-9);
  // The same box in the corner, where the crowd is blurred: nothing; and
  // no box, no search.
  FaceBox elsewhere = (*full)[0];
  elsewhere.x = 10;
  elsewhere.y = 240;
  auto none = detector->DetectIn(frame, {RegionAround(elsewhere)});
  ASSERT_OK(none.status());
  EXPECT_TRUE(none->empty());
  auto nothing = detector->DetectIn(frame, {});
  ASSERT_OK(nothing.status());
  EXPECT_TRUE(nothing->empty());
}

TEST(FaceDetector, NearFollowsACloseUpFromOneSampleToTheNext) {
  // Megamind.avi at 9.5 s (FindsABigCloseUpFace) and a third of a second
  // later, at the render's analysis width.
  std::string clip = std::string(kOpenCvData) + "Megamind.avi";
  REQUIRE_FILE(clip, "opencv-doc example video");
  auto detector = OpenDetector();
  ASSERT_TRUE(detector);
  auto first = DecodeFrameAt(clip, 9.5, media::PixelFormat::kGray8, 720);
  auto next = DecodeFrameAt(clip, 9.83, media::PixelFormat::kGray8, 720);
  ASSERT_OK(first.status());
  ASSERT_OK(next.status());
  auto at_first = detector->Detect(*first);
  ASSERT_OK(at_first.status());
  ASSERT_EQ(at_first->size(), 1u);
  auto full = detector->Detect(*next);
  auto near = detector->DetectIn(*next, {RegionAround((*at_first)[0])});
  ASSERT_OK(full.status());
  ASSERT_OK(near.status());
  ASSERT_EQ(full->size(), 1u);
  ASSERT_EQ(near->size(), 1u);
  const FaceBox& a = (*full)[0];
  const FaceBox& b = (*near)[0];
  EXPECT_NEAR(b.nx + b.nwidth / 2, a.nx + a.nwidth / 2, 0.03);
  EXPECT_NEAR(b.ny + b.nheight / 2, a.ny + a.nheight / 2, 0.03);
  EXPECT_NEAR(b.nwidth, a.nwidth, 0.2 * a.nwidth);
}

TEST(FaceDetector, BetweenTwoMomentsFindsAFaceOnTheWayThatOneRegionAloneMisses) {
  // The photograph slides right across a wide grey frame: 0 px, then 120,
  // then 240 (the face is about 40 px wide, so the middle position lies
  // outside the region around either end).
  std::string path = std::string(kOpenCvData) + "messi5.jpg";
  REQUIRE_FILE(path, "opencv-doc example image");
  auto detector = OpenDetector();
  ASSERT_TRUE(detector);
  cv::Mat photo = cv::imread(path);
  auto at = [&](int x) {
    cv::Mat canvas(photo.rows, photo.cols + 240, CV_8UC3, cv::Scalar(48, 48, 48));
    photo.copyTo(canvas(cv::Rect(x, 0, photo.cols, photo.rows)));
    return FrameFromMat(canvas);
  };
  auto first = detector->Detect(at(0));
  auto last = detector->Detect(at(240));
  ASSERT_OK(first.status());
  ASSERT_OK(last.status());
  ASSERT_EQ(first->size(), 1u);
  ASSERT_EQ(last->size(), 1u);
  const media::VideoFrame middle = at(120);
  auto around_first = detector->DetectIn(middle, {RegionAround((*first)[0])});
  ASSERT_OK(around_first.status());
  EXPECT_TRUE(around_first->empty()) << "the face moved out of the region around where it was";
  auto between = detector->DetectIn(middle, {RegionBetween((*first)[0], (*last)[0])});
  ASSERT_OK(between.status());
  ASSERT_EQ(between->size(), 1u);
  EXPECT_NEAR((*between)[0].x + (*between)[0].width / 2.0, kFaceCentreX + 120, 12);
  EXPECT_NEAR((*between)[0].y + (*between)[0].height / 2.0, kFaceCentreY, 12);
}

TEST(FaceRegions, EachFaceIsPairedWithItsNearestLikeSizedSelfAndTheRestGetTheirOwnRegion) {
  auto box = [](int x, int y, int side) {
    FaceBox b;
    b.x = x;
    b.y = y;
    b.width = b.height = side;
    return b;
  };
  // Before: a face that moves 100 px right and one that leaves; after: the
  // moved face and a much smaller one that arrives next to where the other was.
  const std::vector<FaceBox> before = {box(100, 100, 60), box(600, 100, 60)};
  const std::vector<FaceBox> after = {box(200, 100, 60), box(620, 110, 20)};
  const auto regions = RegionsBetween(before, after);
  ASSERT_EQ(regions.size(), 3u);
  const FaceSearchRegion both = RegionBetween(before[0], after[0]);
  EXPECT_EQ(regions[0].x, both.x);
  EXPECT_EQ(regions[0].width, both.width);
  EXPECT_LE(regions[0].x, 100 - 45);              // the margin before the start
  EXPECT_GE(regions[0].x + regions[0].width, 305);  // and past the end
  const FaceSearchRegion left = RegionAround(before[1]);  // the small face is not it: a third of its size
  EXPECT_EQ(regions[1].x, left.x);
  EXPECT_EQ(regions[1].min_side, left.min_side);
  const FaceSearchRegion arrived = RegionAround(after[1]);
  EXPECT_EQ(regions[2].x, arrived.x);
  EXPECT_EQ(regions[2].max_side, arrived.max_side);
  EXPECT_TRUE(RegionsBetween({}, {}).empty());
  EXPECT_EQ(RegionsBetween({}, {after[0]}).size(), 1u);
}

TEST(FaceDetector, ARoundObjectInACloseUpIsNotAFace) {
  // Broadcast footage: from 3 to 6 s a glass vessel fills the frame; the
  // face cascade alone takes it for a big face with strong support.
  REQUIRE_SHARED_DATA(clip, "video/issue-195-aspect-ratio.mp4");
  auto detector = OpenDetector();
  ASSERT_TRUE(detector);
  FaceDetectorOptions no_eyes;
  no_eyes.eye_check_min_side = 0;
  auto unchecked = FaceDetector::Open(no_eyes);
  ASSERT_OK(unchecked.status());
  int glass_found_without_eyes = 0;
  for (double t : {3.0, 4.0, 5.0, 6.0}) {
    auto frame = DecodeFrameAt(clip, t, media::PixelFormat::kBgr24, 640);
    ASSERT_OK(frame.status());
    auto faces = detector->Detect(*frame);
    ASSERT_OK(faces.status());
    EXPECT_TRUE(faces->empty()) << "at " << t << " s: " << faces->size() << " face(s), first " << (*faces)[0].width
                                << " px wide";
    auto raw = (*unchecked)->Detect(*frame);
    ASSERT_OK(raw.status());
    glass_found_without_eyes += raw->empty() ? 0 : 1;
  }
  EXPECT_GE(glass_found_without_eyes, 3);
  // The two people at the table a few seconds later are still found.
  auto frame = DecodeFrameAt(clip, 8.0, media::PixelFormat::kBgr24, 640);
  ASSERT_OK(frame.status());
  auto faces = detector->Detect(*frame);
  ASSERT_OK(faces.status());
  EXPECT_EQ(faces->size(), 2u);
}

TEST(FaceDetector, OpeningFailsClearlyForAMissingOrBadCascade) {
  FaceDetectorOptions o;
  o.cascade_path = "/nonexistent/cascade.xml";
  auto missing = FaceDetector::Open(o);
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find("/nonexistent/cascade.xml"), std::string::npos);

  cutroom::testing::TempDir dir;
  cutroom::testing::WriteFile(dir.File("bad.xml"), "<?xml version=\"1.0\"?><opencv_storage></opencv_storage>");
  o.cascade_path = dir.File("bad.xml");
  EXPECT_TRUE(FaceDetector::Open(o).status().IsInvalidArgument());

  FaceDetectorOptions bad_fraction;
  bad_fraction.min_face_fraction = 0;
  EXPECT_TRUE(FaceDetector::Open(bad_fraction).status().IsInvalidArgument());

  FaceDetectorOptions no_eye_cascade;
  no_eye_cascade.eye_cascade_path = "/nonexistent/eyes.xml";
  EXPECT_TRUE(FaceDetector::Open(no_eye_cascade).status().IsNotFound());
  no_eye_cascade.eye_check_min_side = 0;  // not needed when the check is off
  EXPECT_OK(FaceDetector::Open(no_eye_cascade).status());
}

TEST(FaceDetector, RejectsAnInconsistentFrame) {
  auto detector = OpenDetector();
  ASSERT_TRUE(detector);
  media::VideoFrame bad = FlatFrame(10, 10, 0);
  bad.pixels.pop_back();
  EXPECT_TRUE(detector->Detect(bad).status().IsInvalidArgument());
}

}  // namespace
}  // namespace cutroom::analysis
