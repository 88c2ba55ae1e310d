// Edit plan exports read back: OTIO as JSON, the EDL line by line, FCPXML
// by libxml2 (parsed, walked, and validated against the part of Apple's
// FCPXML 1.10 DTD that the exporter uses).
#include "edit/plan/plan_export.h"

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>

#include <cstdarg>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <regex>
#include <sstream>

#include "analysis/clips/export.h"
#include "support/test_support.h"

namespace cutroom::edit {
namespace {

using nlohmann::json;

PlanRange Range(double start, double end, double speed = 1.0, std::string because = "") {
  PlanRange r;
  r.start_s = start;
  r.end_s = end;
  r.speed = speed;
  r.because = because.empty() ? "segment at " + std::to_string(start) : std::move(because);
  return r;
}

EditPlan Plan(std::vector<std::vector<PlanRange>> outputs) {
  EditPlan plan;
  plan.video_id = "vid_talk";
  for (size_t i = 0; i < outputs.size(); ++i) {
    PlanOutput o;
    o.name = i == 0 ? "main" : "short " + std::to_string(i);
    o.ranges = std::move(outputs[i]);
    plan.outputs.push_back(std::move(o));
  }
  return plan;
}

PlanExportMedia Media(double fps = 25) {
  PlanExportMedia m;
  m.url = "file:///media/talk%20one.mp4";
  m.name = "talk one.mp4";
  m.duration_s = 30;
  m.fps = fps;
  m.width = 1920;
  m.height = 1080;
  return m;
}

constexpr double kNtsc = 30000.0 / 1001;

std::vector<std::string> Lines(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) lines.push_back(l);
  }
  return lines;
}

json Otio(const EditPlan& plan, size_t output, const PlanExportMedia& media) {
  auto text = ExportPlanOtio(plan, output, media);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  auto j = json::parse(text.value_or("{}"), nullptr, false);
  EXPECT_FALSE(j.is_discarded());
  return j;
}

// --- XML ------------------------------------------------------------------

struct XmlDocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDoc = std::unique_ptr<xmlDoc, XmlDocDeleter>;

XmlDoc ParseXml(const std::string& text) {
  return XmlDoc(xmlReadMemory(text.data(), static_cast<int>(text.size()), "plan.fcpxml", nullptr, XML_PARSE_NONET));
}

bool HasProp(xmlNode* node, const char* name) { return xmlHasProp(node, reinterpret_cast<const xmlChar*>(name)); }

std::string Prop(xmlNode* node, const char* name) {
  xmlChar* v = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

std::string Text(xmlNode* node) {
  xmlChar* v = xmlNodeGetContent(node);
  std::string s(v ? reinterpret_cast<const char*>(v) : "");
  xmlFree(v);
  return s;
}

bool Is(xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, reinterpret_cast<const xmlChar*>(name));
}

std::vector<xmlNode*> Children(xmlNode* parent, const char* name) {
  std::vector<xmlNode*> out;
  for (xmlNode* c = parent ? parent->children : nullptr; c; c = c->next) {
    if (Is(c, name)) out.push_back(c);
  }
  return out;
}

void Descendants(xmlNode* node, const char* name, std::vector<xmlNode*>& out) {
  for (xmlNode* c = node ? node->children : nullptr; c; c = c->next) {
    if (Is(c, name)) out.push_back(c);
    Descendants(c, name, out);
  }
}

std::vector<xmlNode*> Descendants(xmlNode* node, const char* name) {
  std::vector<xmlNode*> out;
  Descendants(node, name, out);
  return out;
}

// An FCPXML time ("5s", "1001/30000s") as a reduced fraction of seconds.
struct Rational {
  int64_t num = 0;
  int64_t den = 1;
};

Rational ParseTime(const std::string& s) {
  std::smatch m;
  static const std::regex kTime(R"(^(-?\d+)(?:/(\d+))?s$)");
  EXPECT_TRUE(std::regex_match(s, m, kTime)) << "not an FCPXML time: '" << s << "'";
  if (m.empty()) return {};
  Rational r{std::stoll(m[1]), m[2].matched ? std::stoll(m[2]) : 1};
  int64_t g = std::gcd(r.num, r.den);
  EXPECT_EQ(g, r.num == 0 ? r.den : 1) << s << " is not reduced";
  return r;
}

// The number of frames of frame_duration that t holds; fails unless whole.
int64_t Frames(const std::string& t, const Rational& frame_duration) {
  Rational r = ParseTime(t);
  int64_t num = r.num * frame_duration.den;
  int64_t den = r.den * frame_duration.num;
  EXPECT_EQ(num % den, 0) << t << " is not a whole number of " << frame_duration.num << "/" << frame_duration.den
                          << " s frames";
  return num / den;
}

