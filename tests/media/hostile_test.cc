// Files made to break the decoding layer: every entry point must answer
// with an error (or a clean, bounded result), never crash, hang or leak.
// CI runs this under AddressSanitizer.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <array>
#include <cstring>

#include "core/subprocess.h"
#include "media/audio.h"
#include "media/decoder.h"
#include "media/probe.h"
#include "media/thumbnails.h"
#include "support/test_support.h"

namespace cutroom::media {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TempDir;
using cutroom::testing::TestMedia;
using cutroom::testing::WriteFile;

uint32_t Crc32(const std::string& bytes) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string Le32(uint32_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
}
std::string Le16(uint16_t v) { return {static_cast<char>(v), static_cast<char>(v >> 8)}; }

std::string PngChunk(const std::string& type, const std::string& data) {
  return Be32(static_cast<uint32_t>(data.size())) + type + data + Be32(Crc32(type + data));
}

// A well-formed PNG header declaring width x height RGB, with a token IDAT.
std::string PngDeclaring(uint32_t width, uint32_t height) {
  std::string ihdr = Be32(width) + Be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
  std::string idat("\x78\x9c\x63\x60\x00\x00\x00\x02\x00\x01", 10);
  return std::string("\x89PNG\r\n\x1a\n", 8) + PngChunk("IHDR", ihdr) + PngChunk("IDAT", idat) +
         PngChunk("IEND", "");
}

// A 24-bit BMP header declaring width x height, followed by a few pixels.
std::string BmpDeclaring(uint32_t width, uint32_t height) {
  std::string pixels(64, '\x7f');
  std::string dib = Le32(40) + Le32(width) + Le32(height) + Le16(1) + Le16(24) + Le32(0) +
                    Le32(static_cast<uint32_t>(pixels.size())) + Le32(2835) + Le32(2835) + Le32(0) + Le32(0);
  std::string file_header = "BM" + Le32(static_cast<uint32_t>(14 + dib.size() + pixels.size())) + Le32(0) +
                            Le32(static_cast<uint32_t>(14 + dib.size()));
  return file_header + dib + pixels;
}

std::string Noise(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    s[i] = static_cast<char>(seed >> 24);
  }
  return s;
}

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

