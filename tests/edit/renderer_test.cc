#include "edit/render/renderer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>

#include "core/subprocess.h"
#include "edit/render/ass_captions.h"
#include "media/audio.h"
#include "media/decoder.h"
#include "media/probe.h"
#include "support/test_support.h"

namespace cutroom::edit {
namespace {

namespace fs = std::filesystem;
using cutroom::testing::TempDir;
using cutroom::testing::TestMedia;
using ::testing::HasSubstr;

constexpr double kFrame = 1.0 / 25;  // every source here is 25 fps

// Sources the tests make with ffmpeg's lavfi generators, once for the suite.
class RenderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    // 320x192: every size derived from it (192x320, 96x160) has rows of
    // whole 16-byte multiples in RGB, see DecodeAll.
    const std::string quadrants =
        "color=c=red:s=320x192:r=25:d=2,drawbox=x=160:y=0:w=160:h=96:color=lime:t=fill,"
        "drawbox=x=0:y=96:w=160:h=96:color=blue:t=fill,drawbox=x=160:y=96:w=160:h=96:color=white:t=fill";
    // A white flash and a 1 kHz beep together at 1.0-1.2 s and 3.0-3.2 s.
    Make("marker.mp4",
         {"-f", "lavfi", "-i",
          "color=c=black:s=160x90:r=25:d=4,drawbox=x=0:y=0:w=160:h=90:color=white:t=fill:"
          "enable='between(t,1,1.19)+between(t,3,3.19)'",
          "-f", "lavfi", "-i", "aevalsrc='if(between(t,1,1.2)+between(t,3,3.2),0.5*sin(2*PI*1000*t),0)':s=48000:d=4",
          "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k"});
    // The same with its audio track starting 0.2 s late: each beep 0.2 s
    // after its flash.
    Make("marker-late-audio.mp4", {"-i", Source("marker.mp4"), "-itsoffset", "0.2", "-i", Source("marker.mp4"), "-map",
                                   "0:v", "-map", "1:a", "-c", "copy"});
    // Green on the left 80 px, red on the right 80 px, blue between; no audio.
    Make("bands.mp4", {"-f", "lavfi", "-i",
                       "color=c=blue:s=320x180:r=25:d=3,drawbox=x=0:y=0:w=80:h=180:color=lime:t=fill,"
                       "drawbox=x=240:y=0:w=80:h=180:color=red:t=fill",
                       "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-pix_fmt", "yuv420p"});
    Make("gray.mp4", {"-f", "lavfi", "-i", "color=c=gray:s=320x180:r=25:d=3", "-f", "lavfi", "-i",
                      "sine=frequency=300:sample_rate=48000:d=3", "-c:v", "libx264", "-preset", "veryfast",
                      "-pix_fmt", "yuv420p", "-c:a", "aac"});
    // Vertical black and white stripes 8 px wide: sharp everywhere, a flat
    // gray once blurred.
    Make("stripes.mp4", {"-f", "lavfi", "-i", "color=c=white:s=320x180:r=25:d=2,drawgrid=w=16:h=180:t=8:c=black",
                         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"});
    Make("quadrants.mp4", {"-f", "lavfi", "-i", quadrants, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt",
                           "yuv420p"});
    // A quiet tone (about -35 LUFS) swelling slowly, and the same with a
    // loud click each second: its true peaks keep loudnorm from simply
    // raising the gain.
    const std::string tone = "0.018*(1+0.5*sin(2*PI*0.7*t))*sin(2*PI*440*t)";
    const std::string clicks = tone + "+0.2*lt(mod(t,1),0.001)";
    for (const auto& [name, expr] : {std::pair{"quiet.mp4", tone}, std::pair{"quiet-clicks.mp4", clicks}}) {
      Make(name, {"-f", "lavfi", "-i", "color=c=gray:s=160x90:r=25:d=6", "-f", "lavfi", "-i",
                  "aevalsrc='" + expr + "|" + expr + "':s=48000:d=6", "-c:v", "libx264", "-preset", "veryfast",
                  "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k"});
    }
    for (int r : {90, 180, 270}) {
      // The display matrix comes from the "rotate" tag, written when remuxing.
      Make("rot" + std::to_string(r) + ".mp4",
           {"-i", Source("quadrants.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=" + std::to_string(r)});
    }
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static void Make(const std::string& name, std::vector<std::string> args) {
    std::vector<std::string> argv = {"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(Source(name));
    std::string output;
    Status st = RunProcess(argv, &output);
    ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << output;
  }
  static std::string Source(const std::string& name) { return dir_->File(name); }

  std::string Out(const std::string& name) const { return out_.File(name); }
  size_t FilesInOut() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(out_.path()), fs::directory_iterator()));
  }

  static std::unique_ptr<TempDir> dir_;
  TempDir out_;
};
std::unique_ptr<TempDir> RenderTest::dir_;

RenderSpec Spec(const std::string& source, std::vector<TimeRange> ranges) {
  RenderSpec spec;
  spec.source_path = source;
  spec.ranges = std::move(ranges);
  spec.preset = "ultrafast";
  spec.threads = 2;
  return spec;
}

// Every frame of a file, upright. The sizes decoded here keep RGB rows at
// multiples of 16 bytes: media::VideoDecoder's conversion writes past the
// end of rows that are not (valgrind: 90x160 RGB24), which is reported to
// the media owners rather than worked around inside the decoder's tests.
std::vector<media::VideoFrame> DecodeAll(const std::string& path, media::PixelFormat format) {
  media::DecodeOptions options;
  options.format = format;
  auto decoder = media::VideoDecoder::Open(path, options);
  EXPECT_TRUE(decoder.ok()) << decoder.status().ToString();
  std::vector<media::VideoFrame> frames;
  if (!decoder.ok()) return frames;
  media::VideoFrame frame;
  while (true) {
    auto got = (*decoder)->Next(frame);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok() || !*got) break;
    frames.push_back(frame);
  }
  return frames;
}

// The frame on screen at t.
const media::VideoFrame& At(const std::vector<media::VideoFrame>& frames, double t) {
  size_t best = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].pts_s <= t + 1e-6) best = i;
  }
  return frames[best];
}

// Mean of each channel over a rectangle.
std::vector<double> Mean(const media::VideoFrame& f, int x0, int y0, int x1, int y1) {
  const int ch = media::ChannelsOf(f.format);
  std::vector<double> sum(ch, 0);
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      for (int c = 0; c < ch; ++c) sum[c] += f.pixels[(static_cast<size_t>(y) * f.width + x) * ch + c];
    }
  }
  for (double& s : sum) s /= static_cast<double>(x1 - x0) * (y1 - y0);
  return sum;
}

// Pixels of a rectangle that differ by more than `by` in any channel.
int Differing(const media::VideoFrame& a, const media::VideoFrame& b, int x0, int y0, int x1, int y1, int by) {
  const int ch = media::ChannelsOf(a.format);
  int n = 0;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      for (int c = 0; c < ch; ++c) {
        const size_t i = (static_cast<size_t>(y) * a.width + x) * ch + c;
        if (std::abs(a.pixels[i] - b.pixels[i]) > by) {
          ++n;
          break;
        }
      }
    }
  }
  return n;
}