struct Fcpxml {
  XmlDoc doc;
  xmlNode* root = nullptr;
  Rational frame;  // the format's frame duration
};

Fcpxml ParseFcpxml(const EditPlan& plan, const PlanExportMedia& media) {
  Fcpxml f;
  auto text = ExportPlanFcpxml(plan, media);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  if (!text.ok()) return f;
  f.doc = ParseXml(*text);
  EXPECT_TRUE(f.doc) << *text;
  if (!f.doc) return f;
  f.root = xmlDocGetRootElement(f.doc.get());
  auto formats = Descendants(f.root, "format");
  EXPECT_EQ(formats.size(), 1u);
  if (!formats.empty()) f.frame = ParseTime(Prop(formats[0], "frameDuration"));
  return f;
}

// --- frame grid -----------------------------------------------------------

TEST(PlanExport, FrameDurationsAreRationalAtNtscRatesAndExactElsewhere) {
  auto expect = [](double fps, int64_t num, int64_t den) {
    PlanFrameRate r = PlanFrameRateFor(fps);
    EXPECT_EQ(r.num, num) << fps;
    EXPECT_EQ(r.den, den) << fps;
  };
  expect(kNtsc, 1001, 30000);
  expect(29.97, 1001, 30000);  // as probes round it
  expect(23.976, 1001, 24000);
  expect(59.94, 1001, 60000);
  expect(25, 1, 25);
  expect(24.999, 1, 25);
  expect(12.5, 2, 25);
}

TEST(PlanExport, RangesSnapToWholeFramesAndFollowEachOtherInTheOutput) {
  auto plan = Plan({{Range(1.01, 2.0), Range(4.0, 6.03, 2.0), Range(10.0, 11.0, 0.5)}});
  auto clips = SnapPlanOutput(plan, 0, Media(25));
  ASSERT_OK(clips.status());
  ASSERT_EQ(clips->size(), 3u);
  EXPECT_EQ((*clips)[0].source_in, 25);  // 1.01 s is 25.25 frames
  EXPECT_EQ((*clips)[0].source_out, 50);
  EXPECT_EQ((*clips)[0].record_frames, 25);
  EXPECT_EQ((*clips)[1].source_in, 100);
  EXPECT_EQ((*clips)[1].source_out, 151);    // 150.75
  EXPECT_EQ((*clips)[1].record_frames, 26);  // 51 source frames at double speed: 25.5, rounded up
  EXPECT_EQ((*clips)[2].record_frames, 50);  // 25 at half speed
  int64_t record = 0;
  for (const auto& c : *clips) {
    EXPECT_EQ(c.record_in, record);
    record += c.record_frames;
  }
}

TEST(PlanExport, DropsRangesThatSnapToNothingAndNeverWritesAnEmptyClip) {
  // 0.01 s is a quarter of a frame at 25 fps; 5.0..5.0 is empty.
  auto plan = Plan({{Range(2.0, 2.01), Range(3.0, 4.0), Range(5.0, 5.0)}});
  auto clips = SnapPlanOutput(plan, 0, Media(25));
  ASSERT_OK(clips.status());
  ASSERT_EQ(clips->size(), 1u);
  EXPECT_EQ((*clips)[0].range_index, 1u);
  EXPECT_EQ((*clips)[0].record_in, 0);

  auto edl = ExportPlanEdl(plan, 0, Media(25));
  ASSERT_OK(edl.status());
  EXPECT_EQ(edl->find("002  "), std::string::npos) << *edl;

  auto nothing = Plan({{Range(2.0, 2.01)}});
  auto status = ExportPlanFcpxml(nothing, Media(25)).status();
  EXPECT_TRUE(status.IsInvalidArgument()) << status.ToString();
  EXPECT_NE(status.message().find("no range of at least one frame"), std::string::npos) << status.ToString();
}

