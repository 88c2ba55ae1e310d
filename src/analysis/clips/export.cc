#include "analysis/clips/export.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "analysis/clips/candidates.h"
#include "analysis/clips/sentences.h"
#include "analysis/transcribe/subtitles.h"

namespace cutroom::analysis {
namespace {

using nlohmann::json;

struct FrameRange {
  int64_t start = 0;  // source frames, [start, end)
  int64_t end = 0;
};

// NTSC rates count timecode with dropped frame numbers.
bool IsDropFrame(double fps) { return std::abs(fps - 30000.0 / 1001) < 0.01 || std::abs(fps - 60000.0 / 1001) < 0.01; }

// Frames per timecode second: 30 for 29.97, 24 for 23.976.
int64_t TimecodeBase(double fps) { return std::max<int64_t>(1, std::llround(fps)); }

std::vector<FrameRange> SnapToFrames(const ClipExportSpec& spec) {
  int64_t media_frames = std::llround(spec.media_duration_s * spec.fps);
  std::vector<FrameRange> out;
  for (const auto& r : spec.ranges) {
    FrameRange f{std::llround(r.start_s * spec.fps), std::llround(r.end_s * spec.fps)};
    f.end = std::min(f.end, media_frames);
    out.push_back(f);
  }
  return out;
}

std::string DisplayName(const ClipExportSpec& spec) {
  if (!spec.media_name.empty()) return spec.media_name;
  std::string url = spec.media_url;
  size_t q = url.find_first_of("?#");
  if (q != std::string::npos) url = url.substr(0, q);
  size_t slash = url.find_last_of('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

json RationalTime(int64_t frames, double rate) {
  return {{"OTIO_SCHEMA", "RationalTime.1"}, {"rate", rate}, {"value", static_cast<double>(frames)}};
}

json TimeRange(int64_t start, int64_t duration, double rate) {
  return {{"OTIO_SCHEMA", "TimeRange.1"},
          {"duration", RationalTime(duration, rate)},
          {"start_time", RationalTime(start, rate)}};
}

json Marker(const std::string& name, const std::string& comment, const std::string& color, int64_t start,
            int64_t duration, double rate) {
  return {{"OTIO_SCHEMA", "Marker.2"},
          {"metadata", json::object()},
          {"name", name},
          {"color", color},
          {"marked_range", TimeRange(start, duration, rate)},
          {"comment", comment}};
}

// One line, printable, at most max bytes: EDL fields and titles.
std::string OneLine(const std::string& s, size_t max) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  if (out.size() > max) {
    out.resize(max);
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();  // whole UTF-8
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
  }
  return out;
}

}  // namespace

std::string Timecode(int64_t frame, double fps) {
  int64_t base = TimecodeBase(fps);
  bool drop = IsDropFrame(fps);
  if (frame < 0) frame = 0;
  if (drop) {
    // SMPTE drop-frame: frame numbers 0 and 1 (0-3 at 59.94) are skipped
    // at the start of every minute except every tenth.
    int64_t dropped = base / 15;                        // 2 or 4
    int64_t per_10_min = std::llround(fps * 600);      // 17982 or 35964
    int64_t per_min = base * 60 - dropped;              // 1798 or 3596
    int64_t tens = frame / per_10_min;
    int64_t rest = frame % per_10_min;
    frame += dropped * 9 * tens + (rest > dropped ? dropped * ((rest - dropped) / per_min) : 0);
  }
  int64_t ff = frame % base;
  int64_t total_s = frame / base;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld%c%02lld", static_cast<long long>((total_s / 3600) % 24),
                static_cast<long long>((total_s / 60) % 60), static_cast<long long>(total_s % 60), drop ? ';' : ':',
                static_cast<long long>(ff));
  return buf;
}

Status ValidateClipExport(const ClipExportSpec& spec) {
  if (!(spec.fps > 0 && spec.fps <= 1000)) {
    return Status::InvalidArgument("fps must be above 0 and at most 1000, got " + std::to_string(spec.fps));
  }
  if (!(spec.media_duration_s > 0) || !std::isfinite(spec.media_duration_s)) {
    return Status::InvalidArgument("the media duration must be known (above 0) to export a clip");
  }
  if (spec.media_url.empty()) return Status::InvalidArgument("media_url is empty: the export must name its source");
  if (!spec.has_video && !spec.has_audio) return Status::InvalidArgument("the media has neither video nor audio");
  if (spec.ranges.empty()) return Status::InvalidArgument("a clip needs at least one range");
  for (size_t i = 0; i < spec.ranges.size(); ++i) {
    const auto& r = spec.ranges[i];
    std::string which = "range " + std::to_string(i) + " [" + std::to_string(r.start_s) + ", " +
                        std::to_string(r.end_s) + "]";
    if (!std::isfinite(r.start_s) || !std::isfinite(r.end_s) || r.start_s < 0 ||
        r.end_s > spec.media_duration_s + 0.5 / spec.fps) {
      return Status::InvalidArgument(which + " is outside the media (0 to " + std::to_string(spec.media_duration_s) +
                                     " s)");
    }
    if (std::llround(r.end_s * spec.fps) <= std::llround(r.start_s * spec.fps)) {
      return Status::InvalidArgument(which + " is empty, reversed or shorter than one frame");
    }
  }
  return Status::Ok();
}

Transcript RetimeTranscript(const ClipExportSpec& spec, const Transcript& transcript) {
  Transcript out;
  out.engine = transcript.engine;
  out.model = transcript.model;
  out.language = transcript.language;
  SentenceSplit split = SplitSentences(transcript);
  double offset = 0;
  for (const FrameRange& f : SnapToFrames(spec)) {
    double a = static_cast<double>(f.start) / spec.fps, b = static_cast<double>(f.end) / spec.fps;
    for (const Sentence& s : split.sentences) {
      if (s.end_s <= a || s.start_s >= b) continue;
      TranscriptSegment seg;
      for (size_t i = s.first_word; i <= s.last_word; ++i) {
        const SpokenWord& w = split.words[i];
        double mid = (w.start_s + w.end_s) / 2;
        if (mid < a || mid >= b) continue;
        double start = std::max(w.start_s, a) - a + offset;
        double end = std::min(w.end_s, b) - a + offset;
        seg.words.push_back({w.text, start, std::max(start, end), w.confidence});
        seg.text += (seg.text.empty() ? "" : " ") + w.text;
      }
      if (seg.words.empty()) continue;
      seg.start_s = seg.words.front().start_s;
      seg.end_s = seg.words.back().end_s;
      out.segments.push_back(std::move(seg));
    }
    offset += b - a;
  }
  return out;
}

Result<std::string> ExportOtio(const ClipExportSpec& spec, const Transcript& transcript) {
  CUTROOM_RETURN_IF_ERROR(ValidateClipExport(spec));
  const double rate = spec.fps;
  std::vector<FrameRange> frames = SnapToFrames(spec);
  int64_t media_frames = std::llround(spec.media_duration_s * rate);
  SentenceSplit split = SplitSentences(transcript);
  std::string display = DisplayName(spec);

  auto clip = [&](size_t index, bool with_markers) {
    const FrameRange& f = frames[index];
    json markers = json::array();
    if (with_markers) {
      bool hook_placed = false;
      for (const Sentence& s : split.sentences) {
        int64_t at = std::llround(s.start_s * rate);
        if (at < f.start || at >= f.end) continue;
        int64_t until = std::min(f.end, std::max<int64_t>(at + 1, std::llround(s.end_s * rate)));
        if (index == 0 && !hook_placed) {
          markers.push_back(Marker("hook", spec.hook.empty() ? s.text : spec.hook, "RED", at, until - at, rate));
          hook_placed = true;
        } else {
          markers.push_back(Marker(TitleFromSentence(s.text), s.text, "GREEN", at, until - at, rate));
        }
      }
      if (index == 0 && !hook_placed && !spec.hook.empty()) {
        markers.push_back(Marker("hook", spec.hook, "RED", f.start, 1, rate));
      }
    }
    json reference = {{"OTIO_SCHEMA", "ExternalReference.1"},
                      {"metadata", json::object()},
                      {"name", display},
                      {"available_range", TimeRange(0, media_frames, rate)},
                      {"available_image_bounds", nullptr},
                      {"target_url", spec.media_url}};
    std::string name = spec.name.empty() ? display : spec.name;
    if (frames.size() > 1) name += " (" + std::to_string(index + 1) + "/" + std::to_string(frames.size()) + ")";
    return json{{"OTIO_SCHEMA", "Clip.2"},
                {"metadata", {{"cutroom", {{"range_index", index}}}}},
                {"name", name},
                {"source_range", TimeRange(f.start, f.end - f.start, rate)},
                {"effects", json::array()},
                {"markers", markers},
                {"enabled", true},
                {"media_references", {{"DEFAULT_MEDIA", reference}}},
                {"active_media_reference_key", "DEFAULT_MEDIA"}};
  };
  auto track = [&](const std::string& name, const std::string& kind, bool with_markers) {
    json children = json::array();
    for (size_t i = 0; i < frames.size(); ++i) children.push_back(clip(i, with_markers));
    return json{{"OTIO_SCHEMA", "Track.1"}, {"metadata", json::object()}, {"name", name},
                {"source_range", nullptr},  {"effects", json::array()},   {"markers", json::array()},
                {"enabled", true},          {"children", children},       {"kind", kind}};
  };
  json tracks = json::array();
  if (spec.has_video) tracks.push_back(track("V1", "Video", true));
  if (spec.has_audio) tracks.push_back(track("A1", "Audio", !spec.has_video));
  // Record time starts at 01:00:00:00, as in the EDL.
  int64_t hour = IsDropFrame(rate) ? std::llround(rate * 3600) : TimecodeBase(rate) * 3600;
  json timeline = {{"OTIO_SCHEMA", "Timeline.1"},
                   {"metadata", {{"cutroom", {{"media_url", spec.media_url}}}}},
                   {"name", spec.name.empty() ? display : spec.name},
                   {"global_start_time", RationalTime(hour, rate)},
                   {"tracks",
                    {{"OTIO_SCHEMA", "Stack.1"},
                     {"metadata", json::object()},
                     {"name", "tracks"},
                     {"source_range", nullptr},
                     {"effects", json::array()},
                     {"markers", json::array()},
                     {"enabled", true},
                     {"children", tracks}}}};
  return timeline.dump(4) + "\n";
}

Result<std::string> ExportEdl(const ClipExportSpec& spec) {
  CUTROOM_RETURN_IF_ERROR(ValidateClipExport(spec));
  std::vector<FrameRange> frames = SnapToFrames(spec);
  bool drop = IsDropFrame(spec.fps);
  std::string channel = spec.has_video && spec.has_audio ? "B" : spec.has_video ? "V" : "A";
  std::string title = OneLine(spec.name.empty() ? DisplayName(spec) : spec.name, 70);
  std::string out = "TITLE: " + title + "\n";
  out += std::string("FCM: ") + (drop ? "DROP FRAME" : "NON-DROP FRAME") + "\n\n";
  int64_t record = drop ? std::llround(spec.fps * 3600) : TimecodeBase(spec.fps) * 3600;
  std::string clip_name = OneLine(DisplayName(spec), 200);
  for (size_t i = 0; i < frames.size(); ++i) {
    const FrameRange& f = frames[i];
    int64_t length = f.end - f.start;
    char line[160];
    std::snprintf(line, sizeof line, "%03zu  %-8s %-5s %-8s %s %s %s %s\n", (i + 1) % 1000, "AX", channel.c_str(), "C",
                  Timecode(f.start, spec.fps).c_str(), Timecode(f.end, spec.fps).c_str(),
                  Timecode(record, spec.fps).c_str(), Timecode(record + length, spec.fps).c_str());
    out += line;
    out += "* FROM CLIP NAME: " + clip_name + "\n\n";
    record += length;
  }
  return out;
}

namespace {

Result<std::vector<Cue>> ClipCues(const ClipExportSpec& spec, const Transcript& transcript) {
  CUTROOM_RETURN_IF_ERROR(ValidateClipExport(spec));
  double total = 0;
  for (const FrameRange& f : SnapToFrames(spec)) total += static_cast<double>(f.end - f.start) / spec.fps;
  std::vector<Cue> cues = BuildCues(RetimeTranscript(spec, transcript));
  // Short cues are held up to a second; never past the end of the clip.
  for (auto& c : cues) c.end_s = std::min(c.end_s, total);
  std::erase_if(cues, [](const Cue& c) { return c.end_s <= c.start_s; });
  return cues;
}

}  // namespace

Result<std::string> ExportSrt(const ClipExportSpec& spec, const Transcript& transcript) {
  CUTROOM_ASSIGN_OR_RETURN(auto cues, ClipCues(spec, transcript));
  return FormatSrt(cues);
}

Result<std::string> ExportVtt(const ClipExportSpec& spec, const Transcript& transcript) {
  CUTROOM_ASSIGN_OR_RETURN(auto cues, ClipCues(spec, transcript));
  return FormatVtt(cues);
}

}  // namespace cutroom::analysis
