#include "media/decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "core/subprocess.h"
#include "support/test_support.h"

namespace cutroom::media {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TempDir;
using cutroom::testing::TestMedia;

std::vector<VideoFrame> DecodeAll(const std::string& path, const DecodeOptions& options) {
  auto dec = VideoDecoder::Open(path, options);
  EXPECT_TRUE(dec.ok()) << dec.status().ToString();
  std::vector<VideoFrame> frames;
  if (!dec.ok()) return frames;
  VideoFrame f;
  while (true) {
    auto more = (*dec)->Next(f);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    frames.push_back(f);
  }
  return frames;
}

double MeanAbsDiff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  if (a.size() != b.size() || a.empty()) return 255;
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::abs(int(a[i]) - int(b[i]));
  return sum / static_cast<double>(a.size());
}

// Turns a packed picture clockwise by a quarter, written independently of
// the decoder's tiled version: destination (x, y) = source (y, h-1-x).
VideoFrame RotateClockwise(const VideoFrame& in) {
  const int ch = ChannelsOf(in.format);
  VideoFrame out = in;
  out.width = in.height;
  out.height = in.width;
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      for (int c = 0; c < ch; ++c) {
        out.pixels[(static_cast<size_t>(y) * out.width + x) * ch + c] =
            in.pixels[(static_cast<size_t>(in.height - 1 - x) * in.width + y) * ch + c];
      }
    }
  }
  return out;
}