TEST(PlanExport, RefusesAMissingOutputRangesOutsideTheMediaAndUnusableMedia) {
  auto plan = Plan({{Range(1, 2)}});
  EXPECT_TRUE(ExportPlanOtio(plan, 1, Media()).status().IsInvalidArgument());
  EXPECT_TRUE(ExportPlanEdl(plan, 7, Media()).status().IsInvalidArgument());

  for (auto bad : {Range(-1, 2), Range(29, 31), Range(5, 4), Range(1, 2, 3.0), Range(std::nan(""), 2)}) {
    auto p = Plan({{Range(0, 1), bad}});
    auto status = ExportPlanOtio(p, 0, Media()).status();
    EXPECT_TRUE(status.IsInvalidArgument()) << bad.start_s << ".." << bad.end_s << " x" << bad.speed;
    EXPECT_NE(status.message().find("outputs[0].ranges[1]"), std::string::npos) << status.ToString();
    EXPECT_TRUE(ExportPlanFcpxml(p, Media()).status().IsInvalidArgument());
  }
  // Within half a frame past the end is the end.
  EXPECT_OK(ExportPlanEdl(Plan({{Range(29, 30.01)}}), 0, Media()).status());

  auto no_url = Media();
  no_url.url.clear();
  EXPECT_TRUE(ExportPlanFcpxml(plan, no_url).status().IsInvalidArgument());
  for (double fps : {0.0, -25.0, std::nan("")}) {
    auto m = Media();
    m.fps = fps;
    EXPECT_TRUE(ExportPlanEdl(plan, 0, m).status().IsInvalidArgument()) << fps;
  }
  EXPECT_TRUE(ExportPlanFcpxml(EditPlan{}, Media()).status().IsInvalidArgument());
}

// --- OTIO -----------------------------------------------------------------

TEST(PlanExportOtio, IsATimelineOfFrameExactClipsThatSayWhyTheyAreThere) {
  auto ranges = std::vector<PlanRange>{Range(4.6, 14.2, 1.0, "segment seg_b 'Most of them fear'"), Range(20.0, 22.0)};
  ranges[0].segment_ids = {"seg_b", "seg_c"};
  ranges[0].word_ids = {"wrd_1", "wrd_9"};
  auto j = Otio(Plan({ranges}), 0, Media(25));
  EXPECT_EQ(j["OTIO_SCHEMA"], "Timeline.1");
  EXPECT_EQ(j["name"], "main");
  EXPECT_EQ(j["metadata"]["cutroom"]["video_id"], "vid_talk");
  const auto& stack = j["tracks"];
  EXPECT_EQ(stack["OTIO_SCHEMA"], "Stack.1");
  ASSERT_EQ(stack["children"].size(), 2u);
  EXPECT_EQ(stack["children"][0]["kind"], "Video");
  EXPECT_EQ(stack["children"][1]["kind"], "Audio");
  for (const auto& track : stack["children"]) {
    EXPECT_EQ(track["OTIO_SCHEMA"], "Track.1");
    ASSERT_EQ(track["children"].size(), 2u);
    const auto& clip = track["children"][0];
    EXPECT_EQ(clip["OTIO_SCHEMA"], "Clip.2");
    const auto& range = clip["source_range"];
    EXPECT_EQ(range["OTIO_SCHEMA"], "TimeRange.1");
    EXPECT_EQ(range["start_time"]["OTIO_SCHEMA"], "RationalTime.1");
    EXPECT_DOUBLE_EQ(range["start_time"]["rate"].get<double>(), 25);
    EXPECT_DOUBLE_EQ(range["start_time"]["value"].get<double>(), 115);
    EXPECT_DOUBLE_EQ(range["duration"]["value"].get<double>(), 355 - 115);
    EXPECT_TRUE(clip["effects"].empty());
    const auto& ref = clip["media_references"][clip["active_media_reference_key"].get<std::string>()];
    EXPECT_EQ(ref["OTIO_SCHEMA"], "ExternalReference.1");
    EXPECT_EQ(ref["target_url"], "file:///media/talk%20one.mp4");
    EXPECT_DOUBLE_EQ(ref["available_range"]["duration"]["value"].get<double>(), 750);
    const auto& cutroom = clip["metadata"]["cutroom"];
    EXPECT_EQ(cutroom["because"], "segment seg_b 'Most of them fear'");
    EXPECT_EQ(cutroom["segment_ids"], json::array({"seg_b", "seg_c"}));
    EXPECT_EQ(cutroom["word_ids"], json::array({"wrd_1", "wrd_9"}));
    EXPECT_EQ(track["children"][1]["metadata"]["cutroom"]["segment_ids"], json::array());
    EXPECT_DOUBLE_EQ(track["children"][1]["source_range"]["start_time"]["value"].get<double>(), 500);
  }
}