double LastFrameEnd(const std::vector<media::VideoFrame>& frames) {
  return frames.empty() ? 0 : frames.back().pts_s;
}

TEST_F(RenderTest, CropsAndScalesOneRangeToPortrait) {
  RenderSpec spec = Spec(TestMedia("small.mp4"), {{0.5, 2.5}});
  spec.crop_width = 100;
  spec.crop_height = 178;
  spec.out_width = 180;
  spec.out_height = 320;
  auto result = Render(spec, Out("clip.mp4"));
  ASSERT_OK(result.status());
  EXPECT_EQ(result->width, 180);
  EXPECT_EQ(result->height, 320);
  EXPECT_TRUE(result->has_audio);
  EXPECT_NEAR(result->duration_s, 2.0, kFrame);
  EXPECT_NEAR(static_cast<double>(result->video_frames), 2.0 / kFrame, 1.5);

  auto probe = media::ProbeMedia(Out("clip.mp4"));
  ASSERT_OK(probe.status());
  EXPECT_EQ(probe->container, "mp4");
  EXPECT_EQ(probe->video_codec.value_or(""), "h264");
  EXPECT_EQ(probe->audio_codec.value_or(""), "aac");
  EXPECT_EQ(probe->width.value_or(0), 180);
  EXPECT_EQ(probe->height.value_or(0), 320);
  EXPECT_NEAR(probe->duration_s.value_or(0), 2.0, kFrame);
  const auto frames = DecodeAll(Out("clip.mp4"), media::PixelFormat::kGray8);
  ASSERT_FALSE(frames.empty());
  EXPECT_NEAR(frames.front().pts_s, 0.0, 1e-6);
  EXPECT_NEAR(LastFrameEnd(frames), 2.0 - kFrame, kFrame);
  // Nothing but the output: the temporary file was renamed.
  EXPECT_EQ(FilesInOut(), 1u);
}

TEST_F(RenderTest, JoinsRangesIntoTheSumOfTheirDurations) {
  auto result = Render(Spec(TestMedia("small.mp4"), {{2.0, 3.1}, {0.3, 1.3}}), Out("joined.mp4"));
  ASSERT_OK(result.status());
  EXPECT_NEAR(result->duration_s, 2.1, 1e-3);
  EXPECT_EQ(result->width, 320);
  EXPECT_EQ(result->height, 180);
  const auto frames = DecodeAll(Out("joined.mp4"), media::PixelFormat::kGray8);
  ASSERT_FALSE(frames.empty());
  // Timestamps run on across the join: no gap, no overlap.
  for (size_t i = 1; i < frames.size(); ++i) {
    EXPECT_GT(frames[i].pts_s, frames[i - 1].pts_s);
    EXPECT_LE(frames[i].pts_s - frames[i - 1].pts_s, kFrame + 1e-3);
  }
  EXPECT_NEAR(LastFrameEnd(frames) + kFrame, 2.1, kFrame);
  // The audio track lasts as long, to within an AAC frame's rounding.
  auto audio = media::ReadAudio16kMono(Out("joined.mp4"));
  ASSERT_OK(audio.status());
  EXPECT_NEAR(static_cast<double>(audio->size()) / 16000, 2.1, 0.03);
  // The second range starts with the source's picture at 0.3 s.
  const auto source = DecodeAll(TestMedia("small.mp4"), media::PixelFormat::kGray8);
  EXPECT_EQ(Differing(At(frames, 1.1 + 0.001), At(source, 0.3), 0, 0, 320, 180, 40), 0);
  EXPECT_GT(Differing(At(frames, 1.1 + 0.001), At(source, 2.0), 0, 0, 320, 180, 40), 100);
}

// First instant of the flash (mean brightness over half) and of the beep
// (amplitude over a quarter of full scale) after `from` seconds.
double FlashAt(const std::vector<media::VideoFrame>& frames, double from) {
  for (const auto& f : frames) {
    if (f.pts_s >= from && Mean(f, 0, 0, f.width, f.height)[0] > 128) return f.pts_s;
  }
  return -1;
}
double BeepAt(const std::vector<int16_t>& samples, double from) {
  for (size_t i = static_cast<size_t>(from * 16000); i < samples.size(); ++i) {
    if (std::abs(samples[i]) > 8000) return static_cast<double>(i) / 16000;
  }
  return -1;
}

TEST_F(RenderTest, KeepsAudioInSyncWithVideoAcrossJoins) {
  // Ranges starting between frames; the flashes and beeps at 1 s and 3 s
  // land at 0.38 s and 0.88 + 0.3 = 1.18 s of the output.
  auto result = Render(Spec(Source("marker.mp4"), {{0.62, 1.5}, {2.7, 3.5}}), Out("sync.mp4"));
  ASSERT_OK(result.status());
  const auto frames = DecodeAll(Out("sync.mp4"), media::PixelFormat::kGray8);
  auto audio = media::ReadAudio16kMono(Out("sync.mp4"));
  ASSERT_OK(audio.status());
  for (double expected : {0.38, 1.18}) {
    const double flash = FlashAt(frames, expected - 0.2);
    const double beep = BeepAt(*audio, expected - 0.2);
    EXPECT_NEAR(flash, expected, 0.005) << "flash near " << expected;
    EXPECT_NEAR(beep, expected, kFrame) << "beep near " << expected;
    EXPECT_NEAR(beep, flash, kFrame) << "at " << expected;
  }
}

double Rms(const std::vector<int16_t>& s, double from, double to) {
  double sum = 0;
  size_t n = 0;
  for (size_t i = static_cast<size_t>(from * 16000); i < static_cast<size_t>(to * 16000) && i < s.size(); ++i, ++n) {
    sum += static_cast<double>(s[i]) * s[i];
  }
  return n ? std::sqrt(sum / static_cast<double>(n)) : 0;
}

TEST_F(RenderTest, FadesTheAudioWhereRangesMeet) {
  // small.mp4's 440 Hz tone, cut mid-wave and joined at 1.0 s of the
  // output: the join dips to silence instead of stepping; ranges that
  // continue each other in the source join without a dip.
  ASSERT_OK(Render(Spec(TestMedia("small.mp4"), {{0.5, 1.5}, {2.3011, 3.3}}), Out("cut.mp4")).status());
  auto cut = media::ReadAudio16kMono(Out("cut.mp4"));
  ASSERT_OK(cut.status());
  const double steady = Rms(*cut, 0.4, 0.9);
  ASSERT_GT(steady, 1000);
  EXPECT_LT(Rms(*cut, 0.999, 1.001), 0.3 * steady);
  EXPECT_LT(Rms(*cut, 0.0, 0.002), 0.3 * steady);  // the clip fades in too

  ASSERT_OK(Render(Spec(TestMedia("small.mp4"), {{0.5, 1.5}, {1.5, 2.5}}), Out("seamless.mp4")).status());
  auto seamless = media::ReadAudio16kMono(Out("seamless.mp4"));
  ASSERT_OK(seamless.status());
  EXPECT_GT(Rms(*seamless, 0.995, 1.005), 0.8 * Rms(*seamless, 0.4, 0.9));
}

