// From planner steps to a plan: runs the steps in order on the kept
// timeline(s), turns each resulting timeline into an output with the
// render settings, and records the steps as they ran (resolved params)
// with their warnings. Shared by the rule planner and the LLM planner.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <vector>

#include "edit/plan/edit_index.h"
#include "edit/plan/planners.h"
#include "edit/plan/rules.h"

namespace cutroom::edit {

struct BuildPlanInput {
  std::vector<PlanStep> steps;
  // The material to start from, one timeline per output (with its name);
  // empty: one output of the whole media.
  std::vector<std::pair<std::string, Timeline>> start;
  OutputSettings settings;
  std::optional<PlanBound> bound;
};

// Errors are the planners'. A step that leaves an output empty is
// FailedPrecondition naming the step.
Result<EditPlan> BuildPlan(const EditIndex& index, const BuildPlanInput& input);

// Applies settings to every output (aspect, captions, title, speed of
// every range, loudness). Unset settings keep the plan's defaults.
void ApplySettings(EditPlan& plan, const OutputSettings& settings);

}  // namespace cutroom::edit
