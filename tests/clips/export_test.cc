// Clip exports read back: OTIO as JSON, the EDL line by line, captions by
// libavformat's own SRT and WebVTT demuxers.
#include "analysis/clips/export.h"

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <sstream>

extern "C" {
#include <libavformat/avformat.h>
}

#include "talk_fixture.h"

namespace cutroom::analysis {
namespace {

using testing::MakeTranscript;
using testing::Style;
using testing::TimedSentence;

const std::vector<TimedSentence> kTalk = {
    {1.0, 4.0, "Why do founders wait so long?"},
    {4.8, 9.0, "Most of them fear the first version."},
    {9.6, 14.0, "Here is the secret: ship it anyway."},
    {15.0, 19.5, "Your customers will tell you what to fix."},
    {20.5, 24.0, "That is the whole lesson."},
};

ClipExportSpec Spec(std::vector<ClipRange> ranges, double fps = 25) {
  ClipExportSpec s;
  s.name = "Why do founders wait so long?";
  s.media_url = "file:///media/talk%20one.mp4";
  s.media_name = "talk one.mp4";
  s.media_duration_s = 30;
  s.fps = fps;
  s.ranges = std::move(ranges);
  return s;
}

nlohmann::json Otio(const ClipExportSpec& spec) {
  auto text = ExportOtio(spec, MakeTranscript(kTalk, Style::kWhisper));
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  auto j = nlohmann::json::parse(text.value_or("{}"), nullptr, false);
  EXPECT_FALSE(j.is_discarded());
  return j;
}

void ExpectRationalTime(const nlohmann::json& t, double value, double rate) {
  EXPECT_EQ(t["OTIO_SCHEMA"], "RationalTime.1");
  EXPECT_DOUBLE_EQ(t["value"].get<double>(), value);
  EXPECT_DOUBLE_EQ(t["rate"].get<double>(), rate);
}

TEST(ClipExport, OtioIsATimelineOfVideoAndAudioTracksWithFrameExactSourceRanges) {
  auto j = Otio(Spec({{4.6, 14.2}}));
  EXPECT_EQ(j["OTIO_SCHEMA"], "Timeline.1");
  EXPECT_EQ(j["name"], "Why do founders wait so long?");
  ExpectRationalTime(j["global_start_time"], 90000, 25);  // 01:00:00:00
  const auto& stack = j["tracks"];
  EXPECT_EQ(stack["OTIO_SCHEMA"], "Stack.1");
  ASSERT_EQ(stack["children"].size(), 2u);
  EXPECT_EQ(stack["children"][0]["OTIO_SCHEMA"], "Track.1");
  EXPECT_EQ(stack["children"][0]["kind"], "Video");
  EXPECT_EQ(stack["children"][1]["kind"], "Audio");
  for (const auto& track : stack["children"]) {
    ASSERT_EQ(track["children"].size(), 1u);
    const auto& clip = track["children"][0];
    EXPECT_EQ(clip["OTIO_SCHEMA"], "Clip.2");
    EXPECT_EQ(clip["source_range"]["OTIO_SCHEMA"], "TimeRange.1");
    ExpectRationalTime(clip["source_range"]["start_time"], 115, 25);
    ExpectRationalTime(clip["source_range"]["duration"], 355 - 115, 25);
    EXPECT_EQ(clip["active_media_reference_key"], "DEFAULT_MEDIA");
    const auto& ref = clip["media_references"]["DEFAULT_MEDIA"];
    EXPECT_EQ(ref["OTIO_SCHEMA"], "ExternalReference.1");
    EXPECT_EQ(ref["target_url"], "file:///media/talk%20one.mp4");
    EXPECT_EQ(ref["name"], "talk one.mp4");
    ExpectRationalTime(ref["available_range"]["start_time"], 0, 25);
    ExpectRationalTime(ref["available_range"]["duration"], 750, 25);
  }
  // Markers (on the video clip): the hook at the first sentence starting
  // inside the range, then one per later sentence start, in media frames.
  const auto& markers = stack["children"][0]["children"][0]["markers"];
  ASSERT_EQ(markers.size(), 2u);
  EXPECT_EQ(markers[0]["OTIO_SCHEMA"], "Marker.2");
  EXPECT_EQ(markers[0]["name"], "hook");
  EXPECT_EQ(markers[0]["comment"], "Most of them fear the first version.");
  EXPECT_EQ(markers[0]["color"], "RED");
  ExpectRationalTime(markers[0]["marked_range"]["start_time"], 120, 25);
  ExpectRationalTime(markers[0]["marked_range"]["duration"], 225 - 120, 25);
  EXPECT_EQ(markers[1]["comment"], "Here is the secret: ship it anyway.");
  ExpectRationalTime(markers[1]["marked_range"]["start_time"], 240, 25);
  EXPECT_TRUE(stack["children"][1]["children"][0]["markers"].empty());
}

TEST(ClipExport, OtioJoinsSeveralRangesInOrderAndUsesTheGivenHook) {
  auto spec = Spec({{9.6, 14.0}, {0.92, 4.1}});
  spec.hook = "The secret of shipping";
  auto j = Otio(spec);
  const auto& video = j["tracks"]["children"][0]["children"];
  ASSERT_EQ(video.size(), 2u);
  ExpectRationalTime(video[0]["source_range"]["start_time"], 240, 25);
  ExpectRationalTime(video[1]["source_range"]["start_time"], 23, 25);
  EXPECT_EQ(video[0]["name"], "Why do founders wait so long? (1/2)");
  EXPECT_EQ(video[0]["markers"][0]["name"], "hook");
  EXPECT_EQ(video[0]["markers"][0]["comment"], "The secret of shipping");
  EXPECT_EQ(video[1]["markers"][0]["comment"], "Why do founders wait so long?");
}

TEST(ClipExport, AudioOnlyMediaGetsOneAudioTrack) {
  auto spec = Spec({{1, 5}});
  spec.has_video = false;
  auto j = Otio(spec);
  ASSERT_EQ(j["tracks"]["children"].size(), 1u);
  EXPECT_EQ(j["tracks"]["children"][0]["kind"], "Audio");
  EXPECT_FALSE(j["tracks"]["children"][0]["children"][0]["markers"].empty());
  auto edl = ExportEdl(spec);
  ASSERT_OK(edl.status());
  EXPECT_NE(edl->find(" A     C "), std::string::npos) << *edl;
}

TEST(ClipExport, TimecodesCountFramesAndDropFrameNumbersAtNtscRates) {
  EXPECT_EQ(Timecode(0, 25), "00:00:00:00");
  EXPECT_EQ(Timecode(90000, 25), "01:00:00:00");
  EXPECT_EQ(Timecode(24 * 61 + 5, 24000.0 / 1001), "00:01:01:05");  // 23.976 counts in 24s
  const double ntsc = 30000.0 / 1001;
  EXPECT_EQ(Timecode(1799, ntsc), "00:00:59;29");
  EXPECT_EQ(Timecode(1800, ntsc), "00:01:00;02");  // ;00 and ;01 are dropped
  EXPECT_EQ(Timecode(17982, ntsc), "00:10:00;00");  // but not at ten minutes
  EXPECT_EQ(Timecode(107892, ntsc), "01:00:00;00");
  EXPECT_EQ(Timecode(3600, 60000.0 / 1001), "00:01:00;04");
}

TEST(ClipExport, EdlEventsHaveSourceAndRecordTimecodesAtTheMediaRate) {
  auto edl = ExportEdl(Spec({{4.0, 14.0}, {20.0, 22.48}}));
  ASSERT_OK(edl.status());
  std::istringstream in(*edl);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) lines.push_back(l);
  }
  ASSERT_EQ(lines.size(), 6u) << *edl;
  EXPECT_EQ(lines[0], "TITLE: Why do founders wait so long?");
  EXPECT_EQ(lines[1], "FCM: NON-DROP FRAME");
  std::regex event(R"(^(\d{3})  (\S+)\s+(\S+)\s+C\s+(\S+) (\S+) (\S+) (\S+)$)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[2], m, event)) << lines[2];
  EXPECT_EQ(m[1], "001");
  EXPECT_EQ(m[2], "AX");
  EXPECT_EQ(m[3], "B");  // video and audio
  EXPECT_EQ(m[4], "00:00:04:00");
  EXPECT_EQ(m[5], "00:00:14:00");
  EXPECT_EQ(m[6], "01:00:00:00");
  EXPECT_EQ(m[7], "01:00:10:00");
  EXPECT_EQ(lines[3], "* FROM CLIP NAME: talk one.mp4");
  ASSERT_TRUE(std::regex_match(lines[4], m, event)) << lines[4];
  EXPECT_EQ(m[1], "002");
  EXPECT_EQ(m[4], "00:00:20:00");
  EXPECT_EQ(m[5], "00:00:22:12");
  EXPECT_EQ(m[6], "01:00:10:00");
  EXPECT_EQ(m[7], "01:00:12:12");

  auto ntsc = Spec({{60.0, 70.0}}, 30000.0 / 1001);
  ntsc.media_duration_s = 120;
  edl = ExportEdl(ntsc);
  ASSERT_OK(edl.status());
  EXPECT_NE(edl->find("FCM: DROP FRAME"), std::string::npos);
  // 60 s of 29.97 is frame 1798 (00:00:59;28), 70 s is frame 2098
  // (00:01:10;00); record from 01:00:00;00, 300 frames.
  EXPECT_NE(edl->find("00:00:59;28 00:01:10;00 01:00:00;00 01:00:10;00"), std::string::npos) << *edl;
}

struct AvInputCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct AvPacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};