TEST_F(RenderTest, KeepsTheSourcesOwnAudioOffset) {
  // Source times are on the container's clock: audio that starts late in
  // the source stays late by as much in the render.
  ASSERT_OK(Render(Spec(Source("marker-late-audio.mp4"), {{0.62, 1.5}, {2.7, 3.5}}), Out("late.mp4")).status());
  const auto frames = DecodeAll(Out("late.mp4"), media::PixelFormat::kGray8);
  auto audio = media::ReadAudio16kMono(Out("late.mp4"));
  ASSERT_OK(audio.status());
  EXPECT_NEAR(FlashAt(frames, 0.2), 0.38, 0.005);
  EXPECT_NEAR(BeepAt(*audio, 0.2), 0.58, kFrame);
  EXPECT_NEAR(FlashAt(frames, 1.0), 1.18, 0.005);
  EXPECT_NEAR(BeepAt(*audio, 1.25), 1.38, kFrame);
  EXPECT_NEAR(static_cast<double>(audio->size()) / 16000, 1.68, 0.03);
}

TEST_F(RenderTest, KeepsSyncAcrossJumpCutsCloseTogether) {
  // Gaps of 50 ms: decoding simply goes on from one range to the next
  // instead of seeking. Flashes at 1 s and 3 s land at 0.28 + 0.05 = 0.33 s
  // and 0.28 + 0.55 + 0.2 + 0.05 = 1.08 s.
  const std::vector<TimeRange> ranges = {{0.62, 0.9}, {0.95, 1.5}, {2.7, 2.9}, {2.95, 3.5}};
  auto result = Render(Spec(Source("marker.mp4"), ranges), Out("cuts.mp4"));
  ASSERT_OK(result.status());
  EXPECT_NEAR(result->duration_s, 1.58, 1e-3);
  const auto frames = DecodeAll(Out("cuts.mp4"), media::PixelFormat::kGray8);
  auto audio = media::ReadAudio16kMono(Out("cuts.mp4"));
  ASSERT_OK(audio.status());
  EXPECT_NEAR(static_cast<double>(audio->size()) / 16000, 1.58, 0.03);
  for (double expected : {0.33, 1.08}) {
    const double flash = FlashAt(frames, expected - 0.2);
    EXPECT_NEAR(flash, expected, 0.005) << "flash near " << expected;
    EXPECT_NEAR(BeepAt(*audio, expected - 0.2), expected, kFrame) << "beep near " << expected;
  }
  // Each range starts with the picture on screen at its source start.
  const auto small = TestMedia("small.mp4");
  const std::vector<TimeRange> moving = {{0.5, 0.9}, {1.02, 1.4}, {1.5, 2.2}};
  ASSERT_OK(Render(Spec(small, moving), Out("moving.mp4")).status());
  const auto source = DecodeAll(small, media::PixelFormat::kGray8);
  const auto rendered = DecodeAll(Out("moving.mp4"), media::PixelFormat::kGray8);
  double out = 0;
  for (const TimeRange& r : moving) {
    const int right = Differing(At(rendered, out + 0.001), At(source, r.start_s), 0, 0, 320, 180, 48);
    const int wrong = Differing(At(rendered, out + 0.001), At(source, r.start_s + 2 * kFrame), 0, 0, 320, 180, 48);
    EXPECT_LT(right, 200) << "range at " << r.start_s;
    EXPECT_GT(wrong, right + 200) << "range at " << r.start_s;
    out += r.end_s - r.start_s;
  }
}

TEST_F(RenderTest, BurnsCaptionsInOnlyWhileAWordIsOn) {
  CaptionStyle style = DefaultCaptionStyle(320, 180);
  style.size = 40;
  style.margin = 10;
  const std::string ass = Out("captions.ass");
  cutroom::testing::WriteFile(ass, BuildAssCaptions({{"HELLO", 1.0, 1.8, 1}}, {{0, 3}}, style, 320, 180));
  RenderSpec plain = Spec(Source("gray.mp4"), {{0, 3}});
  plain.crf = 12;
  RenderSpec captioned = plain;
  captioned.ass_path = ass;
  ASSERT_OK(Render(plain, Out("plain.mp4")).status());
  ASSERT_OK(Render(captioned, Out("captioned.mp4")).status());
  const auto a = DecodeAll(Out("plain.mp4"), media::PixelFormat::kRgb24);
  const auto b = DecodeAll(Out("captioned.mp4"), media::PixelFormat::kRgb24);
  ASSERT_EQ(a.size(), b.size());
  // The lower half, where bottom captions go.
  auto differing = [&](double t) { return Differing(At(a, t), At(b, t), 0, 90, 320, 180, 40); };
  EXPECT_EQ(differing(0.5), 0);
  EXPECT_GT(differing(1.4), 300);
  EXPECT_EQ(differing(2.6), 0);  // after the word and its short linger
  // The upper half never changes.
  EXPECT_EQ(Differing(At(a, 1.4), At(b, 1.4), 0, 0, 320, 60, 40), 0);
}

TEST_F(RenderTest, DrawsOverrideTagsInWordsAsText) {
  // Unescaped, "{\an8}" would move the caption to the top of the frame.
  CaptionStyle style = DefaultCaptionStyle(320, 180);
  style.size = 30;
  style.margin = 10;
  const std::string ass = Out("tags.ass");
  cutroom::testing::WriteFile(ass, BuildAssCaptions({{"{\\an8}HI", 0.2, 1.5, 1}}, {{0, 2}}, style, 320, 180));
  RenderSpec plain = Spec(Source("gray.mp4"), {{0, 2}});
  plain.crf = 12;
  RenderSpec captioned = plain;
  captioned.ass_path = ass;
  ASSERT_OK(Render(plain, Out("plain.mp4")).status());
  ASSERT_OK(Render(captioned, Out("tags.mp4")).status());
  const auto a = DecodeAll(Out("plain.mp4"), media::PixelFormat::kRgb24);
  const auto b = DecodeAll(Out("tags.mp4"), media::PixelFormat::kRgb24);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(Differing(At(a, 1.0), At(b, 1.0), 0, 0, 320, 60, 40), 0);
  EXPECT_GT(Differing(At(a, 1.0), At(b, 1.0), 0, 120, 320, 180, 40), 300);  // the whole text, braces included
}

