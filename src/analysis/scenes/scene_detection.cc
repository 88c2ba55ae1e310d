#include "analysis/scenes/scene_detection.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "analysis/scenes/two_pass.h"

namespace cutroom::analysis::scenes {
namespace {

constexpr int64_t kMaxMinSceneFrames = 1'000'000;
constexpr double kMaxMinSceneSeconds = 3600;

double ThresholdLimit(DetectorKind kind) {
  switch (kind) {
    case DetectorKind::kContent: return 255;
    case DetectorKind::kAdaptive: return 1000;
    case DetectorKind::kThreshold: return 255;
    case DetectorKind::kHash: return 1;
  }
  return 255;
}

// HH:MM:SS.mmm
std::string ClockTime(double s) {
  s = std::max(0.0, s);
  auto ms = static_cast<int64_t>(std::llround(s * 1000.0));
  char buf[96];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%03lld", static_cast<long long>(ms / 3600000),
                static_cast<long long>(ms / 60000 % 60), static_cast<long long>(ms / 1000 % 60),
                static_cast<long long>(ms % 1000));
  return buf;
}

// HH:MM:SS:FF at the nominal (integer) rate, non-drop-frame.
std::string Timecode(int64_t frame, double fps) {
  int64_t rate = std::max<int64_t>(1, std::llround(fps > 0 ? fps : 25));
  frame = std::max<int64_t>(0, frame);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld:%02lld", static_cast<long long>(frame / (rate * 3600)),
                static_cast<long long>(frame / (rate * 60) % 60), static_cast<long long>(frame / rate % 60),
                static_cast<long long>(frame % rate));
  return buf;
}

}  // namespace

nlohmann::json SceneParams::ToJson() const {
  nlohmann::json j = {{"detector", DetectorName(detector)},
                      {"threshold", threshold >= 0 ? threshold : DefaultThreshold(detector)},
                      {"min_scene_len", min_scene_len_frames},
                      {"downscale", downscale},
                      {"gradual", gradual},
                      {"describe", describe}};
  if (!prompt.empty()) j["prompt"] = prompt;
  if (min_scene_len_s >= 0) j["min_scene_len"] = std::to_string(min_scene_len_s) + "s";
  return j;
}

Result<SceneParams> ParseSceneParams(const nlohmann::json& params) {
  SceneParams p;
  if (params.is_null()) return p;
  if (!params.is_object()) return Status::InvalidArgument("scene parameters must be a JSON object");
  static const char* const kKnown[] = {"detector", "threshold", "min_scene_len", "downscale",
                                       "gradual",  "describe",  "prompt"};
  for (const auto& [key, value] : params.items()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return Status::InvalidArgument("unknown scene parameter '" + key +
                                     "' (known: detector, threshold, min_scene_len, downscale, gradual, describe, prompt)");
    }
  }
  if (params.contains("detector")) {
    if (!params["detector"].is_string()) return Status::InvalidArgument("detector must be a string");
    CUTROOM_ASSIGN_OR_RETURN(p.detector, ParseDetector(params["detector"].get<std::string>()));
  }
  if (params.contains("threshold") && !params["threshold"].is_null()) {
    const auto& t = params["threshold"];
    double limit = ThresholdLimit(p.detector);
    if (!t.is_number() || !std::isfinite(t.get<double>()) || t.get<double>() < 0 || t.get<double>() > limit) {
      return Status::InvalidArgument("threshold for the " + DetectorName(p.detector) + " detector must be a number from 0 to " +
                                     nlohmann::json(limit).dump());
    }
    p.threshold = t.get<double>();
  }
  if (params.contains("min_scene_len")) {
    const auto& m = params["min_scene_len"];
    if (m.is_number_integer()) {
      int64_t v = m.get<int64_t>();
      if (v < 0 || v > kMaxMinSceneFrames) {
        return Status::InvalidArgument("min_scene_len must be 0 to " + std::to_string(kMaxMinSceneFrames) + " frames");
      }
      p.min_scene_len_frames = v;
    } else if (m.is_string()) {
      std::string s = m.get<std::string>();
      char* end = nullptr;
      double v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
      if (!std::isfinite(v) || !end || std::string(end) != "s" || v < 0 || v > kMaxMinSceneSeconds) {
        return Status::InvalidArgument("min_scene_len as a string must be seconds like \"0.6s\", from 0 to 3600");
      }
      p.min_scene_len_s = v;
    } else {
      return Status::InvalidArgument("min_scene_len must be a frame count or seconds like \"0.6s\"");
    }
  }
  if (params.contains("downscale")) {
    const auto& d = params["downscale"];
    if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > 64) {
      return Status::InvalidArgument("downscale must be an integer factor from 1 to 64 (0: automatic)");
    }
    p.downscale = d.get<int>();
  }
  if (params.contains("prompt")) {
    if (!params["prompt"].is_string() || params["prompt"].get<std::string>().size() > 4000) {
      return Status::InvalidArgument("prompt must be a string of at most 4000 characters");
    }
    p.prompt = params["prompt"].get<std::string>();
  }
  for (const char* flag : {"gradual", "describe"}) {
    if (!params.contains(flag)) continue;
    if (!params[flag].is_boolean()) return Status::InvalidArgument(std::string(flag) + " must be true or false");
    (std::string(flag) == "gradual" ? p.gradual : p.describe) = params[flag].get<bool>();
  }
  return p;
}