struct DemuxedCue {
  double start_s = 0;
  double end_s = 0;
  std::string text;
};

// Each cue as libavformat's demuxer for the format reads it.
std::vector<DemuxedCue> Demux(const std::string& path, const char* format) {
  std::vector<DemuxedCue> out;
  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, path.c_str(), av_find_input_format(format), nullptr) < 0) return out;
  std::unique_ptr<AVFormatContext, AvInputCloser> ctx(raw);
  std::unique_ptr<AVPacket, AvPacketFreer> pkt(av_packet_alloc());
  while (av_read_frame(ctx.get(), pkt.get()) >= 0) {
    AVRational tb = ctx->streams[pkt->stream_index]->time_base;
    out.push_back({pkt->pts * av_q2d(tb), (pkt->pts + pkt->duration) * av_q2d(tb),
                   std::string(reinterpret_cast<char*>(pkt->data), pkt->size)});
    av_packet_unref(pkt.get());
  }
  return out;
}

TEST(ClipExport, CaptionsAreRetimedToTheClipAndParseBack) {
  // Two ranges: 4.8-14.0 s (two sentences), then 20.5-24.0 s, which
  // starts on frame 513 (20.52 s): 12.68 s in all.
  auto spec = Spec({{4.8, 14.0}, {20.5, 24.0}});
  auto transcript = MakeTranscript(kTalk, Style::kWhisper);
  auto srt = ExportSrt(spec, transcript);
  auto vtt = ExportVtt(spec, transcript);
  ASSERT_OK(srt.status());
  ASSERT_OK(vtt.status());
  EXPECT_EQ(srt->rfind("1\n00:00:00,000 --> ", 0), 0u) << *srt;
  EXPECT_EQ(vtt->rfind("WEBVTT\n\n00:00:00.000 --> ", 0), 0u) << *vtt;
  cutroom::testing::TempDir dir;
  cutroom::testing::WriteFile(dir.File("c.srt"), *srt);
  cutroom::testing::WriteFile(dir.File("c.vtt"), *vtt);
  for (const auto& [file, format] : {std::pair<std::string, const char*>{"c.srt", "srt"}, {"c.vtt", "webvtt"}}) {
    SCOPED_TRACE(file);
    auto cues = Demux(dir.File(file), format);
    ASSERT_GE(cues.size(), 3u);
    std::string all;
    for (size_t i = 0; i < cues.size(); ++i) {
      EXPECT_GE(cues[i].start_s, 0.0);
      EXPECT_LE(cues[i].end_s, 12.68 + 1e-3);
      if (i) {
        EXPECT_GE(cues[i].start_s, cues[i - 1].start_s);
      }
      all += cues[i].text + " ";
    }
    EXPECT_NEAR(cues.front().start_s, 0.0, 1e-3);
    EXPECT_NE(all.find("Most of them fear"), std::string::npos) << all;
    EXPECT_NE(all.find("anyway."), std::string::npos) << all;
    EXPECT_NE(all.find("whole lesson."), std::string::npos) << all;
    EXPECT_EQ(all.find("Why do founders"), std::string::npos) << "outside the ranges";
    EXPECT_EQ(all.find("customers"), std::string::npos) << "outside the ranges";
    // The third sentence's first word, clipped to the range, starts 9.2 s
    // into the clip.
    auto third = std::find_if(cues.begin(), cues.end(),
                              [](const DemuxedCue& c) { return c.text.find("That is") != std::string::npos; });
    ASSERT_NE(third, cues.end());
    EXPECT_NEAR(third->start_s, 9.2, 1e-3);
  }
}