TEST_F(RenderTest, BurnsATitleInOverTheOpeningSeconds) {
  CaptionStyle style = DefaultCaptionStyle(320, 180);
  const std::string ass = Out("title.ass");
  cutroom::testing::WriteFile(ass, BuildAssCaptions({}, {{0, 3}}, style, 320, 180, AssTitle{"A TITLE ON TOP", 1.5}));
  RenderSpec plain = Spec(Source("gray.mp4"), {{0, 3}});
  plain.crf = 12;
  RenderSpec titled = plain;
  titled.ass_path = ass;
  ASSERT_OK(Render(plain, Out("plain.mp4")).status());
  ASSERT_OK(Render(titled, Out("titled.mp4")).status());
  const auto a = DecodeAll(Out("plain.mp4"), media::PixelFormat::kRgb24);
  const auto b = DecodeAll(Out("titled.mp4"), media::PixelFormat::kRgb24);
  ASSERT_EQ(a.size(), b.size());
  // The top third, where the title goes, while it is fully shown; the
  // bottom never changes.
  EXPECT_GT(Differing(At(a, 0.75), At(b, 0.75), 0, 0, 320, 60, 40), 300);
  EXPECT_EQ(Differing(At(a, 0.75), At(b, 0.75), 0, 90, 320, 180, 40), 0);
  // Fading in at the start, fully gone after 1.5 s.
  EXPECT_LT(Differing(At(a, 0.0), At(b, 0.0), 0, 0, 320, 60, 40), Differing(At(a, 0.75), At(b, 0.75), 0, 0, 320, 60, 40));
  EXPECT_EQ(Differing(At(a, 1.6), At(b, 1.6), 0, 0, 320, 180, 40), 0);
  EXPECT_EQ(Differing(At(a, 2.5), At(b, 2.5), 0, 0, 320, 180, 40), 0);
}

// Frequency of a steady tone from its zero crossings over [from, to).
double ToneHz(const std::vector<int16_t>& s, double from, double to) {
  int crossings = 0;
  const size_t a = static_cast<size_t>(from * 16000), b = std::min(s.size(), static_cast<size_t>(to * 16000));
  for (size_t i = a + 1; i < b; ++i) {
    if ((s[i - 1] < 0) != (s[i] < 0)) ++crossings;
  }
  return crossings / 2.0 / (to - from);
}

TEST_F(RenderTest, PlaysEachRangeAtItsSpeedWithSoundAndPictureTogether) {
  // 1 s at double speed (0.5 s of output), then 0.8 s at half speed
  // (1.6 s). The flashes and beeps at 1 s and 3 s of the source land at
  // (1.0 - 0.6) / 2 = 0.2 s and 0.5 + (3.0 - 2.8) / 0.5 = 0.9 s; the first
  // beep lasts 0.1 s, the second 0.4 s, both still at 1 kHz.
  const std::vector<TimeRange> ranges = {{0.6, 1.6, 2.0}, {2.8, 3.6, 0.5}};
  auto result = Render(Spec(Source("marker.mp4"), ranges), Out("speed.mp4"));
  ASSERT_OK(result.status());
  EXPECT_NEAR(result->duration_s, 2.1, 1e-3);
  // 25 frames a second for the first range (every other source frame),
  // each source frame twice as long in the second: 12.5 + 20.
  EXPECT_NEAR(static_cast<double>(result->video_frames), 32.5, 1.5);
  const auto frames = DecodeAll(Out("speed.mp4"), media::PixelFormat::kGray8);
  ASSERT_FALSE(frames.empty());
  for (size_t i = 1; i < frames.size(); ++i) {
    EXPECT_GT(frames[i].pts_s, frames[i - 1].pts_s);
    EXPECT_LE(frames[i].pts_s - frames[i - 1].pts_s, 2 * kFrame + 1e-3) << "at " << frames[i].pts_s;
  }
  EXPECT_NEAR(LastFrameEnd(frames) + 2 * kFrame, 2.1, kFrame);
  auto audio = media::ReadAudio16kMono(Out("speed.mp4"));
  ASSERT_OK(audio.status());
  EXPECT_NEAR(static_cast<double>(audio->size()) / 16000, 2.1, 0.03);
  for (double expected : {0.2, 0.9}) {
    const double flash = FlashAt(frames, expected - 0.15);
    EXPECT_NEAR(flash, expected, 0.005) << "flash near " << expected;
    EXPECT_NEAR(BeepAt(*audio, expected - 0.15), expected, kFrame) << "beep near " << expected;
  }
  EXPECT_NEAR(ToneHz(*audio, 0.22, 0.28), 1000, 60);
  EXPECT_NEAR(ToneHz(*audio, 0.95, 1.25), 1000, 20);
  EXPECT_LT(Rms(*audio, 0.35, 0.45), 500);  // the first beep is over by 0.3 s
  EXPECT_GT(Rms(*audio, 1.15, 1.25), 4000);  // the second lasts to 1.3 s

  // With an output frame rate the fps filter picks the frames.
  RenderSpec at_fps = Spec(Source("marker.mp4"), ranges);
  at_fps.fps = 25;
  auto fixed = Render(at_fps, Out("speed-fps.mp4"));
  ASSERT_OK(fixed.status());
  EXPECT_NEAR(fixed->duration_s, 2.1, 1e-3);
  EXPECT_NEAR(static_cast<double>(fixed->video_frames), 2.1 * 25, 1);
  EXPECT_NEAR(FlashAt(DecodeAll(Out("speed-fps.mp4"), media::PixelFormat::kGray8), 0.7), 0.9, kFrame);
}

TEST_F(RenderTest, KeepsSlowedDownSoundToTheEndOfItsRange) {
  // atempo holds back the end of its last window; without flushing it the
  // slowed range ended in tens of milliseconds of silence before the join.
  const std::vector<TimeRange> ranges = {{0.5, 1.5, 0.5}, {2.0, 2.5, 1.0}, {0.5, 1.0, 2.0}};
  auto result = Render(Spec(Source("gray.mp4"), ranges), Out("slow.mp4"));
  ASSERT_OK(result.status());
  EXPECT_NEAR(result->duration_s, 2.0 + 0.5 + 0.25, 1e-3);
  auto audio = media::ReadAudio16kMono(Out("slow.mp4"));
  ASSERT_OK(audio.status());
  EXPECT_NEAR(static_cast<double>(audio->size()) / 16000, 2.75, 0.03);
  const double steady = Rms(*audio, 1.0, 1.5);
  ASSERT_GT(steady, 1000);
  // Up to the 5 ms fade before each join (at 2.0 and 2.5 s), and at the end.
  EXPECT_GT(Rms(*audio, 1.95, 1.994), 0.8 * steady);
  EXPECT_GT(Rms(*audio, 2.45, 2.494), 0.8 * steady);
  EXPECT_GT(Rms(*audio, 2.70, 2.744), 0.8 * steady);
  EXPECT_NEAR(ToneHz(*audio, 0.2, 1.8), 300, 6);  // the pitch, slowed down
}