SceneList BuildScenes(const std::vector<Transition>& transitions, const std::vector<double>& frame_times,
                      double duration_s, double fps) {
  SceneList list;
  list.fps = fps;
  list.frames = static_cast<int64_t>(frame_times.size());
  list.duration_s = duration_s;
  list.transitions = transitions;
  auto time_of = [&](int64_t f) {
    if (f >= 0 && f < list.frames) return frame_times[f];
    return fps > 0 ? static_cast<double>(f) / fps : 0.0;
  };
  if (list.frames == 0) return list;
  if (list.duration_s <= 0) {
    list.duration_s = frame_times.back() + (fps > 0 ? 1.0 / fps : 0.0);
  }
  list.scenes.push_back({1, 0, 0, time_of(0), 0, "start", 0});
  for (const auto& t : transitions) {
    int64_t boundary = t.start_frame;
    if (t.type == "fade_out") boundary = t.end_frame + 1;
    if (t.type == "dissolve") boundary = (t.start_frame + t.end_frame + 1) / 2;
    if (boundary <= list.scenes.back().start_frame || boundary >= list.frames) continue;
    list.scenes.push_back({0, boundary, 0, time_of(boundary), 0, t.type, t.score});
  }
  for (size_t i = 0; i < list.scenes.size(); ++i) {
    Scene& s = list.scenes[i];
    s.scene_no = static_cast<int64_t>(i) + 1;
    bool last = i + 1 == list.scenes.size();
    s.end_frame = last ? list.frames - 1 : list.scenes[i + 1].start_frame - 1;
    s.end_s = last ? std::max(list.duration_s, s.start_s) : list.scenes[i + 1].start_s;
  }
  return list;
}

Result<SceneList> DetectScenes(const std::string& path, const SceneParams& params, const DetectProgress& progress,
                               const DetectCancelled& cancelled) {
  if (params.scan != ScanMode::kEveryFrame) {
    CUTROOM_ASSIGN_OR_RETURN(auto two_pass,
                             DetectTwoPass(path, params, params.scan == ScanMode::kTwoPass, progress, cancelled));
    if (two_pass) {
      SceneList list = BuildScenes(two_pass->transitions, two_pass->frame_times, two_pass->info.duration_s,
                                   two_pass->info.fps);
      list.detector = DetectorName(params.detector);
      list.frames_decoded = two_pass->frames_decoded;
      return list;
    }
  }
  FrameSourceOptions source_options;
  source_options.downscale = params.downscale;
  source_options.threads = params.threads;
  CUTROOM_ASSIGN_OR_RETURN(auto source, AnalysisFrameSource::Open(path, source_options));
  const auto& info = source->info();
  SceneDetector detector(DetectorOptionsFor(params, info.fps));
  AnalysisFrame frame;
  const double duration = info.duration_s;
  while (true) {
    CUTROOM_ASSIGN_OR_RETURN(bool got, source->Next(frame));
    if (!got) break;
    detector.Push(frame);
    if ((detector.frames_seen() & 31) == 0) {
      if (cancelled && cancelled()) return Status::Cancelled("scene detection cancelled");
      if (progress && duration > 0) progress(std::clamp(frame.pts_s / duration, 0.0, 1.0));
    }
  }
  if (detector.frames_seen() == 0) return Status::InvalidArgument(path + ": the video stream has no decodable frames");
  detector.Finish();
  SceneList list = BuildScenes(detector.transitions(), detector.frame_times(), duration, info.fps);
  list.detector = DetectorName(params.detector);
  list.frames_decoded = list.frames;
  return list;
}

