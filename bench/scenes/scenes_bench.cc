// scenes_bench: runs cutroom's scene detection (DetectScenes) over one file
// and prints one JSON object: wall-clock seconds, frames, frames decoded per
// second, and the boundaries found (cut frames and times, every transition).
// run.sh compares it with `ffmpeg -vf scdet` on a video whose cuts are known.
//
// --mode splits the time for profiling, each mode doing a prefix of the work:
//   decode  VideoDecoder::NextRaw over every frame (skip_loop_filter as the
//           detector uses it; --loop-filter to keep deblocking on): the
//           codec's share.
//   frames  AnalysisFrameSource::Next: decoding plus shrinking each picture
//           to the ~128 px luma/hue/saturation planes.
//   detect  DetectScenes: all of the above plus the detector (the default).
// Seconds are measured inside the process, from opening the file to the
// last frame; run.sh times the whole process as it does ffmpeg.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <string>

#include "analysis/scenes/analysis_frame.h"
#include "analysis/scenes/scene_detection.h"
#include "media/decoder.h"

namespace {

using cutroom::Result;
using cutroom::Status;
namespace media = cutroom::media;
namespace scenes = cutroom::analysis::scenes;

struct Counted {
  int64_t frames = 0;
  double fps = 0;  // the stream's nominal rate
};

Result<Counted> DecodeOnly(const std::string& path, int threads, bool loop_filter) {
  media::DecodeOptions options;
  options.threads = threads;
  options.skip_loop_filter = !loop_filter;
  options.apply_rotation = false;
  CUTROOM_ASSIGN_OR_RETURN(auto decoder, media::VideoDecoder::Open(path, options));
  Counted c;
  c.fps = decoder->info().fps;
  media::RawPicture pic;
  while (true) {
    CUTROOM_ASSIGN_OR_RETURN(bool got, decoder->NextRaw(pic));
    if (!got) break;
    ++c.frames;
  }
  return c;
}

Result<Counted> FramesOnly(const std::string& path, int threads, int downscale) {
  scenes::FrameSourceOptions options;
  options.threads = threads;
  options.downscale = downscale;
  CUTROOM_ASSIGN_OR_RETURN(auto source, scenes::AnalysisFrameSource::Open(path, options));
  Counted c;
  c.fps = source->info().fps;
  scenes::AnalysisFrame frame;
  uint64_t checksum = 0;  // reads the planes, so the work cannot be skipped
  while (true) {
    CUTROOM_ASSIGN_OR_RETURN(bool got, source->Next(frame));
    if (!got) break;
    checksum += frame.luma.empty() ? 0 : frame.luma[frame.luma.size() / 2];
    ++c.frames;
  }
  if (checksum == 1) std::fputc('\0', stderr);
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Scene detection of one file with cutroom's detector; prints JSON"};
  std::string input, detector_name = "content", mode = "detect", scan = "auto";
  int threads = 0, downscale = 0;
  int64_t min_scene_len = -1;
  double threshold = -1;
  bool no_gradual = false, loop_filter = false;
  app.add_option("file", input, "video file")->required();
  app.add_option("--threads", threads, "decoder threads (0: one per core)")->check(CLI::Range(0, 64));
  app.add_flag("--no-gradual", no_gradual, "hard cuts only (no fade/dissolve tracking)");
  app.add_option("--detector", detector_name, "content, adaptive, threshold or hash");
  app.add_option("--threshold", threshold, "detector threshold (default: the detector's own)");
  app.add_option("--min-scene-len", min_scene_len, "frames (default: SceneParams' 15)")->check(CLI::Range(0, 1000000));
  app.add_option("--downscale", downscale, "shrink factor (0: about 128 px wide)")->check(CLI::Range(0, 64));
  app.add_option("--mode", mode, "detect, frames (decode + shrink) or decode (NextRaw only)")
      ->check(CLI::IsMember({"detect", "frames", "decode"}));
  app.add_flag("--loop-filter", loop_filter, "decode mode: keep the deblocking filter on");
  app.add_option("--scan", scan, "detect mode: auto (two passes where they pay), every (decode every frame) or two-pass")
      ->check(CLI::IsMember({"auto", "every", "two-pass"}));
  bool verbose = false;
  app.add_flag("--verbose", verbose, "debug log on stderr (which scan ran, frames skipped)");
  CLI11_PARSE(app, argc, argv);
  if (verbose) {
    spdlog::set_default_logger(spdlog::stderr_color_mt("scenes_bench"));  // stdout is the JSON
    spdlog::set_level(spdlog::level::debug);
  }

  nlohmann::json out = {{"file", input}, {"mode", mode}, {"threads", threads}};
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  auto fail = [](const Status& st) {
    std::fprintf(stderr, "scenes_bench: %s\n", st.ToString().c_str());
    return 1;
  };

  if (mode == "decode" || mode == "frames") {
    auto counted = mode == "decode" ? DecodeOnly(input, threads, loop_filter) : FramesOnly(input, threads, downscale);
    if (!counted.ok()) return fail(counted.status());
    const double wall = seconds();
    out["wall_s"] = wall;
    out["frames"] = counted->frames;
    out["fps_decoded"] = wall > 0 ? static_cast<double>(counted->frames) / wall : 0.0;
    if (mode == "decode") out["loop_filter"] = loop_filter;
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }

  auto kind = scenes::ParseDetector(detector_name);
  if (!kind.ok()) return fail(kind.status());
  scenes::SceneParams params;
  params.detector = *kind;
  params.threshold = threshold;
  if (min_scene_len >= 0) params.min_scene_len_frames = min_scene_len;
  params.downscale = downscale;
  params.gradual = !no_gradual;
  params.threads = threads;
  params.scan = scan == "every" ? scenes::ScanMode::kEveryFrame
                                : (scan == "two-pass" ? scenes::ScanMode::kTwoPass : scenes::ScanMode::kAuto);
  auto list = scenes::DetectScenes(input, params);
  if (!list.ok()) return fail(list.status());
  const double wall = seconds();

  nlohmann::json cuts_frame = nlohmann::json::array(), cuts_s = nlohmann::json::array();
  nlohmann::json transitions = nlohmann::json::array();
  for (const auto& t : list->transitions) {
    if (t.type == "cut") {
      cuts_frame.push_back(t.start_frame);
      cuts_s.push_back(t.start_s);
    }
    transitions.push_back({{"type", t.type}, {"start_frame", t.start_frame}, {"end_frame", t.end_frame},
                           {"start_s", t.start_s}, {"end_s", t.end_s}, {"score", t.score}});
  }
  // Where each scene after the first starts: the boundaries a user sees,
  // gradual transitions included (a dissolve at its middle).
  nlohmann::json boundaries_frame = nlohmann::json::array(), boundaries_s = nlohmann::json::array();
  for (size_t i = 1; i < list->scenes.size(); ++i) {
    boundaries_frame.push_back(list->scenes[i].start_frame);
    boundaries_s.push_back(list->scenes[i].start_s);
  }
  out["detector"] = list->detector;
  out["gradual"] = params.gradual;
  out["wall_s"] = wall;
  out["frames"] = list->frames;
  out["frames_decoded"] = list->frames_decoded;
  out["scan"] = scan;
  out["fps"] = list->fps;
  out["fps_decoded"] = wall > 0 ? static_cast<double>(list->frames) / wall : 0.0;
  out["cuts_frame"] = std::move(cuts_frame);
  out["cuts_s"] = std::move(cuts_s);
  out["boundaries_frame"] = std::move(boundaries_frame);
  out["boundaries_s"] = std::move(boundaries_s);
  out["transitions"] = std::move(transitions);
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