TEST(ClipExport, WordsCutByARangeEdgeAreClippedToIt) {
  // The range starts 1 s into "Most of them fear the first version."
  auto retimed = RetimeTranscript(Spec({{5.8, 9.0}}), MakeTranscript(kTalk, Style::kWhisper));
  ASSERT_EQ(retimed.segments.size(), 1u);
  const auto& words = retimed.segments[0].words;
  ASSERT_FALSE(words.empty());
  EXPECT_GE(words.front().start_s, 0.0);
  EXPECT_LE(words.back().end_s, 3.2 + 1e-9);
  EXPECT_EQ(words.back().word, "version.");
}

TEST(ClipExport, BadSpecsAreRejected) {
  auto t = MakeTranscript(kTalk, Style::kWhisper);
  EXPECT_TRUE(ExportOtio(Spec({}), t).status().IsInvalidArgument());
  EXPECT_TRUE(ExportEdl(Spec({{5, 4}})).status().IsInvalidArgument());
  EXPECT_TRUE(ExportSrt(Spec({{5, 5.01}}), t).status().IsInvalidArgument()) << "shorter than a frame";
  EXPECT_TRUE(ExportVtt(Spec({{-1, 4}}), t).status().IsInvalidArgument());
  EXPECT_TRUE(ExportEdl(Spec({{20, 31}})).status().IsInvalidArgument()) << "past the end";
  EXPECT_TRUE(ExportEdl(Spec({{1, 2}}, 0)).status().IsInvalidArgument());
  auto no_url = Spec({{1, 2}});
  no_url.media_url.clear();
  EXPECT_TRUE(ExportOtio(no_url, t).status().IsInvalidArgument());
}

}  // namespace
}  // namespace cutroom::analysis