TEST_F(RenderTest, CountsProgressAndCaptionsInOutputTime) {
  // Captions built through the same ranges line up with the render.
  const std::vector<TimeRange> ranges = {{0.5, 2.5, 2.0}, {0.5, 1.0, 0.5}};
  CaptionStyle style = DefaultCaptionStyle(320, 180);
  style.size = 40;
  style.margin = 10;
  const std::string ass = Out("captions.ass");
  cutroom::testing::WriteFile(ass, BuildAssCaptions({{"LATE", 2.0, 2.5, 1}}, ranges, style, 320, 180));
  RenderSpec spec = Spec(Source("gray.mp4"), ranges);
  spec.crf = 12;
  spec.ass_path = ass;
  std::vector<double> seen;
  auto result = Render(spec, Out("captioned.mp4"), [&](double p) { seen.push_back(p); });
  ASSERT_OK(result.status());
  EXPECT_NEAR(result->duration_s, 2.0, 1e-3);
  ASSERT_GE(seen.size(), 5u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_DOUBLE_EQ(seen.back(), 1.0);
  // The word, 1.5 s into the first range, shows from 0.75 s to its end at 1 s.
  ASSERT_OK(Render(Spec(Source("gray.mp4"), ranges), Out("plain.mp4")).status());
  const auto a = DecodeAll(Out("plain.mp4"), media::PixelFormat::kRgb24);
  const auto b = DecodeAll(Out("captioned.mp4"), media::PixelFormat::kRgb24);
  auto differing = [&](double t) { return Differing(At(a, t), At(b, t), 0, 90, 320, 180, 40); };
  EXPECT_EQ(differing(0.6), 0);
  EXPECT_GT(differing(0.9), 300);
  EXPECT_EQ(differing(1.5), 0);
}

TEST_F(RenderTest, ChangesTheSpeedOfAnAudiogram) {
  RenderSpec spec = Spec(TestMedia("tone.wav"), {{0.2, 1.8, 2.0}, {0.2, 0.6, 0.5}});
  spec.out_width = 320;
  spec.out_height = 180;
  auto result = Render(spec, Out("audiogram.mp4"));
  ASSERT_OK(result.status());
  EXPECT_NEAR(result->duration_s, 1.6, kFrame);
  auto audio = media::ReadAudio16kMono(Out("audiogram.mp4"));
  ASSERT_OK(audio.status());
  EXPECT_NEAR(static_cast<double>(audio->size()) / 16000, 1.6, 0.03);
}

// Integrated loudness (EBU R128) of a file's audio, by ffmpeg's ebur128.
double IntegratedLufs(const std::string& path) {
  std::string output;
  Status st = RunProcess({"ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", path, "-map", "0:a", "-af",
                          "ebur128", "-f", "null", "-"},
                         &output);
  EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << output;
  // The summary at the end: "    I:         -16.1 LUFS".
  const size_t at = output.rfind("I:");
  if (at == std::string::npos) {
    ADD_FAILURE() << "no integrated loudness in\n" << output;
    return 0;
  }
  return std::strtod(output.c_str() + at + 2, nullptr);
}

TEST_F(RenderTest, NormalizesTheLoudnessToTheTarget) {
  const double source = IntegratedLufs(Source("quiet.mp4"));
  ASSERT_NEAR(source, -35, 2);
  RenderSpec spec = Spec(Source("quiet.mp4"), {{0.5, 3.0}, {3.5, 5.5}});
  spec.normalize_audio = true;
  spec.target_lufs = -16;
  auto result = Render(spec, Out("loud.mp4"));
  ASSERT_OK(result.status());
  EXPECT_NEAR(IntegratedLufs(Out("loud.mp4")), -16, 1.5);
  // The track keeps its length.
  auto audio = media::ReadAudio16kMono(Out("loud.mp4"));
  ASSERT_OK(audio.status());
  EXPECT_NEAR(static_cast<double>(audio->size()) / 16000, 4.5, 0.03);
  EXPECT_NEAR(result->duration_s, 4.5, 1e-3);

  // Off, the level stays the source's.
  spec.normalize_audio = false;
  ASSERT_OK(Render(spec, Out("as-is.mp4")).status());
  EXPECT_NEAR(IntegratedLufs(Out("as-is.mp4")), source, 1.0);

  // Loud clicks over the tone: one gain would push them over the true-peak
  // ceiling, so loudnorm follows the loudness dynamically and limits them.
  RenderSpec clicks = Spec(Source("quiet-clicks.mp4"), {{0.5, 5.5, 1.25}});
  clicks.normalize_audio = true;
  clicks.target_lufs = -16;
  auto limited = Render(clicks, Out("clicks.mp4"));
  ASSERT_OK(limited.status());
  EXPECT_NEAR(limited->duration_s, 4.0, 1e-3);
  EXPECT_NEAR(IntegratedLufs(Out("clicks.mp4")), -16, 1.5);
}

TEST_F(RenderTest, LeavesSilenceAsItIsWhenNormalizing) {
  // bands.mp4 has no audio at all; marker.mp4 is silent between its beeps.
  RenderSpec silent = Spec(Source("bands.mp4"), {{0, 1}});
  silent.normalize_audio = true;
  auto video_only = Render(silent, Out("silent.mp4"));
  ASSERT_OK(video_only.status());
  EXPECT_FALSE(video_only->has_audio);
  RenderSpec quiet = Spec(Source("marker.mp4"), {{1.5, 2.5}});
  quiet.normalize_audio = true;
  ASSERT_OK(Render(quiet, Out("quiet.mp4")).status());
  auto audio = media::ReadAudio16kMono(Out("quiet.mp4"));
  ASSERT_OK(audio.status());
  EXPECT_NEAR(static_cast<double>(audio->size()) / 16000, 1.0, 0.03);
  EXPECT_LT(Rms(*audio, 0, 1), 1);
}

TEST_F(RenderTest, FollowsTheCropPath) {
  RenderSpec spec = Spec(Source("bands.mp4"), {{0, 3}});
  spec.crop_width = 80;
  spec.crop_height = 180;
  spec.crop_path = {{0, 0, 0}, {1, 0, 0}, {2, 240, 0}};
  ASSERT_OK(Render(spec, Out("path.mp4")).status());
  spec.crop_path.clear();
  ASSERT_OK(Render(spec, Out("centre.mp4")).status());
  const auto path = DecodeAll(Out("path.mp4"), media::PixelFormat::kRgb24);
  const auto centre = DecodeAll(Out("centre.mp4"), media::PixelFormat::kRgb24);
  ASSERT_FALSE(path.empty());
  EXPECT_EQ(path.front().width, 80);
  EXPECT_EQ(path.front().height, 180);
  auto mean = [](const media::VideoFrame& f) { return Mean(f, 2, 2, f.width - 2, f.height - 2); };
  const auto green = mean(At(path, 0.5)), blue = mean(At(path, 1.5)), red = mean(At(path, 2.5));
  EXPECT_GT(green[1], 200);
  EXPECT_LT(green[0], 40);
  EXPECT_GT(blue[2], 200);  // halfway along the path: x = 120, the middle band
  EXPECT_LT(blue[0], 40);
  EXPECT_GT(red[0], 200);
  EXPECT_LT(red[1], 40);
  const auto middle = mean(At(centre, 1.0));
  EXPECT_GT(middle[2], 200);
  EXPECT_LT(middle[1], 40);
}

TEST_F(RenderTest, ClampsTheCropPathToTheFrame) {
  RenderSpec spec = Spec(Source("bands.mp4"), {{0, 1}});
  spec.crop_width = 80;
  spec.crop_height = 180;
  spec.crop_path = {{0, 5000, -300}};
  ASSERT_OK(Render(spec, Out("clamped.mp4")).status());
  const auto frames = DecodeAll(Out("clamped.mp4"), media::PixelFormat::kRgb24);
  ASSERT_FALSE(frames.empty());
  const auto red = Mean(At(frames, 0.5), 2, 2, 78, 178);
  EXPECT_GT(red[0], 200);
  EXPECT_LT(red[2], 40);
}

class RotatedRenderTest : public RenderTest, public ::testing::WithParamInterface<int> {};

TEST_P(RotatedRenderTest, TurnsThePictureUprightAndCropsInDisplayPixels) {
  const std::string source = Source("rot" + std::to_string(GetParam()) + ".mp4");
  // Upright as the project's decoder (and any player) shows it.
  const auto upright = DecodeAll(source, media::PixelFormat::kRgb24);
  ASSERT_FALSE(upright.empty());
  const int w = upright[0].width, h = upright[0].height;
  auto whole = Render(Spec(source, {{0, 1}}), Out("whole.mp4"));
  ASSERT_OK(whole.status());
  EXPECT_EQ(whole->width, w);
  EXPECT_EQ(whole->height, h);
  const auto rendered = DecodeAll(Out("whole.mp4"), media::PixelFormat::kRgb24);
  ASSERT_FALSE(rendered.empty());
  // Colour edges soften a little through two 4:2:0 encodes; nothing moves.
  EXPECT_LT(Differing(At(rendered, 0.5), At(upright, 0.5), 0, 0, w, h, 48), w * h * 3 / 100);

  // The display's top-left quadrant, whichever coded quadrant that is.
  RenderSpec spec = Spec(source, {{0, 1}});
  spec.crop_width = w / 2;
  spec.crop_height = h / 2;
  spec.crop_path = {{0, 0, 0}};
  ASSERT_OK(Render(spec, Out("corner.mp4")).status());
  const auto corner = DecodeAll(Out("corner.mp4"), media::PixelFormat::kRgb24);
  ASSERT_FALSE(corner.empty());
  const auto got = Mean(At(corner, 0.5), 4, 4, w / 2 - 4, h / 2 - 4);
  const auto want = Mean(At(upright, 0.5), 4, 4, w / 2 - 4, h / 2 - 4);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(got[c], want[c], 12) << "channel " << c;
}

INSTANTIATE_TEST_SUITE_P(Rotations, RotatedRenderTest, ::testing::Values(90, 180, 270));

TEST_F(RenderTest, LetterboxesWhenTheAspectRatioDiffers) {
  RenderSpec spec = Spec(Source("bands.mp4"), {{0, 1}});
  spec.out_width = 160;
  spec.out_height = 160;
  ASSERT_OK(Render(spec, Out("boxed.mp4")).status());
  const auto frames = DecodeAll(Out("boxed.mp4"), media::PixelFormat::kRgb24);
  ASSERT_FALSE(frames.empty());
  // 320x180 fitted into 160x160: 160x90 in the middle, black above and below.
  EXPECT_LT(Mean(frames[0], 0, 0, 160, 30)[2], 20);
  EXPECT_LT(Mean(frames[0], 0, 130, 160, 160)[2], 20);
  EXPECT_GT(Mean(frames[0], 60, 60, 100, 100)[2], 200);
}

TEST_F(RenderTest, MakesVideoOnlyFilesFromSilentSources) {
  auto result = Render(Spec(Source("bands.mp4"), {{0.5, 1.5}}), Out("silent.mp4"));
  ASSERT_OK(result.status());
  EXPECT_FALSE(result->has_audio);
  auto probe = media::ProbeMedia(Out("silent.mp4"));
  ASSERT_OK(probe.status());
  EXPECT_FALSE(probe->audio_codec.has_value());
  EXPECT_NEAR(probe->duration_s.value_or(0), 1.0, kFrame);
}

TEST_F(RenderTest, TurnsAudioIntoAnAudiogramWithCaptions) {
  CaptionStyle style = DefaultCaptionStyle(320, 180);
  style.size = 36;
  style.margin = 8;
  const std::string ass = Out("captions.ass");
  cutroom::testing::WriteFile(ass, BuildAssCaptions({{"TONE", 0.6, 1.2, 1}}, {{0.2, 1.8}}, style, 320, 180));
  RenderSpec spec = Spec(TestMedia("tone.wav"), {{0.2, 1.8}});
  spec.out_width = 320;
  spec.out_height = 180;
  spec.ass_path = ass;
  auto result = Render(spec, Out("audiogram.mp4"));
  ASSERT_OK(result.status());
  EXPECT_TRUE(result->has_audio);
  EXPECT_NEAR(result->duration_s, 1.6, kFrame);
  auto probe = media::ProbeMedia(Out("audiogram.mp4"));
  ASSERT_OK(probe.status());
  EXPECT_EQ(probe->width.value_or(0), 320);
  EXPECT_EQ(probe->height.value_or(0), 180);
  EXPECT_EQ(probe->audio_codec.value_or(""), "aac");
  auto audio = media::ReadAudio16kMono(Out("audiogram.mp4"));
  ASSERT_OK(audio.status());
  EXPECT_NEAR(static_cast<double>(audio->size()) / 16000, 1.6, 0.03);
  const auto frames = DecodeAll(Out("audiogram.mp4"), media::PixelFormat::kGray8);
  ASSERT_FALSE(frames.empty());
  // The waveform of the tone across the middle; black above it.
  EXPECT_GT(Mean(At(frames, 0.2), 0, 60, 320, 120)[0], 10);
  EXPECT_LT(Mean(At(frames, 0.2), 0, 0, 320, 50)[0], 5);
  // The word (0.4..1.0 s of the output) in the bottom band, and not after.
  EXPECT_GT(Mean(At(frames, 0.7), 0, 130, 320, 180)[0], 10);
  EXPECT_LT(Mean(At(frames, 1.5), 0, 130, 320, 180)[0], 5);
}

TEST_F(RenderTest, ForcesTheFrameRateWhenAsked) {
  RenderSpec spec = Spec(TestMedia("small.mp4"), {{0, 2}});
  spec.fps = 10;
  auto result = Render(spec, Out("ten.mp4"));
  ASSERT_OK(result.status());
  EXPECT_EQ(result->video_frames, 20);
  EXPECT_NEAR(result->duration_s, 2.0, 1e-3);
  auto probe = media::ProbeMedia(Out("ten.mp4"));
  ASSERT_OK(probe.status());
  EXPECT_NEAR(probe->fps.value_or(0), 10.0, 0.01);
}

TEST_F(RenderTest, RejectsBadSpecsBeforeWritingAnything) {
  struct Case {
    const char* what;
    std::function<void(RenderSpec&)> change;
    const char* mentions;
  };
  const std::vector<Case> cases = {
      {"no ranges", [](RenderSpec& s) { s.ranges.clear(); }, "no ranges"},
      {"reversed", [](RenderSpec& s) { s.ranges = {{2, 1}}; }, "ends before it starts"},
      {"empty", [](RenderSpec& s) { s.ranges = {{1, 1}}; }, "is empty"},
      {"negative", [](RenderSpec& s) { s.ranges = {{-1, 1}}; }, "starts before"},
      {"not finite", [](RenderSpec& s) { s.ranges = {{0, NAN}}; }, "not finite"},
      {"past the end", [](RenderSpec& s) { s.ranges = {{1, 2}, {3, 9}}; }, "range 2"},
      {"odd size", [](RenderSpec& s) { s.out_width = 181, s.out_height = 320; }, "even"},
      {"absurd size", [](RenderSpec& s) { s.out_width = 8192, s.out_height = 4320; }, "4096"},
      {"one side", [](RenderSpec& s) { s.out_width = 180; }, "both"},
      {"crop too big", [](RenderSpec& s) { s.crop_width = 400, s.crop_height = 100; }, "larger than the frame"},
      {"odd crop", [](RenderSpec& s) { s.crop_width = 101, s.crop_height = 100; }, "even"},
      {"path no crop", [](RenderSpec& s) { s.crop_path = {{0, 1, 1}}; }, "crop size"},
      {"unsorted path",
       [](RenderSpec& s) {
         s.crop_width = 100, s.crop_height = 100;
         s.crop_path = {{1, 0, 0}, {0.5, 0, 0}};
       },
       "time order"},
      {"crf", [](RenderSpec& s) { s.crf = 60; }, "crf"},
      {"preset", [](RenderSpec& s) { s.preset = "warp"; }, "preset"},
      {"fps", [](RenderSpec& s) { s.fps = 1000; }, "fps"},
      {"bitrate", [](RenderSpec& s) { s.audio_bitrate = 100; }, "bitrate"},
      {"threads", [](RenderSpec& s) { s.threads = -1; }, "threads"},
      {"too slow", [](RenderSpec& s) { s.ranges = {{0, 1, 0.4}}; }, "speed"},
      {"too fast", [](RenderSpec& s) { s.ranges = {{0, 1, 1.0}, {1, 2, 2.5}}; }, "range 2 (1.000..2.000 s) has speed"},
      {"speed not finite", [](RenderSpec& s) { s.ranges = {{0, 1, NAN}}; }, "speed"},
      {"no speed", [](RenderSpec& s) { s.ranges = {{0, 1, 0}}; }, "speed"},
      {"target too low", [](RenderSpec& s) { s.normalize_audio = true, s.target_lufs = -80; }, "loudness"},
      {"target too high", [](RenderSpec& s) { s.target_lufs = -4; }, "loudness"},
      {"target not finite", [](RenderSpec& s) { s.target_lufs = NAN; }, "loudness"},
      {"maxrate alone", [](RenderSpec& s) { s.maxrate_kbps = 1000; }, "bufsize"},
      {"maxrate too high", [](RenderSpec& s) { s.maxrate_kbps = s.bufsize_kbps = 300000; }, "maxrate"},
      {"layout unsorted",
       [](RenderSpec& s) { s.layout = {{0.5, LayoutMode::kFit}, {0.5, LayoutMode::kCrop}}; },
       "increasing time"},
      {"layout not finite", [](RenderSpec& s) { s.layout = {{NAN, LayoutMode::kFit}}; }, "finite"},
  };
  for (const Case& c : cases) {
    RenderSpec spec = Spec(TestMedia("small.mp4"), {{0, 1}});
    c.change(spec);
    auto result = Render(spec, Out("bad.mp4"));
    ASSERT_FALSE(result.ok()) << c.what;
    EXPECT_TRUE(result.status().IsInvalidArgument()) << c.what << ": " << result.status().ToString();
    EXPECT_THAT(result.status().message(), HasSubstr(c.mentions)) << c.what;
  }
  RenderSpec audio_crop = Spec(TestMedia("tone.wav"), {{0, 1}});
  audio_crop.crop_width = 100;
  audio_crop.crop_height = 100;
  EXPECT_TRUE(Render(audio_crop, Out("bad.mp4")).status().IsInvalidArgument());
  RenderSpec audio_fit = Spec(TestMedia("tone.wav"), {{0, 1}});
  audio_fit.layout = {{0, LayoutMode::kFit}};
  EXPECT_TRUE(Render(audio_fit, Out("bad.mp4")).status().IsInvalidArgument());
  EXPECT_TRUE(Render(Spec(TestMedia("still.png"), {{0, 1}}), Out("bad.mp4")).status().IsInvalidArgument());
  EXPECT_EQ(FilesInOut(), 0u);
}

TEST_F(RenderTest, ReportsMissingFiles) {
  EXPECT_TRUE(Render(Spec(Out("nope.mp4"), {{0, 1}}), Out("a.mp4")).status().IsNotFound());
  RenderSpec spec = Spec(TestMedia("small.mp4"), {{0, 1}});
  spec.ass_path = Out("nope.ass");
  EXPECT_TRUE(Render(spec, Out("a.mp4")).status().IsNotFound());
  auto no_dir = Render(Spec(TestMedia("small.mp4"), {{0, 1}}), Out("missing/dir/a.mp4"));
  EXPECT_EQ(no_dir.status().code(), StatusCode::kIOError) << no_dir.status().ToString();
  EXPECT_EQ(FilesInOut(), 0u);
}

TEST_F(RenderTest, RejectsAnUnreadableCaptionFileAndLeavesNothing) {
  cutroom::testing::WriteFile(Out("bad.ass"), "this is not a subtitle file");
  RenderSpec spec = Spec(TestMedia("small.mp4"), {{0, 1}});
  spec.ass_path = Out("bad.ass");
  auto result = Render(spec, Out("a.mp4"));
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(fs::exists(Out("a.mp4")));
  EXPECT_EQ(FilesInOut(), 1u);  // only the caption file
}

TEST_F(RenderTest, CancelsAndLeavesTheOldOutputAlone) {
  cutroom::testing::WriteFile(Out("clip.mp4"), "previous render");
  int checks = 0;
  auto result = Render(Spec(TestMedia("small.mp4"), {{0, 3}}), Out("clip.mp4"), {}, [&] { return ++checks > 20; });
  EXPECT_TRUE(result.status().IsCancelled()) << result.status().ToString();
  EXPECT_EQ(cutroom::testing::ReadFile(Out("clip.mp4")), "previous render");
  EXPECT_EQ(FilesInOut(), 1u);
  // A finished render replaces it.
  ASSERT_OK(Render(Spec(TestMedia("small.mp4"), {{0, 1}}), Out("clip.mp4")).status());
  EXPECT_NE(cutroom::testing::ReadFile(Out("clip.mp4")), "previous render");
  EXPECT_EQ(FilesInOut(), 1u);
}

TEST_F(RenderTest, ReportsProgressUpToOne) {
  std::vector<double> seen;
  ASSERT_OK(Render(Spec(TestMedia("small.mp4"), {{0, 1}, {2, 3}}), Out("p.mp4"), [&](double p) {
              seen.push_back(p);
            }).status());
  ASSERT_GE(seen.size(), 5u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_GE(seen.front(), 0.0);
  EXPECT_DOUBLE_EQ(seen.back(), 1.0);
}

TEST_F(RenderTest, CaptionsTheSpeechVideoFromItsTruth) {
  const std::string talk = TestMedia("talk.mp4");
  REQUIRE_FILE(talk, "talk.mp4 (make_test_video.py and flite)");
  // Two sentences of the talk, joined, in 9:16 at a small size, with the
  // words spread over each sentence's span.
  const std::vector<TimeRange> ranges = {{0.6, 3.0}, {6.0, 8.0}};
  std::vector<analysis::TranscriptWord> words = {{"The", 0.8, 1.0, 1},  {"first", 1.0, 1.3, 1},
                                                 {"lesson", 1.3, 1.7, 1}, {"Our", 6.16, 6.4, 1},
                                                 {"guest", 6.4, 6.8, 1}};
  const std::string ass = Out("talk.ass");
  cutroom::testing::WriteFile(ass, BuildAssCaptions(words, ranges, DefaultCaptionStyle(180, 320), 180, 320));
  RenderSpec spec = Spec(talk, ranges);
  spec.crop_width = 100;
  spec.crop_height = 178;
  spec.out_width = 180;
  spec.out_height = 320;
  spec.ass_path = ass;
  auto result = Render(spec, Out("talk.mp4"));
  ASSERT_OK(result.status());
  EXPECT_NEAR(result->duration_s, 4.4, 1e-3);
  auto audio = media::ReadAudio16kMono(Out("talk.mp4"));
  ASSERT_OK(audio.status());
  EXPECT_NEAR(static_cast<double>(audio->size()) / 16000, 4.4, 0.03);
}

// Standard deviation of the first channel over a rectangle.
double Spread(const media::VideoFrame& f, int x0, int y0, int x1, int y1) {
  const int ch = media::ChannelsOf(f.format);
  double sum = 0, sq = 0, n = 0;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x, ++n) {
      const double v = f.pixels[(static_cast<size_t>(y) * f.width + x) * ch];
      sum += v;
      sq += v * v;
    }
  }
  return std::sqrt(std::max(0.0, sq / n - (sum / n) * (sum / n)));
}

