// Edit plans (`cutroom.plan/1`): what an AI edit job decided, as data.
//
// A plan has one to five outputs; each output is a list of ranges of
// source time, joined in order, plus how to render them (aspect and
// reframe, captions, a title burned in over the first seconds, EBU R128
// loudness normalisation). Every range says *why* it is there
// (`because`), and ranges that come from speech name the transcript
// segments or words they span, so that a model never has to invent a
// timestamp: the validator (plan_validate.h) resolves ids to times, snaps
// every cut onto a word boundary and checks the rest.
//
// JSON (see src/edit/README.md for the full description):
//   {"version": "cutroom.plan/1", "video_id": "vid_...",
//    "outputs": [{"name": "main",
//                 "ranges": [{"start_s": 1.2, "end_s": 7.9, "speed": 1.0,
//                             "because": "segment seg_... 'We refunded...'",
//                             "segment_ids": ["seg_a", "seg_b"],   // first..last, optional
//                             "word_ids": ["wrd_first", "wrd_last"]}],  // optional
//                 "aspect": "source|9:16|1:1|16:9", "reframe": "auto|face|center|fit",
//                 "captions": {style} | false,
//                 "title": {"text": "...", "duration_s": 3} | null,
//                 "audio": {"normalize": true, "target_lufs": -14},
//                 "bound": {"min_s": 40.5, "max_s": 49.5} | null,
//                 "duration_s": 45.1}],
//    "steps": [{"planner": "remove_silences", "params": {...}}],
//    "provenance": {"planner": "rules" | model name, "model": ..., "prompt_version": ...,
//                   "transcription_id": ..., "scenes_processing_id": ...,
//                   "instruction_sha256": ...},
//    "warnings": ["..."]}
// Thread-safety: value types and pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace cutroom::edit {

inline constexpr const char* kPlanVersion = "cutroom.plan/1";
inline constexpr size_t kMaxPlanOutputs = 5;
inline constexpr size_t kMaxPlanRanges = 1000;
inline constexpr double kMinRangeSpeed = 0.5;
inline constexpr double kMaxRangeSpeed = 2.0;

struct PlanRange {
  double start_s = 0;
  double end_s = 0;
  double speed = 1.0;  // playback rate of this range, kMinRangeSpeed..kMaxRangeSpeed
  std::string because;
  // Transcript ids this range spans (first and last, or every one); empty
  // when the range does not come from speech (scenes, loudness).
  std::vector<std::string> segment_ids;
  std::vector<std::string> word_ids;  // [first, last] or empty

  double duration_s() const { return (end_s - start_s) / speed; }
};

struct PlanTitle {
  std::string text;
  double duration_s = 3.0;
};

struct PlanAudio {
  bool normalize = true;      // EBU R128 (libavfilter loudnorm)
  double target_lufs = -14;   // integrated loudness, -70..-5
};

// The length an output must have when the instruction stated one.
struct PlanBound {
  double min_s = 0;
  double max_s = 0;
};

struct PlanOutput {
  std::string name = "main";
  std::vector<PlanRange> ranges;
  std::string aspect = "source";
  std::string reframe = "auto";  // as edit jobs: layout by content (edit/reframe/layout.h)
  nlohmann::json captions = false;  // a caption style object, or false
  std::optional<PlanTitle> title;
  PlanAudio audio;
  std::optional<PlanBound> bound;

  // Output seconds: the ranges at their speeds.
  double duration_s() const;
};

struct PlanStep {
  std::string planner;
  nlohmann::json params = nlohmann::json::object();
};

struct PlanProvenance {
  std::string planner = "rules";  // "rules" or the model's name
  std::string model;              // empty for rules
  std::string prompt_version;     // the LLM prompt template's version; empty for rules
  std::string transcription_id;   // the index the plan was made from; empty when unused
  std::string scenes_processing_id;
  std::string instruction_sha256;
};

struct EditPlan {
  std::string version = kPlanVersion;
  std::string video_id;
  std::vector<PlanOutput> outputs;
  std::vector<PlanStep> steps;
  PlanProvenance provenance;
  std::vector<std::string> warnings;
};

// The JSON form above (durations included). Never fails.
nlohmann::json PlanToJson(const EditPlan& plan);

// Reads the JSON form. InvalidArgument naming the field ("outputs[1].ranges[3].end_s
// must be a number") for a wrong shape, type, version or an unknown field.
// It does not check the plan against the media: see ValidatePlan.
Result<EditPlan> PlanFromJson(const nlohmann::json& json);

}  // namespace cutroom::edit
