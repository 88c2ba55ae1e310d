#include "media/thumbnails.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <sstream>

#include "support/test_support.h"

namespace cutroom::media {
namespace {

using cutroom::testing::TempDir;
using cutroom::testing::TestMedia;
using cutroom::testing::WriteFile;

// Decodes JPEG bytes back through libavformat's jpeg_pipe demuxer. The
// file has no extension, like the blobs cutroom stores: with ".jpg" the
// image2 demuxer, which is not on the whitelist, would win the probe.
Result<VideoFrame> DecodeJpeg(const std::string& jpeg, PixelFormat format) {
  TempDir dir;
  std::string path = dir.File("image");
  WriteFile(path, jpeg);
  DecodeOptions options;
  options.format = format;
  CUTROOM_ASSIGN_OR_RETURN(auto dec, VideoDecoder::Open(path, options));
  VideoFrame f;
  CUTROOM_ASSIGN_OR_RETURN(bool got, dec->Next(f));
  if (!got) return Status::InvalidArgument("no frame in JPEG");
  return f;
}

double Mean(const std::vector<uint8_t>& px) {
  double sum = 0;
  for (uint8_t v : px) sum += v;
  return sum / static_cast<double>(px.size());
}

double MeanAbsDiff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  if (a.size() != b.size()) return 255;
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::abs(int(a[i]) - int(b[i]));
  return sum / static_cast<double>(a.size());
}

TEST(EncodeJpeg, RoundTripsAFrame) {
  auto dec = VideoDecoder::Open(TestMedia("small.mp4"), {});
  ASSERT_OK(dec.status());
  auto frame = (*dec)->FrameAt(1.0);
  ASSERT_OK(frame.status());
  auto jpeg = EncodeJpeg(*frame, 90);
  ASSERT_OK(jpeg.status());
  ASSERT_GT(jpeg->size(), 4u);
  EXPECT_EQ(static_cast<unsigned char>((*jpeg)[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>((*jpeg)[1]), 0xD8);  // SOI
  auto back = DecodeJpeg(*jpeg, PixelFormat::kRgb24);
  ASSERT_OK(back.status());
  EXPECT_EQ(back->width, 320);
  EXPECT_EQ(back->height, 180);
  EXPECT_LT(MeanAbsDiff(back->pixels, frame->pixels), 6.0);

  // Lower quality, fewer bytes.
  auto small = EncodeJpeg(*frame, 10);
  ASSERT_OK(small.status());
  EXPECT_LT(small->size(), jpeg->size());
}

TEST(EncodeJpeg, HandlesOddSizesAndOtherFormats) {
  VideoFrame gray;
  gray.width = 101;
  gray.height = 57;
  gray.format = PixelFormat::kGray8;
  gray.pixels.resize(101 * 57);
  for (size_t i = 0; i < gray.pixels.size(); ++i) gray.pixels[i] = static_cast<uint8_t>(i % 101 * 2);
  auto jpeg = EncodeJpeg(gray, 95);
  ASSERT_OK(jpeg.status());
  auto back = DecodeJpeg(*jpeg, PixelFormat::kGray8);
  ASSERT_OK(back.status());
  EXPECT_EQ(back->width, 101);
  EXPECT_EQ(back->height, 57);
  EXPECT_LT(MeanAbsDiff(back->pixels, gray.pixels), 3.0);
}

TEST(EncodeJpeg, RefusesBadInput) {
  VideoFrame f;
  f.width = 4;
  f.height = 4;
  f.pixels.resize(10);
  EXPECT_TRUE(EncodeJpeg(f, 80).status().IsInvalidArgument());
  f.pixels.resize(48);
  EXPECT_TRUE(EncodeJpeg(f, 0).status().IsInvalidArgument());
  EXPECT_TRUE(EncodeJpeg(f, 101).status().IsInvalidArgument());
  EXPECT_OK(EncodeJpeg(f, 100).status());
}

TEST(MakePoster, SkipsBlackFrames) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");  // 30 black frames, then a leaf
  auto poster = MakePoster(path);
  ASSERT_OK(poster.status());
  EXPECT_EQ(poster->width, 1280);
  EXPECT_EQ(poster->height, 720);
  auto gray = DecodeJpeg(poster->jpeg, PixelFormat::kGray8);
  ASSERT_OK(gray.status());
  EXPECT_EQ(gray->width, 1280);
  EXPECT_GT(Mean(gray->pixels), 40.0) << "poster at " << poster->ts_s << " s is dark";
  // Not inside one of the black stretches (frames 0-29, 180-210, 361-393, 694-719).
  int frame = static_cast<int>(std::lround(poster->ts_s * 30000 / 1001));
  for (auto [a, b] : {std::pair{0, 29}, {180, 210}, {361, 393}, {694, 719}}) {
    EXPECT_FALSE(frame >= a && frame <= b) << "frame " << frame;
  }
}

TEST(MakePoster, BoundsTheWidth) {
  auto poster = MakePoster(TestMedia("small.mp4"), 160);
  ASSERT_OK(poster.status());
  EXPECT_EQ(poster->width, 160);
  EXPECT_EQ(poster->height, 90);
  auto back = DecodeJpeg(poster->jpeg, PixelFormat::kRgb24);
  ASSERT_OK(back.status());
  EXPECT_EQ(back->width, 160);
  EXPECT_NEAR(poster->ts_s, 0.4, 0.05);  // the first candidate (10%) is colourful

  auto still = MakePoster(TestMedia("still.png"));
  ASSERT_OK(still.status());
  EXPECT_EQ(still->width, 320);
  EXPECT_TRUE(MakePoster(TestMedia("small.mp4"), 0).status().IsInvalidArgument());
}

struct Cue {
  double start, end;
  std::string url;
  int x, y, w, h;
};

std::vector<Cue> ParseVtt(const std::string& vtt) {
  std::vector<Cue> cues;
  std::istringstream in(vtt);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "WEBVTT");
  const std::regex timing(R"((\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d))");
  const std::regex target(R"((.*)#xywh=(\d+),(\d+),(\d+),(\d+))");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, timing)) << line;
    if (!std::regex_match(line, m, timing)) break;
    auto secs = [&](int i) {
      return std::stoi(m[i]) * 3600 + std::stoi(m[i + 1]) * 60 + std::stoi(m[i + 2]) + std::stoi(m[i + 3]) / 1000.0;
    };
    Cue c{secs(1), secs(5), "", 0, 0, 0, 0};
    std::getline(in, line);
    std::smatch t;
    EXPECT_TRUE(std::regex_match(line, t, target)) << line;
    if (!std::regex_match(line, t, target)) break;
    c.url = t[1];
    c.x = std::stoi(t[2]);
    c.y = std::stoi(t[3]);
    c.w = std::stoi(t[4]);
    c.h = std::stoi(t[5]);
    cues.push_back(c);
  }
  return cues;
}