TEST(PlanExportOtio, ASpedUpRangeLastsItsSourceOverItsSpeedAndCarriesALinearTimeWarp) {
  auto j = Otio(Plan({{Range(4.0, 8.0, 2.0), Range(10.0, 11.0, 0.5), Range(12.0, 13.0)}}), 0, Media(25));
  const auto& clips = j["tracks"]["children"][0]["children"];
  ASSERT_EQ(clips.size(), 3u);
  EXPECT_DOUBLE_EQ(clips[0]["source_range"]["start_time"]["value"].get<double>(), 100);
  EXPECT_DOUBLE_EQ(clips[0]["source_range"]["duration"]["value"].get<double>(), 50);  // 100 frames at 2x
  ASSERT_EQ(clips[0]["effects"].size(), 1u);
  EXPECT_EQ(clips[0]["effects"][0]["OTIO_SCHEMA"], "LinearTimeWarp.1");
  EXPECT_DOUBLE_EQ(clips[0]["effects"][0]["time_scalar"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(clips[1]["source_range"]["duration"]["value"].get<double>(), 50);  // 25 frames at 0.5x
  EXPECT_DOUBLE_EQ(clips[1]["effects"][0]["time_scalar"].get<double>(), 0.5);
  EXPECT_TRUE(clips[2]["effects"].empty());
}

TEST(PlanExportOtio, NtscSourceRangesAreWholeFramesAtTheRationalRate) {
  auto j = Otio(Plan({{Range(1.0, 2.5), Range(61.0 / 3, 25.0)}}), 0, Media(29.97));
  for (const auto& clip : j["tracks"]["children"][0]["children"]) {
    for (const char* field : {"start_time", "duration"}) {
      const auto& t = clip["source_range"][field];
      EXPECT_DOUBLE_EQ(t["rate"].get<double>(), kNtsc);
      double v = t["value"].get<double>();
      EXPECT_EQ(v, std::round(v)) << clip.dump();
    }
  }
  const auto& first = j["tracks"]["children"][0]["children"][0]["source_range"];
  EXPECT_DOUBLE_EQ(first["start_time"]["value"].get<double>(), 30);  // 1.0 s is 29.97 frames
  EXPECT_DOUBLE_EQ(first["duration"]["value"].get<double>(), 75 - 30);
}

// --- EDL ------------------------------------------------------------------

const std::regex kEvent(R"(^(\d{3})  (\S+)\s+(\S+)\s+C\s+(\S+) (\S+) (\S+) (\S+)$)");

TEST(PlanExportEdl, EventsHaveSourceAndRecordTimecodesAt25Fps) {
  auto edl = ExportPlanEdl(Plan({{Range(4.0, 14.0, 1.0, "the hook"), Range(20.0, 22.48, 1.0, "the\npunchline")}}),
                           0, Media(25));
  ASSERT_OK(edl.status());
  auto lines = Lines(*edl);
  ASSERT_EQ(lines.size(), 8u) << *edl;
  EXPECT_EQ(lines[0], "TITLE: main");
  EXPECT_EQ(lines[1], "FCM: NON-DROP FRAME");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[2], m, kEvent)) << lines[2];
  EXPECT_EQ(m[1], "001");
  EXPECT_EQ(m[2], "AX");
  EXPECT_EQ(m[3], "B");
  EXPECT_EQ(m[4], "00:00:04:00");
  EXPECT_EQ(m[5], "00:00:14:00");
  EXPECT_EQ(m[6], "01:00:00:00");
  EXPECT_EQ(m[7], "01:00:10:00");
  EXPECT_EQ(lines[3], "* FROM CLIP NAME: talk one.mp4");
  EXPECT_EQ(lines[4], "* because: the hook");
  ASSERT_TRUE(std::regex_match(lines[5], m, kEvent)) << lines[5];
  EXPECT_EQ(m[1], "002");
  EXPECT_EQ(m[4], "00:00:20:00");
  EXPECT_EQ(m[5], "00:00:22:12");
  EXPECT_EQ(m[6], "01:00:10:00");
  EXPECT_EQ(m[7], "01:00:12:12");
  EXPECT_EQ(lines[7], "* because: the punchline");  // one line, whatever the note holds
}

TEST(PlanExportEdl, CountsDropFrameTimecodeAt2997) {
  // 59.0..61.0 s crosses the first minute, where ;00 and ;01 are skipped.
  auto edl = ExportPlanEdl(Plan({{Range(59.0, 61.0)}}), 0, [] {
    auto m = Media(29.97);
    m.duration_s = 120;
    return m;
  }());
  ASSERT_OK(edl.status());
  auto lines = Lines(*edl);
  ASSERT_GE(lines.size(), 3u) << *edl;
  EXPECT_EQ(lines[1], "FCM: DROP FRAME");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[2], m, kEvent)) << lines[2];
  // 59 s is frame 1768 (58:28 in drop-frame numbers), 61 s frame 1828.
  EXPECT_EQ(m[4], "00:00:58;28");
  EXPECT_EQ(m[5], "00:01:01;00");
  EXPECT_EQ(m[6], "01:00:00;00");
  EXPECT_EQ(m[7], "01:00:02;00");  // 60 frames after 01:00:00;00 (no drop there: minute 60 is a tenth)
}

