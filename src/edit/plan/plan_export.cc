#include "edit/plan/plan_export.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <utility>

#include <nlohmann/json.hpp>

#include "analysis/clips/export.h"

namespace cutroom::edit {
namespace {

using nlohmann::json;

bool IsUnitSpeed(double speed) { return std::abs(speed - 1.0) < 1e-9; }

// Frames per timecode second (30 at 29.97), as timecode and EDL speeds count.
int64_t TimecodeBase(double fps) { return std::max<int64_t>(1, std::llround(fps)); }

bool IsDropFrame(double fps) {
  return std::abs(fps - 30000.0 / 1001) < 0.01 || std::abs(fps - 60000.0 / 1001) < 0.01;
}

// Record time of an EDL (and the OTIO timeline's global start): 01:00:00:00.
int64_t OneHourOfFrames(double fps) { return IsDropFrame(fps) ? std::llround(fps * 3600) : TimecodeBase(fps) * 3600; }

std::string DisplayName(const PlanExportMedia& media) {
  if (!media.name.empty()) return media.name;
  std::string url = media.url;
  size_t q = url.find_first_of("?#");
  if (q != std::string::npos) url = url.substr(0, q);
  size_t slash = url.find_last_of('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

std::string OutputName(const PlanOutput& output, const PlanExportMedia& media) {
  return output.name.empty() ? DisplayName(media) : output.name;
}

// Frames the media holds in whole (a partial last frame is not one to cut on).
int64_t WholeMediaFrames(const PlanExportMedia& media, const PlanFrameRate& rate) {
  return static_cast<int64_t>(std::floor(media.duration_s * rate.fps() + 1e-6));
}

// --- text ---------------------------------------------------------------

// Valid UTF-8, each bad byte replaced by U+FFFD: a file name from a
// filesystem may be anything, and an XML parser refuses the whole
// document over one bad byte.
std::string ValidUtf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; ok && k < len; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      ok = (d & 0xC0) == 0x80;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 either.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
               (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)) {
      ok = false;
    }
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// One line, printable, at most max bytes of whole UTF-8 characters: EDL
// fields, whose readers split on line ends.
std::string OneLine(const std::string& s, size_t max) {
  std::string out;
  for (char c : ValidUtf8(s)) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) continue;
    out += c;
  }
  if (out.size() > max) {
    out.resize(max);
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
  }
  return out;
}

// XML text or attribute value. Control characters other than tab and line
// ends are not allowed in XML 1.0 at all, so they are dropped; in an
// attribute, tab and line ends are written as character references, or the
// parser would normalise them to spaces.
std::string XmlEscape(const std::string& s, bool attribute) {
  std::string out;
  for (char c : ValidUtf8(s)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += attribute ? "&quot;" : "\""; break;
      case '\'': out += attribute ? "&apos;" : "'"; break;
      case '\t': out += attribute ? "&#9;" : "\t"; break;
      case '\n': out += attribute ? "&#10;" : "\n"; break;
      case '\r': out += "&#13;"; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
  }
  return out;
}

std::string Attr(const std::string& s) { return XmlEscape(s, true); }

// FCPXML wants a URL in media-rep src: an absolute path becomes file://,
// with the bytes a URL cannot hold percent-encoded.
std::string MediaUrl(const std::string& url) {
  if (url.find("://") != std::string::npos) return url;
  std::string out = url.starts_with("/") ? "file://" : "";
  for (unsigned char c : url) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// --- FCPXML time ---------------------------------------------------------

// A whole number of frames as FCPXML rational seconds, reduced: "0s", "5s",
// "1001/30000s", "1001/15000s".
std::string FcpTime(int64_t frames, const PlanFrameRate& rate) {
  if (frames == 0) return "0s";
  int64_t num = frames * rate.num;
  int64_t den = rate.den;
  int64_t g = std::gcd(num < 0 ? -num : num, den);
  num /= g;
  den /= g;
  return den == 1 ? std::to_string(num) + "s" : std::to_string(num) + "/" + std::to_string(den) + "s";
}

// The sequence's audioRate is an enumeration; other rates get the nearest.
std::string FcpAudioRate(int hz) {
  static const std::pair<int, const char*> kRates[] = {{32000, "32k"},   {44100, "44.1k"},  {48000, "48k"},
                                                       {88200, "88.2k"}, {96000, "96k"},    {176400, "176.4k"},
                                                       {192000, "192k"}};
  const char* best = "48k";
  int best_diff = -1;
  for (const auto& [rate, name] : kRates) {
    int diff = std::abs(rate - hz);
    if (best_diff < 0 || diff < best_diff) {
      best_diff = diff;
      best = name;
    }
  }
  return best;
}

}  // namespace

PlanFrameRate PlanFrameRateFor(double fps) {
  if (!(fps > 0) || !std::isfinite(fps)) return {};
  for (int64_t k : {24, 30, 48, 60, 120}) {
    if (std::abs(fps - static_cast<double>(k) * 1000.0 / 1001.0) < 0.01) return {1001, k * 1000};
  }
  int64_t whole = std::llround(fps);
  if (whole > 0 && std::abs(fps - static_cast<double>(whole)) < 0.01) return {1, whole};
  int64_t den = std::max<int64_t>(1, std::llround(fps * 1000));
  int64_t g = std::gcd<int64_t>(1000, den);
  return {1000 / g, den / g};
}

Status ValidatePlanExportMedia(const PlanExportMedia& media) {
  if (media.url.empty()) return Status::InvalidArgument("the media has no url: the export must name its source");
  if (!(media.fps > 0 && media.fps <= 1000)) {
    return Status::InvalidArgument("fps must be above 0 and at most 1000, got " + std::to_string(media.fps));
  }
  if (!(media.duration_s > 0) || !std::isfinite(media.duration_s)) {
    return Status::InvalidArgument("the media duration must be known (above 0) to export a plan");
  }
  if (!media.has_video && !media.has_audio) return Status::InvalidArgument("the media has neither video nor audio");
  return Status::Ok();
}

Result<std::vector<PlanExportClip>> SnapPlanOutput(const EditPlan& plan, size_t output_index,
                                                   const PlanExportMedia& media) {
  if (output_index >= plan.outputs.size()) {
    return Status::InvalidArgument("output " + std::to_string(output_index) + " does not exist (the plan has " +
                                   std::to_string(plan.outputs.size()) + ")");
  }
  CUTROOM_RETURN_IF_ERROR(ValidatePlanExportMedia(media));
  const PlanOutput& output = plan.outputs[output_index];
  const PlanFrameRate rate = PlanFrameRateFor(media.fps);
  const double fps = rate.fps();
  const int64_t media_frames = WholeMediaFrames(media, rate);
  std::vector<PlanExportClip> clips;
  int64_t record = 0;
  for (size_t i = 0; i < output.ranges.size(); ++i) {
    const PlanRange& r = output.ranges[i];
    std::string which = "outputs[" + std::to_string(output_index) + "].ranges[" + std::to_string(i) + "]";
    if (!std::isfinite(r.start_s) || !std::isfinite(r.end_s)) {
      return Status::InvalidArgument(which + " has no times (validate the plan first to resolve its ids)");
    }
    if (r.start_s < 0 || r.end_s > media.duration_s + 0.5 / fps) {
      return Status::InvalidArgument(which + " [" + std::to_string(r.start_s) + ", " + std::to_string(r.end_s) +
                                     "] is outside the media (0 to " + std::to_string(media.duration_s) + " s)");
    }
    if (r.end_s < r.start_s) return Status::InvalidArgument(which + " ends before it starts");
    if (!(r.speed >= kMinRangeSpeed && r.speed <= kMaxRangeSpeed)) {
      return Status::InvalidArgument(which + " speed " + std::to_string(r.speed) + " is outside " +
                                     std::to_string(kMinRangeSpeed) + ".." + std::to_string(kMaxRangeSpeed));
    }
    // Edges snap on their own (not start + length) so that ranges which
    // touch in the plan still touch on the grid.
    int64_t in = std::min<int64_t>(std::llround(r.start_s * fps), media_frames);
    int64_t out = std::min<int64_t>(std::llround(r.end_s * fps), media_frames);
    if (out <= in) continue;  // shorter than half a frame: nothing to cut
    int64_t length = IsUnitSpeed(r.speed)
                         ? out - in
                         : std::max<int64_t>(1, std::llround(static_cast<double>(out - in) / r.speed));
    clips.push_back({i, in, out, record, length, IsUnitSpeed(r.speed) ? 1.0 : r.speed});
    record += length;
  }
  if (clips.empty()) {
    return Status::InvalidArgument("output '" + output.name + "' has no range of at least one frame at " +
                                   std::to_string(fps) + " fps");
  }
  return clips;
}

Result<std::string> ExportPlanOtio(const EditPlan& plan, size_t output_index, const PlanExportMedia& media) {
  CUTROOM_ASSIGN_OR_RETURN(auto clips, SnapPlanOutput(plan, output_index, media));
  const PlanOutput& output = plan.outputs[output_index];
  const PlanFrameRate rate = PlanFrameRateFor(media.fps);

  // The clip exporter writes the timeline, tracks and media references; the
  // plan adds what a clip cannot have: lengths that differ from the source
  // (speed), and why each range is there.
  analysis::ClipExportSpec spec;
  // Valid UTF-8, or the JSON writer throws.
  spec.name = ValidUtf8(OutputName(output, media));
  spec.media_url = ValidUtf8(media.url);
  spec.media_name = ValidUtf8(DisplayName(media));
  spec.media_duration_s = media.duration_s;
  spec.fps = rate.fps();
  spec.has_video = media.has_video;
  spec.has_audio = media.has_audio;
  for (const PlanExportClip& c : clips) {
    spec.ranges.push_back({static_cast<double>(c.source_in) / rate.fps(), static_cast<double>(c.source_out) / rate.fps()});
  }
  CUTROOM_ASSIGN_OR_RETURN(std::string text, analysis::ExportOtio(spec, analysis::Transcript{}));
  json timeline = json::parse(text, nullptr, false);
  if (timeline.is_discarded()) return Status::Internal("the clip exporter wrote OTIO that does not parse");

  timeline["metadata"]["cutroom"]["video_id"] = plan.video_id;
  timeline["metadata"]["cutroom"]["output"] = output.name;
  timeline["metadata"]["cutroom"]["plan_version"] = plan.version;
  for (auto& track : timeline["tracks"]["children"]) {
    auto& children = track["children"];
    if (children.size() != clips.size()) {
      return Status::Internal("the clip exporter wrote " + std::to_string(children.size()) + " clips for " +
                              std::to_string(clips.size()) + " ranges");
    }
    for (size_t i = 0; i < clips.size(); ++i) {
      const PlanExportClip& c = clips[i];
      const PlanRange& r = output.ranges[c.range_index];
      json& clip = children[i];
      clip["source_range"]["start_time"]["value"] = static_cast<double>(c.source_in);
      clip["source_range"]["duration"]["value"] = static_cast<double>(c.record_frames);
      clip["metadata"]["cutroom"] = {{"range_index", c.range_index},
                                     {"because", ValidUtf8(r.because)},
                                     {"segment_ids", r.segment_ids},
                                     {"word_ids", r.word_ids}};
      if (!IsUnitSpeed(c.speed)) {
        clip["effects"] = json::array({{{"OTIO_SCHEMA", "LinearTimeWarp.1"},
                                        {"metadata", json::object()},
                                        {"name", ""},
                                        {"effect_name", "LinearTimeWarp"},
                                        {"time_scalar", c.speed}}});
      }
    }
  }
  return timeline.dump(4, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<std::string> ExportPlanEdl(const EditPlan& plan, size_t output_index, const PlanExportMedia& media) {
  CUTROOM_ASSIGN_OR_RETURN(auto clips, SnapPlanOutput(plan, output_index, media));
  const PlanOutput& output = plan.outputs[output_index];
  const double fps = PlanFrameRateFor(media.fps).fps();
  const bool drop = IsDropFrame(fps);
  const std::string channel = media.has_video && media.has_audio ? "B" : media.has_video ? "V" : "A";
  const std::string clip_name = OneLine(DisplayName(media), 200);
  std::string out = "TITLE: " + OneLine(OutputName(output, media), 70) + "\n";
  out += std::string("FCM: ") + (drop ? "DROP FRAME" : "NON-DROP FRAME") + "\n\n";
  const int64_t hour = OneHourOfFrames(fps);
  for (size_t i = 0; i < clips.size(); ++i) {
    const PlanExportClip& c = clips[i];
    const int64_t record_in = hour + c.record_in;
    char line[200];
    std::snprintf(line, sizeof line, "%03zu  %-8s %-5s %-8s %s %s %s %s\n", (i + 1) % 1000, "AX", channel.c_str(), "C",
                  analysis::Timecode(c.source_in, fps).c_str(), analysis::Timecode(c.source_out, fps).c_str(),
                  analysis::Timecode(record_in, fps).c_str(),
                  analysis::Timecode(record_in + c.record_frames, fps).c_str());
    out += line;
    if (!IsUnitSpeed(c.speed)) {
      // CMX motion effect: the reel, the playback rate in timecode frames
      // per second (048.0 is double speed at 24), the source entry point.
      std::snprintf(line, sizeof line, "M2   %-8s %05.1f    %s\n", "AX",
                    static_cast<double>(TimecodeBase(fps)) * c.speed, analysis::Timecode(c.source_in, fps).c_str());
      out += line;
    }
    out += "* FROM CLIP NAME: " + clip_name + "\n";
    const std::string because = OneLine(output.ranges[c.range_index].because, 200);
    if (!because.empty()) out += "* because: " + because + "\n";
    out += "\n";
  }
  return out;
}

Result<std::string> ExportPlanFcpxml(const EditPlan& plan, const PlanExportMedia& media) {
  CUTROOM_RETURN_IF_ERROR(ValidatePlanExportMedia(media));
  if (plan.outputs.empty()) return Status::InvalidArgument("the plan has no outputs to export");
  std::vector<std::vector<PlanExportClip>> outputs;
  for (size_t i = 0; i < plan.outputs.size(); ++i) {
    CUTROOM_ASSIGN_OR_RETURN(auto clips, SnapPlanOutput(plan, i, media));
    outputs.push_back(std::move(clips));
  }
  const PlanFrameRate rate = PlanFrameRateFor(media.fps);
  const std::string tc_format = IsDropFrame(rate.fps()) ? "DF" : "NDF";
  const std::string name = Attr(DisplayName(media));
  // The asset covers the media to its last (partial) frame.
  const auto asset_frames = static_cast<int64_t>(std::ceil(media.duration_s * rate.fps() - 1e-6));

  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE fcpxml>\n\n<fcpxml version=\"1.10\">\n";
  x += "    <resources>\n";
  x += "        <format id=\"r1\" frameDuration=\"" + FcpTime(1, rate) + "\"";
  if (media.has_video && media.width > 0 && media.height > 0) {
    x += " width=\"" + std::to_string(media.width) + "\" height=\"" + std::to_string(media.height) + "\"";
  }
  x += "/>\n";
  x += "        <asset id=\"r2\" name=\"" + name + "\" start=\"0s\" duration=\"" + FcpTime(asset_frames, rate) +
       "\" hasVideo=\"" + (media.has_video ? "1" : "0") + "\" format=\"r1\" hasAudio=\"" +
       (media.has_audio ? "1" : "0") + "\"";
  if (media.has_video) x += " videoSources=\"1\"";
  if (media.has_audio) {
    x += " audioSources=\"1\" audioChannels=\"" + std::to_string(std::max(1, media.audio_channels)) +
         "\" audioRate=\"" + std::to_string(media.audio_rate) + "\"";
  }
  x += ">\n";
  x += "            <media-rep kind=\"original-media\" src=\"" + Attr(MediaUrl(media.url)) + "\"/>\n";
  x += "        </asset>\n";
  x += "    </resources>\n";
  x += "    <library>\n";
  x += "        <event name=\"" + name + "\">\n";
  for (size_t o = 0; o < outputs.size(); ++o) {
    const PlanOutput& output = plan.outputs[o];
    const auto& clips = outputs[o];
    const int64_t total = clips.back().record_in + clips.back().record_frames;
    x += "            <project name=\"" + Attr(OutputName(output, media)) + "\">\n";
    x += "                <sequence format=\"r1\" duration=\"" + FcpTime(total, rate) + "\" tcStart=\"0s\" tcFormat=\"" +
         tc_format + "\" audioLayout=\"stereo\" audioRate=\"" + FcpAudioRate(media.audio_rate) + "\">\n";
    x += "                    <spine>\n";
    for (const PlanExportClip& c : clips) {
      const PlanRange& r = output.ranges[c.range_index];
      x += "                        <asset-clip ref=\"r2\" offset=\"" + FcpTime(c.record_in, rate) + "\" name=\"" + name +
           "\" start=\"" + FcpTime(c.source_in, rate) + "\" duration=\"" + FcpTime(c.record_frames, rate) + "\"";
      if (r.because.empty() && IsUnitSpeed(c.speed)) {
        x += "/>\n";
        continue;
      }
      x += ">\n";
      // The DTD's order: note, then timing (timeMap).
      if (!r.because.empty()) x += "                            <note>" + XmlEscape(r.because, false) + "</note>\n";
      if (!IsUnitSpeed(c.speed)) {
        // Over the clip's own local time: start..start+duration plays the
        // source from its in- to its out-point.
        x += "                            <timeMap>\n";
        x += "                                <timept time=\"" + FcpTime(c.source_in, rate) + "\" value=\"" +
             FcpTime(c.source_in, rate) + "\" interp=\"linear\"/>\n";
        x += "                                <timept time=\"" + FcpTime(c.source_in + c.record_frames, rate) +
             "\" value=\"" + FcpTime(c.source_out, rate) + "\" interp=\"linear\"/>\n";
        x += "                            </timeMap>\n";
      }
      x += "                        </asset-clip>\n";
    }
    x += "                    </spine>\n";
    x += "                </sequence>\n";
    x += "            </project>\n";
  }
  x += "        </event>\n";
  x += "    </library>\n";
  x += "</fcpxml>\n";
  return x;
}

}  // namespace cutroom::edit