Result<std::string> FormatSceneList(const SceneList& list, const std::string& format, const std::string& source_name) {
  std::string out;
  char line[512];
  if (format == "json") {
    nlohmann::json j = {{"source", source_name}, {"detector", list.detector}, {"fps", list.fps},
                        {"frames", list.frames}, {"duration_s", list.duration_s},
                        {"scenes", nlohmann::json::array()}, {"transitions", nlohmann::json::array()}};
    for (const auto& s : list.scenes) {
      j["scenes"].push_back({{"scene_no", s.scene_no}, {"start_frame", s.start_frame}, {"end_frame", s.end_frame},
                             {"start_s", s.start_s}, {"end_s", s.end_s}, {"transition", s.transition},
                             {"score", s.score}});
    }
    for (const auto& t : list.transitions) {
      j["transitions"].push_back({{"type", t.type}, {"start_frame", t.start_frame}, {"end_frame", t.end_frame},
                                  {"start_s", t.start_s}, {"end_s", t.end_s}, {"score", t.score}});
    }
    return j.dump(2) + "\n";
  }
  if (format == "csv") {
    out = "Scene Number,Start Frame,Start Timecode,Start Time (seconds),End Frame,End Timecode,End Time (seconds),"
          "Length (frames),Length (timecode),Length (seconds),Transition\n";
    for (const auto& s : list.scenes) {
      std::snprintf(line, sizeof line, "%lld,%lld,%s,%.3f,%lld,%s,%.3f,%lld,%s,%.3f,%s\n",
                    static_cast<long long>(s.scene_no), static_cast<long long>(s.start_frame + 1),
                    ClockTime(s.start_s).c_str(), s.start_s, static_cast<long long>(s.end_frame + 1),
                    ClockTime(s.end_s).c_str(), s.end_s, static_cast<long long>(s.end_frame - s.start_frame + 1),
                    ClockTime(s.end_s - s.start_s).c_str(), s.end_s - s.start_s, s.transition.c_str());
      out += line;
    }
    return out;
  }
  if (format == "table") {
    std::snprintf(line, sizeof line, "%-6s %-10s %-13s %-10s %-13s %-9s %s\n", "Scene", "Start", "Start time", "End",
                  "End time", "Length", "Transition");
    out += line;
    for (const auto& s : list.scenes) {
      std::snprintf(line, sizeof line, "%-6lld %-10lld %-13s %-10lld %-13s %-9.3f %s\n",
                    static_cast<long long>(s.scene_no), static_cast<long long>(s.start_frame),
                    ClockTime(s.start_s).c_str(), static_cast<long long>(s.end_frame), ClockTime(s.end_s).c_str(),
                    s.end_s - s.start_s, s.transition.c_str());
      out += line;
    }
    std::snprintf(line, sizeof line, "%zu scene(s), %zu transition(s), detector %s, %.3f fps, %lld frames\n",
                  list.scenes.size(), list.transitions.size(), list.detector.c_str(), list.fps,
                  static_cast<long long>(list.frames));
    out += line;
    return out;
  }
  if (format == "edl") {
    // CMX 3600: one event per scene, record timeline continuous from 01:00:00:00.
    std::string title = source_name.empty() ? "cutroom scenes" : source_name;
    out = "TITLE: " + title + "\nFCM: NON-DROP FRAME\n\n";
    int64_t rate = std::max<int64_t>(1, std::llround(list.fps > 0 ? list.fps : 25));
    int64_t record = rate * 3600;
    std::string reel = "AX";
    for (const auto& s : list.scenes) {
      int64_t len = s.end_frame - s.start_frame + 1;
      std::snprintf(line, sizeof line, "%03lld  %-8s V     C        %s %s %s %s\n",
                    static_cast<long long>(s.scene_no), reel.c_str(), Timecode(s.start_frame, list.fps).c_str(),
                    Timecode(s.end_frame + 1, list.fps).c_str(), Timecode(record, list.fps).c_str(),
                    Timecode(record + len, list.fps).c_str());
      out += line;
      out += "* FROM CLIP NAME: " + (source_name.empty() ? std::string("source") : source_name) + "\n";
      record += len;
    }
    return out;
  }
  return Status::InvalidArgument("unknown format '" + format + "' (use table, json, csv or edl)");
}

}  // namespace cutroom::analysis::scenes