// Packet pts of the first video stream in seconds from the stream start,
// sorted (presentation order), as ffprobe reports them.
std::vector<double> FfprobePresentationTimes(const std::string& path) {
  std::string out;
  Status st = RunProcess({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=time_base,start_time:packet=pts", "-of", "default=noprint_wrappers=1", path},
                         &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  std::istringstream in(out);
  std::string line;
  double tb = 0, start = 0;
  std::vector<int64_t> pts;
  while (std::getline(in, line)) {
    if (line.rfind("time_base=", 0) == 0) {
      int num = 0, den = 1;
      std::sscanf(line.c_str(), "time_base=%d/%d", &num, &den);
      tb = static_cast<double>(num) / den;
    } else if (line.rfind("start_time=", 0) == 0) {
      start = std::atof(line.c_str() + 11);
    } else if (line.rfind("pts=", 0) == 0) {
      pts.push_back(std::atoll(line.c_str() + 4));
    }
  }
  std::sort(pts.begin(), pts.end());
  std::vector<double> seconds;
  for (int64_t p : pts) seconds.push_back(static_cast<double>(p) * tb - start);
  return seconds;
}

TEST(VideoDecoder, ReadsEveryFrameOfCounterInOrder) {
  REQUIRE_SHARED_DATA(path, "video/counter.mp4");
  auto dec = VideoDecoder::Open(path, {});
  ASSERT_OK(dec.status());
  const VideoStreamInfo& info = (*dec)->info();
  EXPECT_NEAR(info.fps, 10.0, 1e-9);
  EXPECT_NEAR(info.duration_s, 3.0, 0.05);
  EXPECT_EQ(info.display_width, 1920);
  EXPECT_EQ(info.display_height, 1080);
  EXPECT_EQ(info.rotation, 0);
  EXPECT_FALSE(info.variable_frame_rate);
  EXPECT_EQ(info.frame_count_estimate, 30);

  VideoFrame f;
  int n = 0;
  while (true) {
    auto more = (*dec)->Next(f);
    ASSERT_OK(more.status());
    if (!*more) break;
    EXPECT_EQ(f.index, n);
    EXPECT_NEAR(f.pts_s, n * 0.1, 1e-9);
    EXPECT_EQ(f.width, 1920);
    EXPECT_EQ(f.height, 1080);
    EXPECT_EQ(f.format, PixelFormat::kRgb24);
    EXPECT_EQ(f.pixels.size(), 1920u * 1080 * 3);
    ++n;
  }
  EXPECT_EQ(n, 30);
  auto again = (*dec)->Next(f);
  ASSERT_OK(again.status());
  EXPECT_FALSE(*again);
}

TEST(VideoDecoder, FrameAtIsFrameExactOnCounter) {
  REQUIRE_SHARED_DATA(path, "video/counter.mp4");
  DecodeOptions options;
  options.width = 480;  // smaller frames, same decoding: keeps the test quick under ASan
  std::vector<VideoFrame> frames = DecodeAll(path, options);
  ASSERT_EQ(frames.size(), 30u);

  auto dec = VideoDecoder::Open(path, options);
  ASSERT_OK(dec.status());
  // Exact frame times, times between frames, the float-unfriendly 0.3,
  // before the start and past the end, forwards, backwards and repeated.
  std::vector<double> times = {1.25, 0.0, 2.9, 0.3, 0.29999, 0.05, 2.95, 10.0, -1.0, 1.0, 0.99999, 1.0,
                               0.7, 0.8, 0.85, 0.9, 2.0, 1.95, 0.1, 0.15, 1.5, 1.4, 2.5, 2.45, 0.0001};
  for (int i = 0; i < 30; ++i) times.push_back(frames[i].pts_s);
  for (int i = 29; i >= 0; i -= 3) times.push_back(i * 0.1 + 0.05);
  for (double t : times) {
    auto f = (*dec)->FrameAt(t);
    ASSERT_OK(f.status());
    // counter.mp4 shows number round(t*10)+1 at t: frame floor(t*10).
    int expected = std::clamp(static_cast<int>(std::floor(t * 10 + 1e-6)), 0, 29);
    SCOPED_TRACE("t=" + std::to_string(t));
    EXPECT_EQ(f->index, expected);
    EXPECT_NEAR(f->pts_s, expected * 0.1, 1e-9);
    ASSERT_EQ(f->width, 480);
    ASSERT_EQ(f->height, 270);
    EXPECT_TRUE(f->pixels == frames[expected].pixels) << "pixels differ from sequential frame " << expected;
  }
}

TEST(VideoDecoder, NextContinuesAfterFrameAt) {
  REQUIRE_SHARED_DATA(path, "video/counter.mp4");
  DecodeOptions options;
  options.width = 320;
  std::vector<VideoFrame> frames = DecodeAll(path, options);
  ASSERT_EQ(frames.size(), 30u);
  auto dec = VideoDecoder::Open(path, options);
  ASSERT_OK(dec.status());
  auto f = (*dec)->FrameAt(1.23);
  ASSERT_OK(f.status());
  EXPECT_EQ(f->index, 12);
  VideoFrame next;
  for (int i = 13; i < 30; ++i) {
    auto more = (*dec)->Next(next);
    ASSERT_OK(more.status());
    ASSERT_TRUE(*more);
    EXPECT_EQ(next.index, i);
    EXPECT_NEAR(next.pts_s, i * 0.1, 1e-9);
    EXPECT_TRUE(next.pixels == frames[i].pixels) << i;
  }
  auto more = (*dec)->Next(next);
  ASSERT_OK(more.status());
  EXPECT_FALSE(*more);
  // And seeking back after the end works.
  auto first = (*dec)->FrameAt(0);
  ASSERT_OK(first.status());
  EXPECT_EQ(first->index, 0);
  EXPECT_TRUE(first->pixels == frames[0].pixels);
}

TEST(VideoDecoder, FrameAtMatchesSequentialFramesOnALongerFileWithBFrames) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  DecodeOptions options;
  options.width = 128;
  options.format = PixelFormat::kGray8;
  std::vector<VideoFrame> frames = DecodeAll(path, options);
  ASSERT_EQ(frames.size(), 720u);
  auto dec = VideoDecoder::Open(path, options);
  ASSERT_OK(dec.status());
  const double frame_s = 1001.0 / 30000;
  // Scattered targets, many of them B-frames far from a keyframe.
  for (int i : {700, 3, 359, 360, 361, 31, 30, 29, 529, 530, 250, 251, 719, 0, 100, 101, 102, 650}) {
    auto f = (*dec)->FrameAt(i * frame_s + frame_s / 2);
    ASSERT_OK(f.status());
    EXPECT_EQ(f->index, i);
    EXPECT_NEAR(f->pts_s, frames[i].pts_s, 1e-9);
    EXPECT_TRUE(f->pixels == frames[i].pixels) << "frame " << i;
  }
}

// Containers other than MP4: MPEG-TS (timestamps, seeking by bisection)
// and a raw H.264 stream (no packet pts at all: FrameAt cannot build its
// index and steps back until it finds the frame).
TEST(VideoDecoder, FrameAtMatchesSequentialFramesInOtherContainers) {
  TempDir dir;
  const std::string src = TestMedia("small.mp4");
  const std::string ts = dir.File("small-ts"), raw = dir.File("small-h264");
  ASSERT_OK(RunProcess({"ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src, "-c", "copy", "-f", "mpegts", ts}));
  ASSERT_OK(RunProcess({"ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src, "-an", "-c:v", "copy", "-bsf:v",
                        "h264_mp4toannexb", "-f", "h264", raw}));
  for (const std::string& path : {ts, raw}) {
    SCOPED_TRACE(path);
    DecodeOptions options;
    options.width = 80;
    options.format = PixelFormat::kGray8;
    std::vector<VideoFrame> frames = DecodeAll(path, options);
    ASSERT_EQ(frames.size(), 100u);
    auto dec = VideoDecoder::Open(path, options);
    ASSERT_OK(dec.status());
    for (int i : {60, 10, 99, 0, 37, 38, 75, 26, 24, 25}) {
      auto f = (*dec)->FrameAt(frames[i].pts_s + 0.02);
      ASSERT_OK(f.status());
      EXPECT_EQ(f->index, i);
      EXPECT_NEAR(f->pts_s, frames[i].pts_s, 1e-9);
      EXPECT_TRUE(f->pixels == frames[i].pixels) << "frame " << i;
    }
  }
}

TEST(VideoDecoder, TimestampsComeFromPtsOnVariableFrameRate) {
  REQUIRE_SHARED_DATA(path, "video/goldeneye-vfr-drop3.mp4");
  std::vector<double> expected = FfprobePresentationTimes(path);
  ASSERT_FALSE(expected.empty());

  DecodeOptions options;
  options.width = 160;
  std::vector<VideoFrame> frames = DecodeAll(path, options);
  ASSERT_EQ(frames.size(), expected.size());
  std::vector<double> gaps;
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].index, static_cast<int64_t>(i));
    EXPECT_NEAR(frames[i].pts_s, expected[i], 1e-6) << "frame " << i;
    if (i > 0) {
      EXPECT_GT(frames[i].pts_s, frames[i - 1].pts_s);
      gaps.push_back(frames[i].pts_s - frames[i - 1].pts_s);
    }
  }
  // Every third frame dropped: gaps of one and two frame periods.
  auto [min_gap, max_gap] = std::minmax_element(gaps.begin(), gaps.end());
  EXPECT_NEAR(*max_gap / *min_gap, 2.0, 0.01);

  auto dec = VideoDecoder::Open(path, options);
  ASSERT_OK(dec.status());
  EXPECT_TRUE((*dec)->info().variable_frame_rate);
  // On VFR the index is the position among the frames, not t * fps.
  for (size_t i : {size_t{100}, size_t{5}, size_t{6}, size_t{7}, frames.size() - 1, size_t{0}, size_t{50}}) {
    double mid = i + 1 < expected.size() ? (expected[i] + expected[i + 1]) / 2 : expected[i] + 1;
    for (double t : {expected[i], mid}) {
      auto f = (*dec)->FrameAt(t);
      ASSERT_OK(f.status());
      EXPECT_EQ(f->index, static_cast<int64_t>(i)) << "t=" << t;
      EXPECT_NEAR(f->pts_s, expected[i], 1e-6);
      EXPECT_TRUE(f->pixels == frames[i].pixels) << "frame " << i;
    }
  }
}

TEST(VideoDecoder, AppliesDisplayRotationClockwise) {
  REQUIRE_SHARED_DATA(path, "video/issue-134-rotate.mp4");
  DecodeOptions upright;
  auto dec = VideoDecoder::Open(path, upright);
  ASSERT_OK(dec.status());
  EXPECT_EQ((*dec)->info().rotation, 90);
  EXPECT_EQ((*dec)->info().display_width, 544);
  EXPECT_EQ((*dec)->info().display_height, 1280);
  auto rotated = (*dec)->FrameAt(1.0);
  ASSERT_OK(rotated.status());
  EXPECT_EQ(rotated->width, 544);
  EXPECT_EQ(rotated->height, 1280);

  DecodeOptions coded;
  coded.apply_rotation = false;
  auto plain_dec = VideoDecoder::Open(path, coded);
  ASSERT_OK(plain_dec.status());
  auto plain = (*plain_dec)->FrameAt(1.0);
  ASSERT_OK(plain.status());
  EXPECT_EQ(plain->width, 1280);
  EXPECT_EQ(plain->height, 544);
  EXPECT_EQ(plain->index, rotated->index);
  VideoFrame by_hand = RotateClockwise(*plain);
  EXPECT_TRUE(by_hand.pixels == rotated->pixels);

  // Requested sizes are upright sizes too.
  DecodeOptions small;
  small.height = 320;
  auto small_dec = VideoDecoder::Open(path, small);
  ASSERT_OK(small_dec.status());
  auto s = (*small_dec)->FrameAt(1.0);
  ASSERT_OK(s.status());
  EXPECT_EQ(s->width, 136);
  EXPECT_EQ(s->height, 320);

  // The direction players use: ffmpeg's autorotate gives the same picture,
  // and the opposite turn does not.
  TempDir dir;
  std::string ref = dir.File("first.rgb");
  ASSERT_OK(RunProcess({"ffmpeg", "-nostdin", "-v", "error", "-y", "-i", path, "-frames:v", "1", "-f", "rawvideo",
                        "-pix_fmt", "rgb24", ref}));
  std::string bytes = ReadFile(ref);
  ASSERT_EQ(bytes.size(), 544u * 1280 * 3);
  auto first = (*dec)->FrameAt(0);
  ASSERT_OK(first.status());
  std::vector<uint8_t> expected(bytes.begin(), bytes.end());
  EXPECT_LT(MeanAbsDiff(first->pixels, expected), 3.0);
  VideoFrame upside_down = RotateClockwise(RotateClockwise(*first));
  VideoFrame counter_clockwise = RotateClockwise(upside_down);
  EXPECT_GT(MeanAbsDiff(counter_clockwise.pixels, expected), 10.0);
}

TEST(VideoDecoder, ScalesToTheRequestedSizeAndFormat) {
  std::string path = TestMedia("small.mp4");
  DecodeOptions rgb;
  rgb.width = 160;
  rgb.height = 90;
  auto a = VideoDecoder::Open(path, rgb);
  ASSERT_OK(a.status());
  EXPECT_NEAR((*a)->info().fps, 25.0, 1e-9);
  EXPECT_NEAR((*a)->info().duration_s, 4.0, 0.05);
  EXPECT_EQ((*a)->info().display_width, 320);
  auto fa = (*a)->FrameAt(2.0);
  ASSERT_OK(fa.status());
  EXPECT_EQ(fa->index, 50);
  EXPECT_EQ(fa->width, 160);
  EXPECT_EQ(fa->height, 90);
  EXPECT_EQ(fa->pixels.size(), 160u * 90 * 3);

  DecodeOptions bgr = rgb;
  bgr.format = PixelFormat::kBgr24;
  auto b = VideoDecoder::Open(path, bgr);
  ASSERT_OK(b.status());
  auto fb = (*b)->FrameAt(2.0);
  ASSERT_OK(fb.status());
  ASSERT_EQ(fb->pixels.size(), fa->pixels.size());
  // The same picture with red and blue swapped (swscale's RGB and BGR
  // paths round a little differently).
  std::vector<uint8_t> swapped = fb->pixels;
  for (size_t i = 0; i < swapped.size(); i += 3) std::swap(swapped[i], swapped[i + 2]);
  EXPECT_LT(MeanAbsDiff(fa->pixels, swapped), 1.0);

  DecodeOptions gray;
  gray.width = 100;  // height follows the 16:9 display aspect
  gray.format = PixelFormat::kGray8;
  auto g = VideoDecoder::Open(path, gray);
  ASSERT_OK(g.status());
  auto fg = (*g)->FrameAt(2.0);
  ASSERT_OK(fg.status());
  EXPECT_EQ(fg->width, 100);
  EXPECT_EQ(fg->height, 56);
  EXPECT_EQ(fg->pixels.size(), 100u * 56);
  // Gray is the luma of the colour picture.
  auto as_gray = ResizeFrame(*fa, 100, 56, PixelFormat::kGray8);
  ASSERT_OK(as_gray.status());
  EXPECT_LT(MeanAbsDiff(as_gray->pixels, fg->pixels), 4.0);

  DecodeOptions big;
  big.width = 640;
  big.height = 360;
  auto u = VideoDecoder::Open(path, big);
  ASSERT_OK(u.status());
  auto fu = (*u)->FrameAt(2.0);
  ASSERT_OK(fu.status());
  EXPECT_EQ(fu->pixels.size(), 640u * 360 * 3);
}

TEST(VideoDecoder, AppliesSampleAspectRatioToTheDisplaySize) {
  REQUIRE_SHARED_DATA(path, "video/issue-195-aspect-ratio.mp4");
  auto dec = VideoDecoder::Open(path, {});
  ASSERT_OK(dec.status());
  auto f = (*dec)->FrameAt(0.5);
  ASSERT_OK(f.status());
  EXPECT_EQ(f->height, 576);
  EXPECT_NE(f->width, 704);
  EXPECT_EQ(f->width, (*dec)->info().display_width);
}

TEST(VideoDecoder, DecodesAStillImageAsOneFrame) {
  std::string path = TestMedia("still.png");
  auto dec = VideoDecoder::Open(path, {});
  ASSERT_OK(dec.status());
  VideoFrame f;
  auto more = (*dec)->Next(f);
  ASSERT_OK(more.status());
  ASSERT_TRUE(*more);
  EXPECT_EQ(f.width, 320);
  EXPECT_EQ(f.height, 180);
  more = (*dec)->Next(f);
  ASSERT_OK(more.status());
  EXPECT_FALSE(*more);
  auto at = (*dec)->FrameAt(3.0);
  ASSERT_OK(at.status());
  EXPECT_EQ(at->index, 0);
}

TEST(VideoDecoder, RefusesBadOptions) {
  std::string path = TestMedia("small.mp4");
  DecodeOptions negative;
  negative.width = -1;
  EXPECT_TRUE(VideoDecoder::Open(path, negative).status().IsInvalidArgument());
  DecodeOptions huge;
  huge.width = 30000;
  huge.height = 30000;
  EXPECT_TRUE(VideoDecoder::Open(path, huge).status().IsInvalidArgument());
  auto dec = VideoDecoder::Open(path, {});
  ASSERT_OK(dec.status());
  EXPECT_TRUE((*dec)->FrameAt(std::nan("")).status().IsInvalidArgument());
  EXPECT_TRUE(VideoDecoder::Open(path + ".missing", {}).status().IsNotFound());
}

TEST(ResizeFrame, ConvertsBetweenFormats) {
  VideoFrame f;
  f.width = 4;
  f.height = 2;
  f.format = PixelFormat::kRgb24;
  f.pixels = {255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255, 255};
  auto bgr = ResizeFrame(f, 4, 2, PixelFormat::kBgr24);
  ASSERT_OK(bgr.status());
  EXPECT_EQ(bgr->pixels[0], 0);
  EXPECT_EQ(bgr->pixels[2], 255);
  f.pixels.pop_back();
  EXPECT_TRUE(ResizeFrame(f, 2, 1, PixelFormat::kGray8).status().IsInvalidArgument());
}

}  // namespace
}  // namespace cutroom::media