TEST(PlanExportEdl, ASpeedChangeHasAnM2LineWithTheRateAndTheSourceIn) {
  auto edl = ExportPlanEdl(Plan({{Range(4.0, 8.0, 2.0), Range(10.0, 11.0, 0.5)}}), 0, Media(24));
  ASSERT_OK(edl.status());
  auto lines = Lines(*edl);
  ASSERT_EQ(lines.size(), 10u) << *edl;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[2], m, kEvent)) << lines[2];
  EXPECT_EQ(m[4], "00:00:04:00");
  EXPECT_EQ(m[5], "00:00:08:00");  // the real source out
  EXPECT_EQ(m[6], "01:00:00:00");
  EXPECT_EQ(m[7], "01:00:02:00");  // half as long in the record
  EXPECT_EQ(lines[3], "M2   AX       048.0    00:00:04:00");
  EXPECT_EQ(lines[4], "* FROM CLIP NAME: talk one.mp4");
  ASSERT_TRUE(std::regex_match(lines[6], m, kEvent)) << lines[6];
  EXPECT_EQ(m[6], "01:00:02:00");
  EXPECT_EQ(m[7], "01:00:04:00");
  EXPECT_EQ(lines[7], "M2   AX       012.0    00:00:10:00");
}

// --- FCPXML ---------------------------------------------------------------

TEST(PlanExportFcpxml, ParsesAndEveryTimeIsAWholeNumberOfFramesWithContiguousClips) {
  auto plan = Plan({{Range(1.0, 2.5), Range(61.0 / 3, 25.0, 2.0), Range(3.0, 4.0, 0.5)},
                    {Range(0.0, 10.0)},
                    {Range(12.3456, 17.891, 1.25)}});
  auto media = Media(29.97);
  media.duration_s = 29.98;  // not a whole number of frames
  auto f = ParseFcpxml(plan, media);
  ASSERT_NE(f.root, nullptr);
  EXPECT_EQ(Prop(f.root, "version"), "1.10");
  EXPECT_EQ(f.frame.num, 1001);
  EXPECT_EQ(f.frame.den, 30000);

  // Every time attribute of every element, timeMap points included.
  int checked = 0;
  std::vector<xmlNode*> all;
  Descendants(f.root, "asset", all);
  Descendants(f.root, "sequence", all);
  Descendants(f.root, "asset-clip", all);
  Descendants(f.root, "timept", all);
  for (xmlNode* n : all) {
    for (const char* attr : {"offset", "start", "duration", "tcStart", "time", "value"}) {
      if (!HasProp(n, attr)) continue;
      Frames(Prop(n, attr), f.frame);
      ++checked;
    }
  }
  EXPECT_GT(checked, 30);

  auto assets = Descendants(f.root, "asset");
  ASSERT_EQ(assets.size(), 1u);
  EXPECT_GE(static_cast<double>(Frames(Prop(assets[0], "duration"), f.frame)) / kNtsc, media.duration_s);

  auto sequences = Descendants(f.root, "sequence");
  ASSERT_EQ(sequences.size(), 3u);
  for (size_t o = 0; o < sequences.size(); ++o) {
    auto clips = SnapPlanOutput(plan, o, media);
    ASSERT_OK(clips.status());
    auto spine = Children(sequences[o], "spine");
    ASSERT_EQ(spine.size(), 1u);
    auto items = Children(spine[0], "asset-clip");
    ASSERT_EQ(items.size(), clips->size());
    int64_t offset = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      EXPECT_EQ(Frames(Prop(items[i], "offset"), f.frame), offset) << "output " << o << " clip " << i;
      EXPECT_EQ(Frames(Prop(items[i], "start"), f.frame), (*clips)[i].source_in);
      EXPECT_EQ(Frames(Prop(items[i], "duration"), f.frame), (*clips)[i].record_frames);
      offset += Frames(Prop(items[i], "duration"), f.frame);
    }
    EXPECT_EQ(Frames(Prop(sequences[o], "duration"), f.frame), offset);
    EXPECT_EQ(Prop(sequences[o], "tcFormat"), "DF");
    EXPECT_EQ(Prop(sequences[o], "format"), "r1");
  }
}