// A fit frame of bands.mp4 in 192x320: the whole 16:9 picture is the
// 192x108 band across the middle (rows 106..214), so its green left band
// shows at the left edge; a crop of the middle shows only blue there.
bool ShowsTheWholeBandsPicture(const media::VideoFrame& f) {
  const auto left = Mean(f, 2, 140, 40, 180);
  return left[1] > 150 && left[2] < 100;
}

TEST_F(RenderTest, FitShowsTheWholePictureOverABlurredDarkenedCopy) {
  RenderSpec spec = Spec(Source("bands.mp4"), {{0.0, 2.0}});
  spec.crop_width = 100;  // ignored while the layout is fit
  spec.crop_height = 180;
  spec.out_width = 192;
  spec.out_height = 320;
  spec.layout = {{0, LayoutMode::kFit}};
  auto result = Render(spec, Out("fit.mp4"));
  ASSERT_OK(result.status());
  EXPECT_EQ(result->width, 192);
  EXPECT_EQ(result->height, 320);
  EXPECT_NEAR(result->duration_s, 2.0, 1e-3);
  const auto frames = DecodeAll(Out("fit.mp4"), media::PixelFormat::kRgb24);
  ASSERT_EQ(frames.size(), 50u);
  const auto& f = frames[10];
  // Green, blue and red bands left to right across the middle: nothing cut.
  EXPECT_TRUE(ShowsTheWholeBandsPicture(f));
  const auto blue = Mean(f, 80, 140, 110, 180), red = Mean(f, 160, 140, 190, 180);
  EXPECT_GT(blue[2], 150);
  EXPECT_GT(red[0], 150);
  EXPECT_LT(red[1], 100);
  // Above and below: the blue middle of the picture, enlarged, darker than
  // the picture itself but not black.
  for (int y0 : {10, 250}) {
    const auto fill = Mean(f, 20, y0, 172, y0 + 50);
    EXPECT_GT(fill[2], 40) << "row " << y0;
    EXPECT_LT(fill[2], blue[2] * 0.85) << "row " << y0;
    EXPECT_LT(fill[0], 60) << "row " << y0;
  }

  // On stripes: sharp in the middle, a flat blur above and below.
  spec.source_path = Source("stripes.mp4");
  ASSERT_OK(Render(spec, Out("fit-stripes.mp4")).status());
  const auto striped = DecodeAll(Out("fit-stripes.mp4"), media::PixelFormat::kGray8);
  ASSERT_FALSE(striped.empty());
  const auto& s = striped[5];
  EXPECT_GT(Spread(s, 10, 130, 182, 190), 60);  // the picture: black and white
  EXPECT_LT(Spread(s, 10, 10, 182, 90), 10);     // the fill: gray
  const double fill = Mean(s, 10, 10, 182, 90)[0], picture = Mean(s, 10, 130, 182, 190)[0];
  EXPECT_GT(fill, 30);
  EXPECT_LT(fill, picture * 0.8);
}