TEST(MakeSpriteSheet, LaysOutTilesAndDescribesThemInWebVtt) {
  auto sheet = MakeSpriteSheet(TestMedia("small.mp4"), 1.0, 160, 3);
  ASSERT_OK(sheet.status());
  EXPECT_EQ(sheet->tile_width, 160);
  EXPECT_EQ(sheet->tile_height, 90);
  EXPECT_EQ(sheet->columns, 3);
  EXPECT_EQ(sheet->rows, 2);
  ASSERT_EQ(sheet->tiles.size(), 4u);
  auto image = DecodeJpeg(sheet->jpeg, PixelFormat::kRgb24);
  ASSERT_OK(image.status());
  EXPECT_EQ(image->width, 480);
  EXPECT_EQ(image->height, 180);

  std::vector<Cue> cues = ParseVtt(SpriteVtt(*sheet, "/api/videos/v1/sprite.jpg"));
  ASSERT_EQ(cues.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(cues[i].start, i, 1e-9);
    EXPECT_NEAR(cues[i].end, i == 3 ? 4.0 : i + 1, 0.05);
    EXPECT_EQ(cues[i].url, "/api/videos/v1/sprite.jpg");
    EXPECT_EQ(cues[i].x, (i % 3) * 160);
    EXPECT_EQ(cues[i].y, (i / 3) * 90);
    EXPECT_EQ(cues[i].w, 160);
    EXPECT_EQ(cues[i].h, 90);
  }
  // The unused fifth and sixth cells stay black; the tiles are not.
  auto pixel_mean = [&](int x0, int y0) {
    double sum = 0;
    for (int y = y0; y < y0 + 90; ++y)
      for (int x = x0 * 3; x < (x0 + 160) * 3; ++x) sum += image->pixels[static_cast<size_t>(y) * 480 * 3 + x];
    return sum / (90.0 * 160 * 3);
  };
  EXPECT_LT(pixel_mean(320, 90), 8.0);
  EXPECT_GT(pixel_mean(0, 0), 30.0);
}

TEST(MakeSpriteSheet, ChoosesAnIntervalThatFitsMaxTiles) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");  // 24.02 s
  auto sheet = MakeSpriteSheet(path, 0, 96, 5, 10);
  ASSERT_OK(sheet.status());
  ASSERT_LE(sheet->tiles.size(), 10u);
  ASSERT_GE(sheet->tiles.size(), 9u);
  EXPECT_EQ(sheet->tile_height, 54);
  EXPECT_NEAR(sheet->tiles.back().end_s, 24.02, 0.05);
  for (size_t i = 1; i < sheet->tiles.size(); ++i) {
    EXPECT_NEAR(sheet->tiles[i].start_s, sheet->tiles[i - 1].end_s, 1e-9);
  }
  // An interval that would need too many tiles grows to cover the video.
  auto capped = MakeSpriteSheet(TestMedia("small.mp4"), 0.1, 64, 10, 8);
  ASSERT_OK(capped.status());
  ASSERT_EQ(capped->tiles.size(), 8u);
  EXPECT_NEAR(capped->tiles[1].start_s, 0.5, 0.01);
  EXPECT_NEAR(capped->tiles.back().end_s, 4.0, 0.05);

  EXPECT_TRUE(MakeSpriteSheet(TestMedia("small.mp4"), -1).status().IsInvalidArgument());
  EXPECT_TRUE(MakeSpriteSheet(TestMedia("small.mp4"), 1, 4).status().IsInvalidArgument());
}

}  // namespace
}  // namespace cutroom::media
