#include "media/probe.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/subprocess.h"
#include "support/test_support.h"

namespace cutroom::media {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TempDir;
using cutroom::testing::WriteFile;

TEST(Probe, ReadsDimensionsRateAndCodecsOfCounter) {
  REQUIRE_SHARED_DATA(path, "video/counter.mp4");
  auto p = ProbeMedia(path);
  ASSERT_OK(p.status());
  EXPECT_EQ(p->media_type, "video");
  EXPECT_EQ(p->mime_type, "video/mp4");
  EXPECT_EQ(p->container, "mp4");
  EXPECT_EQ(*p->width, 1920);
  EXPECT_EQ(*p->height, 1080);
  EXPECT_NEAR(*p->fps, 10.0, 1e-6);
  EXPECT_NEAR(*p->duration_s, 3.0, 0.05);
  EXPECT_EQ(*p->video_codec, "h264");
  EXPECT_FALSE(p->audio_codec.has_value());
  EXPECT_FALSE(p->variable_frame_rate);
}

TEST(Probe, AppliesRotationToDisplayDimensions) {
  REQUIRE_SHARED_DATA(path, "video/issue-134-rotate.mp4");
  auto p = ProbeMedia(path);
  ASSERT_OK(p.status());
  EXPECT_EQ(p->rotation % 180, 90);
  EXPECT_EQ(*p->width, 544);
  EXPECT_EQ(*p->height, 1280);
  EXPECT_EQ(*p->coded_width, 1280);
  EXPECT_EQ(*p->audio_codec, "aac");
  EXPECT_NEAR(*p->fps, 24000.0 / 1001, 1e-3);
}

TEST(Probe, AppliesSampleAspectRatio) {
  REQUIRE_SHARED_DATA(path, "video/issue-195-aspect-ratio.mp4");
  auto p = ProbeMedia(path);
  ASSERT_OK(p.status());
  EXPECT_EQ(*p->coded_width, 704);
  EXPECT_EQ(*p->height, 576);
  EXPECT_NE(*p->width, 704);  // non-square pixels
  EXPECT_NEAR(*p->fps, 25.0, 1e-6);
}

TEST(Probe, RecognisesVariableFrameRate) {
  REQUIRE_SHARED_DATA(path, "video/goldeneye-vfr-drop3.mp4");
  auto p = ProbeMedia(path);
  ASSERT_OK(p.status());
  EXPECT_TRUE(p->variable_frame_rate);
}

TEST(Probe, DetectsAudioAndImagesByContent) {
  REQUIRE_SHARED_DATA(wav, "speech/jfk.wav");
  auto a = ProbeMedia(wav);
  ASSERT_OK(a.status());
  EXPECT_EQ(a->media_type, "audio");
  EXPECT_EQ(a->mime_type, "audio/wav");
  EXPECT_NEAR(*a->duration_s, 11.0, 0.1);
  EXPECT_EQ(*a->audio_sample_rate, 16000);

  std::string jpg = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";
  REQUIRE_FILE(jpg, "Debian package opencv-doc");
  TempDir dir;
  // A misleading name: the content decides.
  std::string disguised = dir.File("holiday.mp4");
  WriteFile(disguised, ReadFile(jpg));
  auto img = ProbeMedia(disguised);
  ASSERT_OK(img.status());
  EXPECT_EQ(img->media_type, "image");
  EXPECT_EQ(img->mime_type, "image/jpeg");
  EXPECT_FALSE(img->duration_s.has_value());
}

TEST(Probe, RefusesNonMediaGarbageAndEmptyFiles) {
  TempDir dir;
  WriteFile(dir.File("empty.mp4"), "");
  WriteFile(dir.File("notes.txt"), "just some text, not a video at all\n");
  std::string garbage(64 * 1024, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 2654435761u) >> 13);
  WriteFile(dir.File("garbage.bin"), garbage);
  // An HLS playlist would make a permissive demuxer open other files.
  WriteFile(dir.File("list.m3u8"), "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n");
  for (const char* name : {"empty.mp4", "notes.txt", "garbage.bin", "list.m3u8"}) {
    auto p = ProbeMedia(dir.File(name));
    EXPECT_TRUE(p.status().IsInvalidArgument()) << name << ": " << p.status().ToString();
  }
  EXPECT_TRUE(ProbeMedia(dir.File("missing.mp4")).status().IsNotFound());
}

TEST(Probe, RefusesATruncatedMp4) {
  REQUIRE_SHARED_DATA(path, "video/counter.mp4");
  TempDir dir;
  std::string bytes = ReadFile(path);
  WriteFile(dir.File("cut.mp4"), bytes.substr(0, bytes.size() / 3));
  auto p = ProbeMedia(dir.File("cut.mp4"));
  // counter.mp4 keeps its index at the end: a truncated copy has no moov.
  EXPECT_FALSE(p.ok());
}

}  // namespace
}  // namespace cutroom::media