TEST(PlanExportFcpxml, HasOneFormatOneAssetAndOneProjectPerOutputInOneEvent) {
  auto f = ParseFcpxml(Plan({{Range(1, 2)}, {Range(3, 4)}}), Media(25));
  ASSERT_NE(f.root, nullptr);
  auto resources = Children(f.root, "resources");
  ASSERT_EQ(resources.size(), 1u);
  auto format = Children(resources[0], "format");
  ASSERT_EQ(format.size(), 1u);
  EXPECT_EQ(Prop(format[0], "id"), "r1");
  EXPECT_EQ(Prop(format[0], "frameDuration"), "1/25s");
  EXPECT_EQ(Prop(format[0], "width"), "1920");
  EXPECT_EQ(Prop(format[0], "height"), "1080");
  auto asset = Children(resources[0], "asset");
  ASSERT_EQ(asset.size(), 1u);
  EXPECT_EQ(Prop(asset[0], "id"), "r2");
  EXPECT_EQ(Prop(asset[0], "start"), "0s");
  EXPECT_EQ(Prop(asset[0], "duration"), "30s");
  EXPECT_EQ(Prop(asset[0], "hasVideo"), "1");
  EXPECT_EQ(Prop(asset[0], "hasAudio"), "1");
  EXPECT_EQ(Prop(asset[0], "format"), "r1");
  EXPECT_EQ(Prop(asset[0], "audioChannels"), "2");
  auto rep = Children(asset[0], "media-rep");
  ASSERT_EQ(rep.size(), 1u);
  EXPECT_EQ(Prop(rep[0], "kind"), "original-media");
  EXPECT_EQ(Prop(rep[0], "src"), "file:///media/talk%20one.mp4");

  auto events = Descendants(f.root, "event");
  ASSERT_EQ(events.size(), 1u);
  auto projects = Children(events[0], "project");
  ASSERT_EQ(projects.size(), 2u);
  EXPECT_EQ(Prop(projects[0], "name"), "main");
  EXPECT_EQ(Prop(projects[1], "name"), "short 1");
  auto seq = Children(projects[0], "sequence");
  ASSERT_EQ(seq.size(), 1u);
  EXPECT_EQ(Prop(seq[0], "tcStart"), "0s");
  EXPECT_EQ(Prop(seq[0], "tcFormat"), "NDF");
  EXPECT_EQ(Prop(seq[0], "audioLayout"), "stereo");
  EXPECT_EQ(Prop(seq[0], "audioRate"), "48k");
  auto clip = Descendants(seq[0], "asset-clip");
  ASSERT_EQ(clip.size(), 1u);
  EXPECT_EQ(Prop(clip[0], "ref"), "r2");
  EXPECT_EQ(Prop(clip[0], "offset"), "0s");
  EXPECT_EQ(Prop(clip[0], "start"), "1s");
  EXPECT_EQ(Prop(clip[0], "duration"), "1s");
}

TEST(PlanExportFcpxml, ASpeedTwoRangeHasHalfTheDurationAndALinearTimeMapFromStart) {
  auto f = ParseFcpxml(Plan({{Range(1.0, 2.0), Range(4.0, 8.0, 2.0), Range(9.0, 10.0)}}), Media(kNtsc));
  ASSERT_NE(f.root, nullptr);
  auto clips = Descendants(f.root, "asset-clip");
  ASSERT_EQ(clips.size(), 3u);
  xmlNode* fast = clips[1];
  int64_t start = Frames(Prop(fast, "start"), f.frame);
  int64_t duration = Frames(Prop(fast, "duration"), f.frame);
  EXPECT_EQ(start, 120);    // 4 s at 29.97
  EXPECT_EQ(duration, 60);  // 120 source frames at double speed
  EXPECT_EQ(Frames(Prop(clips[2], "offset"), f.frame), 30 + 60);
  EXPECT_TRUE(Children(clips[0], "timeMap").empty());
  EXPECT_TRUE(Children(clips[2], "timeMap").empty());
  auto maps = Children(fast, "timeMap");
  ASSERT_EQ(maps.size(), 1u);
  auto points = Children(maps[0], "timept");
  ASSERT_EQ(points.size(), 2u);
  // time: the clip's local time from start to start + duration; value: the
  // source it shows, from the in- to the out-point.
  EXPECT_EQ(Frames(Prop(points[0], "time"), f.frame), start);
  EXPECT_EQ(Frames(Prop(points[0], "value"), f.frame), 120);
  EXPECT_EQ(Frames(Prop(points[1], "time"), f.frame), start + duration);
  EXPECT_EQ(Frames(Prop(points[1], "value"), f.frame), 240);
  for (xmlNode* p : points) EXPECT_EQ(Prop(p, "interp"), "linear");
}