// Crop for the first second, fit from 1.0 s: the first frame at or after
// 1.0 s is the first fit one, and timestamps run on as in one layout.
TEST_F(RenderTest, SwitchesLayoutOnTheFirstFrameOfItsSegment) {
  for (double fps : {0.0, 10.0}) {
    SCOPED_TRACE("fps " + std::to_string(fps));
    RenderSpec spec = Spec(Source("bands.mp4"), {{0.48, 2.48}});  // on frames of the source
    spec.crop_width = 100;
    spec.crop_height = 180;
    spec.out_width = 192;
    spec.out_height = 320;
    spec.fps = fps;
    spec.layout = {{0, LayoutMode::kCrop}, {0.6, LayoutMode::kCrop}, {1.0, LayoutMode::kFit}};
    auto result = Render(spec, Out("switch.mp4"));
    ASSERT_OK(result.status());
    EXPECT_NEAR(result->duration_s, 2.0, 1e-3);
    const auto frames = DecodeAll(Out("switch.mp4"), media::PixelFormat::kRgb24);
    const double step = fps > 0 ? 1 / fps : kFrame;
    ASSERT_EQ(frames.size(), static_cast<size_t>(std::lround(2.0 / step)));
    for (size_t i = 0; i < frames.size(); ++i) {
      EXPECT_NEAR(frames[i].pts_s, static_cast<double>(i) * step, 1e-3);
      EXPECT_EQ(ShowsTheWholeBandsPicture(frames[i]), frames[i].pts_s >= 1.0 - 1e-6) << "frame at " << frames[i].pts_s;
    }
  }
}

}  // namespace
}  // namespace cutroom::edit
