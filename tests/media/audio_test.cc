#include "media/audio.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.h"

namespace cutroom::media {
namespace {

using cutroom::testing::TestMedia;

// Frequency of a pure tone from its zero crossings (two a period), over
// the middle of the signal so fades and codec priming do not count.
double ToneFrequency(const std::vector<int16_t>& s, int rate) {
  size_t begin = s.size() / 8, end = s.size() - s.size() / 8;
  int crossings = 0;
  for (size_t i = begin + 1; i < end; ++i) {
    if ((s[i - 1] < 0) != (s[i] < 0)) ++crossings;
  }
  double seconds = static_cast<double>(end - begin) / rate;
  return crossings / 2.0 / seconds;
}

double Rms(const std::vector<int16_t>& s) {
  double sum = 0;
  for (int16_t v : s) sum += static_cast<double>(v) * v;
  return std::sqrt(sum / static_cast<double>(s.size()));
}

TEST(Audio, ReadsAWavAt16kMono) {
  auto samples = ReadAudio16kMono(TestMedia("tone.wav"));
  ASSERT_OK(samples.status());
  EXPECT_EQ(samples->size(), 32000u);  // 2 s at 16 kHz, already the output rate
  EXPECT_NEAR(ToneFrequency(*samples, 16000), 300.0, 3.0);
  EXPECT_GT(Rms(*samples), 1000.0);
}

TEST(Audio, ResamplesAndDownmixesTheAudioOfAVideo) {
  auto samples = ReadAudio16kMono(TestMedia("small.mp4"));
  ASSERT_OK(samples.status());
  // 4 s; AAC priming and padding may move the end by a frame or so.
  EXPECT_NEAR(static_cast<double>(samples->size()), 64000.0, 700.0);
  EXPECT_NEAR(ToneFrequency(*samples, 16000), 440.0, 4.0);
  EXPECT_GT(Rms(*samples), 1000.0);
}

TEST(Audio, DownmixesStereo) {
  REQUIRE_SHARED_DATA(path, "video/issue-134-rotate.mp4");  // AAC 44.1 kHz stereo
  auto samples = ReadAudio16kMono(path);
  ASSERT_OK(samples.status());
  EXPECT_NEAR(static_cast<double>(samples->size()) / 16000, 10.0, 0.1);
}

TEST(Audio, StreamsChunksAtTheRequestedRate) {
  size_t total = 0, calls = 0;
  Status st = ExtractAudio(TestMedia("small.mp4"), 8000, [&](const int16_t*, size_t n) {
    total += n;
    ++calls;
    return Status::Ok();
  });
  ASSERT_OK(st);
  EXPECT_NEAR(static_cast<double>(total), 32000.0, 400.0);
  EXPECT_GT(calls, 1u);
}

TEST(Audio, StopsWhenTheSinkFails) {
  size_t calls = 0;
  Status st = ExtractAudio(TestMedia("small.mp4"), 16000, [&](const int16_t*, size_t) {
    ++calls;
    return Status::Cancelled("enough");
  });
  EXPECT_TRUE(st.IsCancelled()) << st.ToString();
  EXPECT_EQ(calls, 1u);
}

TEST(Audio, ReportsAFileWithoutAudioAsNotFound) {
  REQUIRE_SHARED_DATA(path, "video/counter.mp4");
  auto samples = ReadAudio16kMono(path);
  EXPECT_TRUE(samples.status().IsNotFound()) << samples.status().ToString();
  EXPECT_TRUE(ReadAudio16kMono(TestMedia("still.png")).status().IsNotFound());
}

TEST(Audio, RefusesABadRate) {
  Status st = ExtractAudio(TestMedia("tone.wav"), 100, [](const int16_t*, size_t) { return Status::Ok(); });
  EXPECT_TRUE(st.IsInvalidArgument());
}

}  // namespace
}  // namespace cutroom::media