TEST(PlanExportFcpxml, NamesAndNotesWithMarkupCharactersRoundTripThroughTheParser) {
  auto plan = Plan({{Range(1, 2, 1.0, "he said \"<b>stop</b>\" & left\nfor 'good'")}});
  plan.outputs[0].name = "Tom & Jerry <\"best\" of>";
  auto media = Media(25);
  media.name = "a&b <c> \"d\".mp4";
  media.url = "/media/a&b <c> \"d\".mp4";
  auto f = ParseFcpxml(plan, media);
  ASSERT_NE(f.root, nullptr);
  EXPECT_EQ(Prop(Descendants(f.root, "project")[0], "name"), "Tom & Jerry <\"best\" of>");
  EXPECT_EQ(Prop(Descendants(f.root, "asset")[0], "name"), "a&b <c> \"d\".mp4");
  EXPECT_EQ(Prop(Descendants(f.root, "media-rep")[0], "src"), "file:///media/a%26b%20%3Cc%3E%20%22d%22.mp4");
  auto clip = Descendants(f.root, "asset-clip")[0];
  EXPECT_EQ(Prop(clip, "name"), "a&b <c> \"d\".mp4");
  auto notes = Children(clip, "note");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(Text(notes[0]), "he said \"<b>stop</b>\" & left\nfor 'good'");
}

TEST(PlanExportFcpxml, ReplacesBytesThatAreNotUtf8SoTheDocumentStillParses) {
  auto plan = Plan({{Range(1, 2, 1.0, "caf\xE9 \x01 bell")}});
  auto media = Media(25);
  media.name = "clip\xFF.mp4";
  auto f = ParseFcpxml(plan, media);
  ASSERT_NE(f.root, nullptr);
  EXPECT_EQ(Prop(Descendants(f.root, "asset")[0], "name"), "clip\xEF\xBF\xBD.mp4");
  EXPECT_EQ(Text(Children(Descendants(f.root, "asset-clip")[0], "note")[0]), "caf\xEF\xBF\xBD  bell");
  EXPECT_OK(ExportPlanOtio(plan, 0, media).status());
}

// The part of Apple's FCPXML 1.10 DTD that covers what the exporter writes
// (element order, required attributes, enumerations); Final Cut Pro
// refuses a document that does not match the DTD outright.
constexpr const char* kFcpxmlDtdSubset = R"DTD(
<!ENTITY % time "CDATA">
<!ELEMENT fcpxml (resources?, library)>
<!ATTLIST fcpxml version CDATA #FIXED "1.10">
<!ELEMENT resources (asset | format)*>
<!ELEMENT format EMPTY>
<!ATTLIST format id ID #REQUIRED name CDATA #IMPLIED frameDuration %time; #IMPLIED
                 width CDATA #IMPLIED height CDATA #IMPLIED>
<!ELEMENT asset (media-rep+)>
<!ATTLIST asset id ID #REQUIRED name CDATA #IMPLIED start %time; #IMPLIED duration %time; #IMPLIED
                hasVideo CDATA #IMPLIED format IDREF #IMPLIED hasAudio CDATA #IMPLIED
                videoSources CDATA #IMPLIED audioSources CDATA #IMPLIED audioChannels CDATA #IMPLIED
                audioRate CDATA #IMPLIED>
<!ELEMENT media-rep EMPTY>
<!ATTLIST media-rep kind (original-media | proxy-media) "original-media" src CDATA #REQUIRED>
<!ELEMENT library (event)*>
<!ELEMENT event (project)*>
<!ATTLIST event name CDATA #IMPLIED>
<!ELEMENT project (sequence)>
<!ATTLIST project name CDATA #IMPLIED>
<!ELEMENT sequence (note?, spine)>
<!ATTLIST sequence format IDREF #REQUIRED duration %time; #IMPLIED tcStart %time; #IMPLIED
                   tcFormat (DF | NDF) #IMPLIED audioLayout (mono | stereo | surround) #IMPLIED
                   audioRate (32k | 44.1k | 48k | 88.2k | 96k | 176.4k | 192k) #IMPLIED>
<!ELEMENT spine (asset-clip)*>
<!ELEMENT asset-clip (note?, timeMap?)>
<!ATTLIST asset-clip ref IDREF #REQUIRED offset %time; #IMPLIED name CDATA #IMPLIED
                     start %time; #IMPLIED duration %time; #IMPLIED>
