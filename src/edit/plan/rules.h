// The rule parser: common editing instructions in plain English turned
// into planner steps and output settings, so that silence, filler, gap,
// length, topic and slide edits work with no language model at all.
//
// Understood (case-insensitive, in any combination):
//   "remove the silences" / "cut dead air" / "cut pauses longer than 1 s"  -> remove_silences
//   "remove the ums and uhs" / "filler words" / "and 'you know'"           -> remove_fillers
//   "tighten the gaps (to 0.3 s)" / "jump cut" / "shorten pauses"          -> tighten_gaps
//   "a 45 second teaser (about pricing)" / "under 2 minutes"               -> fit_length (+ a length bound)
//   "three clips about hiring" / "2 shorts of 30 seconds"                  -> topic_clips
//   "cut the bits where the slides are on screen" / "only the slides"      -> drop_scenes / keep_scenes slide
//   "only the parts with the speaker's face" / "talking head"              -> keep_scenes face / talking
//   "vertical" / "9:16" / "square" / "landscape"; "with captions" / "no captions";
//   "at 1.25x speed"; "title: Our refund policy"; "normalize the audio"
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "edit/plan/plan.h"

namespace cutroom::edit {

// How outputs are rendered, from the instruction and then the request.
struct OutputSettings {
  std::optional<std::string> aspect;  // unset: "source"
  std::optional<nlohmann::json> captions;  // unset: off
  std::optional<PlanTitle> title;
  std::optional<double> speed;
  std::optional<bool> normalize_audio;
};

struct InstructionPlan {
  std::vector<PlanStep> steps;
  OutputSettings settings;
  std::optional<PlanBound> bound;       // a stated length, +-10% (or "under N": 0..N)
  std::vector<std::string> understood;  // what was recognised, in words
};

// NotSupported, listing what the rules understand, when nothing in the
// instruction is recognised.
Result<InstructionPlan> ParseInstruction(const std::string& instruction);

// The length the instruction states for its output(s), if any: "45
// seconds" -> 40.5-49.5 s; "under 2 minutes" -> 0-120 s; "at least a
// minute" -> 60 s and up (max 3 h). Used to hold model plans to it too.
std::optional<PlanBound> StatedLength(const std::string& instruction);

// One line per kind of instruction the rules understand (for errors and help).
const std::vector<std::string>& RuleExamples();

}  // namespace cutroom::edit
