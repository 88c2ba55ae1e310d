// Scene detection of a whole file: shrunken frames (analysis_frame.h)
// streamed through a SceneDetector (detector.h), turned into a list of
// scenes and formatted like PySceneDetect's list-scenes (table, JSON, CSV)
// or as a CMX 3600 EDL.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/scenes/detector.h"
#include "core/result.h"

namespace cutroom::analysis::scenes {

// How much of the stream DetectScenes decodes.
enum class ScanMode {
  // Two passes (two_pass.h) where the packet scan says they skip enough,
  // otherwise every frame.
  kAuto,
  // Every frame: the reference the two passes are held to.
  kEveryFrame,
  // Two passes wherever the stream's structure allows, however little they
  // skip (tests).
  kTwoPass,
};

struct SceneParams {
  DetectorKind detector = DetectorKind::kContent;
  double threshold = -1;         // < 0: the detector's default
  int64_t min_scene_len_frames = 15;
  double min_scene_len_s = -1;   // >= 0: overrides the frame count once the frame rate is known
  int downscale = 0;             // 0: automatic (about 128 px wide)
  bool gradual = true;
  bool describe = false;         // describe each scene with the LLM (the job stage does that)
  std::string prompt;            // the instruction for describe; empty: the default
  int threads = 0;
  ScanMode scan = ScanMode::kAuto;  // not a job parameter: results do not depend on it

  nlohmann::json ToJson() const;
};

// From the API's / CLI's JSON: {detector, threshold, min_scene_len (frames,
// or a string like "0.6s"), downscale, gradual, describe, prompt}. InvalidArgument
// names the field and its limits.
Result<SceneParams> ParseSceneParams(const nlohmann::json& params);

struct Scene {
  int64_t scene_no = 0;  // 1-based
  int64_t start_frame = 0;
  int64_t end_frame = 0;  // inclusive
  double start_s = 0;
  double end_s = 0;       // where the next scene starts (or the end of the video)
  std::string transition = "start";  // how the scene begins: start, cut, fade_in, fade_out, dissolve
  double score = 0;
};

struct SceneList {
  std::string detector;
  double fps = 0;
  int64_t frames = 0;
  double duration_s = 0;
  std::vector<Scene> scenes;
  std::vector<Transition> transitions;  // every boundary found, gradual ones as spans
  int64_t frames_decoded = 0;           // frames decoded; the others were skipped (two_pass.h)
};

// Scenes from boundaries: a cut starts a scene at its frame, a fade-in at
// its first frame, a fade-out after its last (the black that follows is a
// scene of its own), a dissolve at its middle.
SceneList BuildScenes(const std::vector<Transition>& transitions, const std::vector<double>& frame_times,
                      double duration_s, double fps);

using DetectProgress = std::function<void(double)>;  // 0..1
using DetectCancelled = std::function<bool()>;

// Decodes `path` once, or only part of it (params.scan; two_pass.h), with
// the same frame indexes and times either way. NotFound when it has no video stream; Cancelled when
// `cancelled` says so; InvalidArgument for corrupt data.
Result<SceneList> DetectScenes(const std::string& path, const SceneParams& params,
                               const DetectProgress& progress = {}, const DetectCancelled& cancelled = {});

// "table", "json", "csv" or "edl"; InvalidArgument for anything else.
Result<std::string> FormatSceneList(const SceneList& list, const std::string& format, const std::string& source_name);

}  // namespace cutroom::analysis::scenes
