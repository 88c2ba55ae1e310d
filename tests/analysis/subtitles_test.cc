// Subtitle building and formatting; outputs parsed back by libavformat.
#include "analysis/transcribe/subtitles.h"

#include <gtest/gtest.h>

extern "C" {
#include <libavformat/avformat.h>
}

#include "support/test_support.h"

namespace cutroom::analysis {
namespace {

Transcript Speech(const std::vector<std::pair<std::string, std::pair<double, double>>>& words, double pause_at = -1) {
  Transcript t;
  TranscriptSegment seg;
  for (const auto& [w, times] : words) {
    if (pause_at >= 0 && times.first >= pause_at && !seg.words.empty()) {
      t.segments.push_back(seg);
      seg = {};
    }
    seg.words.push_back({w, times.first, times.second, 0.9});
  }
  t.segments.push_back(seg);
  for (auto& s : t.segments) {
    s.start_s = s.words.front().start_s;
    s.end_s = s.words.back().end_s;
  }
  return t;
}

// A long stream of words, 0.3 s each.
Transcript Monologue(int n) {
  std::vector<std::pair<std::string, std::pair<double, double>>> words;
  const char* vocab[] = {"the", "founders", "ship", "their", "first", "version", "much", "too", "late", "again"};
  for (int i = 0; i < n; ++i) words.push_back({vocab[i % 10], {i * 0.3, i * 0.3 + 0.25}});
  return Speech(words);
}

TEST(Subtitles, CuesHaveAtMostTwoLinesOf42CharactersAndLast1To7Seconds) {
  auto cues = BuildCues(Monologue(200));
  ASSERT_GT(cues.size(), 5u);
  for (size_t i = 0; i < cues.size(); ++i) {
    const auto& c = cues[i];
    ASSERT_GE(c.lines.size(), 1u);
    EXPECT_LE(c.lines.size(), 2u);
    for (const auto& l : c.lines) EXPECT_LE(l.size(), 42u) << l;
    EXPECT_GE(c.end_s - c.start_s, 1.0 - 1e-9);
    EXPECT_LE(c.end_s - c.start_s, 7.0 + 1e-9);
    if (i) {
      EXPECT_GE(c.start_s, cues[i - 1].end_s - 1e-9) << "cues overlap";
    }
  }
}

TEST(Subtitles, ShortWordsStayUpForASecondAndCuesFollowSegments) {
  auto t = Speech({{"hi", {1.0, 1.2}}, {"there", {5.0, 5.3}}}, 4.0);
  auto cues = BuildCues(t);
  ASSERT_EQ(cues.size(), 2u);
  EXPECT_EQ(cues[0].lines[0], "hi");
  EXPECT_DOUBLE_EQ(cues[0].end_s, 2.0);
  EXPECT_EQ(cues[1].lines[0], "there");
}

TEST(Subtitles, FormatsTimesTheWayEachFormatWants) {
  EXPECT_EQ(SubtitleTime(3723.4567, ','), "01:02:03,457");
  EXPECT_EQ(SubtitleTime(0.5, '.'), "00:00:00.500");
  auto srt = FormatSrt({{1.0, 2.5, {"hello", "world"}}});
  EXPECT_EQ(srt, "1\n00:00:01,000 --> 00:00:02,500\nhello\nworld\n\n");
  EXPECT_EQ(FormatVtt({{1.0, 2.5, {"hi"}}}), "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nhi\n\n");
}

// Reads a subtitle file with libavformat and returns each cue's start and
// text as the demuxer sees them.
std::vector<std::pair<double, std::string>> Demux(const std::string& path, const char* format) {
  std::vector<std::pair<double, std::string>> out;
  AVFormatContext* ctx = nullptr;
  if (avformat_open_input(&ctx, path.c_str(), av_find_input_format(format), nullptr) < 0) return out;
  avformat_find_stream_info(ctx, nullptr);
  AVPacket* pkt = av_packet_alloc();
  while (av_read_frame(ctx, pkt) >= 0) {
    AVRational tb = ctx->streams[pkt->stream_index]->time_base;
    out.emplace_back(pkt->pts * av_q2d(tb), std::string(reinterpret_cast<char*>(pkt->data), pkt->size));
    av_packet_unref(pkt);
  }
  av_packet_free(&pkt);
  avformat_close_input(&ctx);
  return out;
}

TEST(Subtitles, SrtAndVttParseBackWithLibavformat) {
  cutroom::testing::TempDir dir;
  auto cues = BuildCues(Monologue(60));
  cutroom::testing::WriteFile(dir.File("a.srt"), FormatSrt(cues));
  cutroom::testing::WriteFile(dir.File("a.vtt"), FormatVtt(cues));
  for (const auto& [file, format] : {std::pair<std::string, const char*>{"a.srt", "srt"}, {"a.vtt", "webvtt"}}) {
    auto parsed = Demux(dir.File(file), format);
    ASSERT_EQ(parsed.size(), cues.size()) << file;
    for (size_t i = 0; i < cues.size(); ++i) {
      EXPECT_NEAR(parsed[i].first, cues[i].start_s, 0.0015) << file << " cue " << i;
      EXPECT_NE(parsed[i].second.find(cues[i].lines[0]), std::string::npos) << file << " cue " << i;
    }
  }
}

}  // namespace
}  // namespace cutroom::analysis
