// The plan validator: the heart of AI edits. Whatever made a plan (the
// rule planners, a language model, a person through the API), it is
// checked against the stored index before anything renders:
//   - at most kMaxPlanOutputs outputs, each with 1..kMaxPlanRanges ranges;
//   - every segment and word id exists in the transcript the plan was made
//     from; ranges without times get them from their ids; a range with
//     times and segment ids must agree with the segments (within
//     kIdTimeTolerance_s: trims at word boundaries inside them are fine),
//     and its word ids (its first and last word) must lie inside it;
//   - ranges inside the media, at least kMinPlanRange_s long, speed 0.5..2;
//   - every cut on a word boundary: a cut inside a word by at most
//     kSnapTolerance_s is snapped to the word's nearer edge (and noted), a
//     cut deeper inside a word is refused;
//   - no two ranges of an output overlap;
//   - an output lasts within the bound the instruction stated, if any;
//   - aspect, reframe, captions style, title and loudness target are valid.
// Problems are collected (all of them, each naming its place), so that a
// model can be told everything that is wrong in one repair round.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "edit/plan/edit_index.h"
#include "edit/plan/plan.h"

namespace cutroom::edit {

inline constexpr double kSnapTolerance_s = 0.08;
inline constexpr double kIdTimeTolerance_s = 0.5;
inline constexpr double kMinPlanRange_s = 0.1;

struct PlanCheck {
  std::vector<std::string> problems;  // the plan is refused when any
  std::vector<std::string> notes;     // what the validator changed (snapped cuts, clamped ends)
  bool ok() const { return problems.empty(); }
  std::string Summary() const;        // the problems as one message
};

struct ValidateOptions {
  std::optional<PlanBound> bound;  // the instruction's stated length, applied to every output
  size_t max_outputs = kMaxPlanOutputs;
};

// Checks plan against index, resolving ids to times and snapping cuts in
// place. The plan is usable only when the result is ok().
PlanCheck ValidatePlan(EditPlan& plan, const EditIndex& index, const ValidateOptions& options = {});

// Moves every range edge of a valid plan onto the source's frame grid
// (index.fps), outward where that does not enter a word and inward
// otherwise, so that renders hold whole frames only (a cut between two
// frames would show a sliver of one) and exports, which cut on frames,
// match the render. Ranges that touched keep touching. No-op without a
// frame rate.
void SnapPlanToFrames(EditPlan& plan, const EditIndex& index);

}  // namespace cutroom::edit