class Hostile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string small = ReadFile(TestMedia("small.mp4"));
    ASSERT_FALSE(small.empty()) << "run tests/support/make_test_media.sh first";
    // small.mp4 keeps its index at the end: a cut copy has none.
    WriteFile(File("truncated.mp4"), small.substr(0, small.size() / 3));
    WriteFile(File("empty.mp4"), "");
    WriteFile(File("text.mp4"), "this is not a video, whatever its name says\n");
    WriteFile(File("noise.mp4"), Noise(256 * 1024, 7));
    WriteFile(File("huge.png"), PngDeclaring(100000, 100000));
    WriteFile(File("big.png"), PngDeclaring(20000, 20000));  // allocatable by libav, over cutroom's limit
    WriteFile(File("huge.bmp"), BmpDeclaring(100000, 100000));

    // With the index first, the header is intact and the payload can be
    // garbage, or missing.
    ASSERT_OK(RunProcess({"ffmpeg", "-nostdin", "-v", "error", "-y", "-i", TestMedia("small.mp4"), "-c", "copy",
                          "-movflags", "+faststart", File("faststart.mp4")}));
    std::string fast = ReadFile(File("faststart.mp4"));
    size_t mdat = fast.find("mdat");
    ASSERT_NE(mdat, std::string::npos);
    ASSERT_LT(fast.find("moov"), mdat);
    std::string garbage = fast.substr(0, mdat + 4) + Noise(fast.size() - mdat - 4, 11);
    WriteFile(File("garbage_payload.mp4"), garbage);
    WriteFile(File("truncated_payload.mp4"), fast.substr(0, mdat + (fast.size() - mdat) / 2));

    // A codec libavformat names but nothing decodes: an AVI whose fourcc
    // was rewritten, and a WAV with an unknown format tag.
    ASSERT_OK(RunProcess({"ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                          "testsrc2=size=64x48:rate=5", "-t", "1", "-c:v", "mjpeg", "-f", "avi", File("mjpeg.avi")}));
    std::string avi = ReadFile(File("mjpeg.avi"));
    ReplaceAll(avi, "MJPG", "QZQZ");
    ReplaceAll(avi, "mjpg", "qzqz");
    WriteFile(File("unknown_codec.avi"), avi);
    std::string wav = ReadFile(TestMedia("tone.wav"));
    size_t fmt = wav.find("fmt ");
    ASSERT_NE(fmt, std::string::npos);
    wav[fmt + 8] = '\x34';
    wav[fmt + 9] = '\x77';
    WriteFile(File("unknown_codec.wav"), wav);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string File(const std::string& name) { return dir_->File(name); }

  // Runs every entry point on path; each must fail or return something
  // bounded. Returns the Open status.
  static Status Everything(const std::string& path) {
    auto dec = VideoDecoder::Open(path, {});
    if (dec.ok()) {
      VideoFrame f;
      for (int i = 0; i < 1000; ++i) {
        auto more = (*dec)->Next(f);
        if (!more.ok() || !*more) break;
      }
      for (double t : {0.0, 1.7, 3.9, 100.0}) (*dec)->FrameAt(t).status().IgnoreError();
    }
    ReadAudio16kMono(path).status().IgnoreError();
    MakePoster(path).status().IgnoreError();
    MakeSpriteSheet(path, 1.0, 64).status().IgnoreError();
    return dec.status();
  }

  static TempDir* dir_;
};
TempDir* Hostile::dir_ = nullptr;

TEST_F(Hostile, NonMediaIsInvalidArgumentEverywhere) {
  for (const char* name : {"truncated.mp4", "empty.mp4", "text.mp4", "noise.mp4"}) {
    SCOPED_TRACE(name);
    std::string path = File(name);
    EXPECT_TRUE(VideoDecoder::Open(path, {}).status().IsInvalidArgument())
        << VideoDecoder::Open(path, {}).status().ToString();
    EXPECT_TRUE(ReadAudio16kMono(path).status().IsInvalidArgument());
    EXPECT_TRUE(MakePoster(path).status().IsInvalidArgument());
    EXPECT_TRUE(MakeSpriteSheet(path).status().IsInvalidArgument());
  }
}

TEST_F(Hostile, HugeDeclaredDimensionsAreRefusedBeforeDecoding) {
  for (const char* name : {"huge.png", "big.png", "huge.bmp"}) {
    SCOPED_TRACE(name);
    std::string path = File(name);
    auto dec = VideoDecoder::Open(path, {});
    EXPECT_FALSE(dec.ok());
    EXPECT_TRUE(dec.status().IsInvalidArgument()) << dec.status().ToString();
    EXPECT_FALSE(MakePoster(path).ok());
    EXPECT_FALSE(ReadAudio16kMono(path).ok());
  }
  // A stricter limit of the caller's own applies the same way.
  DecodeOptions strict;
  strict.max_pixels = 320 * 179;
  EXPECT_TRUE(VideoDecoder::Open(TestMedia("small.mp4"), strict).status().IsInvalidArgument());
}

TEST_F(Hostile, GarbageBehindAValidHeaderIsCorruptData) {
  std::string path = File("garbage_payload.mp4");
  auto dec = VideoDecoder::Open(path, {});
  if (dec.ok()) {
    VideoFrame f;
    Status st;
    int frames = 0;
    for (int i = 0; i < 1000; ++i) {
      auto more = (*dec)->Next(f);
      if (!more.ok()) {
        st = more.status();
        break;
      }
      if (!*more) break;
      ++frames;
    }
    EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString() << " after " << frames << " frames";
    EXPECT_FALSE((*dec)->FrameAt(2.0).ok());
  }
  EXPECT_FALSE(ReadAudio16kMono(path).ok());
  EXPECT_FALSE(MakePoster(path).ok());
  EXPECT_FALSE(MakeSpriteSheet(path).ok());
}

TEST_F(Hostile, APayloadCutShortEndsEarlyWithoutCrashing) {
  std::string path = File("truncated_payload.mp4");
  auto dec = VideoDecoder::Open(path, {});
  if (!dec.ok()) {
    EXPECT_TRUE(dec.status().IsInvalidArgument()) << dec.status().ToString();
    return;
  }
  VideoFrame f;
  int frames = 0;
  Status st;
  for (int i = 0; i < 1000; ++i) {
    auto more = (*dec)->Next(f);
    if (!more.ok()) {
      st = more.status();
      break;
    }
    if (!*more) break;
    ++frames;
  }
  EXPECT_LT(frames, 100) << "the cut file cannot hold every frame";
  auto late = (*dec)->FrameAt(3.9);
  if (late.ok()) {
    EXPECT_LT(late->pts_s, 3.5);
  }
  Everything(path).IgnoreError();
}

TEST_F(Hostile, AudioOnlyAndStillFilesAnswerWhatTheyLack) {
  std::string wav = TestMedia("tone.wav");
  EXPECT_TRUE(VideoDecoder::Open(wav, {}).status().IsNotFound());
  EXPECT_TRUE(MakePoster(wav).status().IsNotFound());
  EXPECT_TRUE(MakeSpriteSheet(wav).status().IsNotFound());
  EXPECT_OK(ReadAudio16kMono(wav).status());

  std::string png = TestMedia("still.png");
  EXPECT_TRUE(ReadAudio16kMono(png).status().IsNotFound());
  EXPECT_TRUE(MakeSpriteSheet(png).status().IsInvalidArgument());
  EXPECT_OK(MakePoster(png).status());
}

TEST_F(Hostile, UndecodableCodecsAreNotSupported) {
  auto avi = VideoDecoder::Open(File("unknown_codec.avi"), {});
  EXPECT_FALSE(avi.ok());
  EXPECT_EQ(avi.status().code(), StatusCode::kNotSupported) << avi.status().ToString();
  EXPECT_FALSE(MakePoster(File("unknown_codec.avi")).ok());
  Status wav = ExtractAudio(File("unknown_codec.wav"), 16000, [](const int16_t*, size_t) { return Status::Ok(); });
  EXPECT_EQ(wav.code(), StatusCode::kNotSupported) << wav.ToString();
}

// A WAV whose LIST chunk claims almost 4 GB, so libavformat's INFO reader
// takes the "data" chunk after it for a 1.9 GB INFO entry and allocates it
// (and zeroes it) before reading. 88 bytes on disk.
std::string WavWithAHugeInfoEntry() {
  std::string fmt = Le16(1) + Le16(1) + Le32(8000) + Le32(16000) + Le16(2) + Le16(16);
  std::string list = "INFO" + std::string("ISFT") + Le32(14) + std::string("Lavf59.27.100\0", 14);
  std::string body = "WAVE" + std::string("fmt ") + Le32(16) + fmt + "LIST" + Le32(0xF600001Au) + list + "data" +
                     Le32(0x74000320u) + std::string("tt\xf0:\xf0P\xf2\xad\xf5\xd7\xfa", 12);
  return "RIFF" + Le32(static_cast<uint32_t>(body.size())) + body;
}

int64_t PeakRssKiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST_F(Hostile, AHeaderThatDeclaresGigabytesDoesNotMakeLibavAllocateThem) {
  // Found by the media_probe fuzz target: without a cap on libav's
  // allocations each probe of this file committed 1.9 GB.
  std::string path = File("huge_info.wav");
  WriteFile(path, WavWithAHugeInfoEntry());
  int64_t before = PeakRssKiB();
  ProbeMedia(path).status().IgnoreError();
  Everything(path).IgnoreError();
  EXPECT_LT(PeakRssKiB() - before, 300 * 1024) << "peak RSS grew by " << (PeakRssKiB() - before) / 1024 << " MiB";
}

TEST_F(Hostile, EveryEntryPointSurvivesTheWholeCorpus) {
  for (const char* name : {"truncated.mp4", "empty.mp4", "text.mp4", "noise.mp4", "huge.png", "big.png", "huge.bmp",
                           "garbage_payload.mp4", "truncated_payload.mp4", "unknown_codec.avi",
                           "unknown_codec.wav", "missing.mp4"}) {
    SCOPED_TRACE(name);
    Everything(File(name)).IgnoreError();
  }
}

}  // namespace
}  // namespace cutroom::media