<!ELEMENT note (#PCDATA)>
<!ELEMENT timeMap (timept)*>
<!ELEMENT timept EMPTY>
<!ATTLIST timept time %time; #REQUIRED value CDATA #REQUIRED
                 interp (smooth2 | linear | smooth) "smooth2">
)DTD";

void CollectValidityError(void* ctx, const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  *static_cast<std::string*>(ctx) += buf;
}

TEST(PlanExportFcpxml, IsValidAgainstTheFcpxmlDtdForTheElementsItUses) {
  struct DtdDeleter {
    void operator()(xmlDtd* dtd) const { xmlFreeDtd(dtd); }
  };
  struct ValidCtxtDeleter {
    void operator()(xmlValidCtxt* c) const { xmlFreeValidCtxt(c); }
  };
  xmlParserInputBufferPtr input = xmlParserInputBufferCreateMem(
      kFcpxmlDtdSubset, static_cast<int>(std::char_traits<char>::length(kFcpxmlDtdSubset)), XML_CHAR_ENCODING_NONE);
  ASSERT_NE(input, nullptr);
  std::unique_ptr<xmlDtd, DtdDeleter> dtd(xmlIOParseDTD(nullptr, input, XML_CHAR_ENCODING_NONE));  // owns input
  ASSERT_NE(dtd, nullptr);

  auto plan = Plan({{Range(1, 2), Range(3, 5, 2.0, ""), Range(6, 7, 0.5)}, {Range(8, 9)}});
  plan.outputs[0].ranges[1].because.clear();  // a clip with a timeMap and no note
  for (double fps : {25.0, 29.97, 23.976}) {
    auto text = ExportPlanFcpxml(plan, Media(fps));
    ASSERT_OK(text.status());
    XmlDoc doc = ParseXml(*text);
    ASSERT_TRUE(doc);
    std::unique_ptr<xmlValidCtxt, ValidCtxtDeleter> ctxt(xmlNewValidCtxt());
    std::string errors;
    ctxt->userData = &errors;
    ctxt->error = CollectValidityError;
    ctxt->warning = CollectValidityError;
    EXPECT_EQ(xmlValidateDtd(ctxt.get(), doc.get(), dtd.get()), 1) << errors << "\n" << *text;
  }
}

// --- all formats ----------------------------------------------------------

TEST(PlanExport, EveryFormatCutsTheSameFrames) {
  auto plan = Plan({{Range(0.52, 3.31), Range(7.777, 9.123, 1.5), Range(12.0, 12.99)}});
  auto media = Media(23.976);
  auto clips = SnapPlanOutput(plan, 0, media);
  ASSERT_OK(clips.status());
  const double fps = PlanFrameRateFor(media.fps).fps();

  auto otio = Otio(plan, 0, media);
  const auto& video = otio["tracks"]["children"][0]["children"];
  ASSERT_EQ(video.size(), clips->size());

  auto edl = ExportPlanEdl(plan, 0, media);
  ASSERT_OK(edl.status());
  auto lines = Lines(*edl);
  std::vector<std::vector<std::string>> fields;
  for (const auto& l : lines) {
    std::smatch m;
    if (std::regex_match(l, m, kEvent)) fields.push_back({m[4], m[5], m[6], m[7]});
  }
  ASSERT_EQ(fields.size(), clips->size()) << *edl;

  auto f = ParseFcpxml(plan, media);
  ASSERT_NE(f.root, nullptr);
  auto items = Descendants(f.root, "asset-clip");
  ASSERT_EQ(items.size(), clips->size());

  for (size_t i = 0; i < clips->size(); ++i) {
    const PlanExportClip& c = (*clips)[i];
    EXPECT_DOUBLE_EQ(video[i]["source_range"]["start_time"]["value"].get<double>(), c.source_in);
    EXPECT_DOUBLE_EQ(video[i]["source_range"]["duration"]["value"].get<double>(), c.record_frames);
    EXPECT_EQ(fields[i][0], analysis::Timecode(c.source_in, fps));
    EXPECT_EQ(fields[i][1], analysis::Timecode(c.source_out, fps));
    EXPECT_EQ(fields[i][2], analysis::Timecode(24 * 3600 + c.record_in, fps));
    EXPECT_EQ(fields[i][3], analysis::Timecode(24 * 3600 + c.record_in + c.record_frames, fps));
    EXPECT_EQ(Frames(Prop(items[i], "start"), f.frame), c.source_in);
    EXPECT_EQ(Frames(Prop(items[i], "offset"), f.frame), c.record_in);
    EXPECT_EQ(Frames(Prop(items[i], "duration"), f.frame), c.record_frames);
  }
}

}  // namespace
}  // namespace cutroom::edit
