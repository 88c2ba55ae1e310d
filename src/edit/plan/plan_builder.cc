#include "edit/plan/plan_builder.h"

#include <algorithm>

namespace cutroom::edit {
namespace {
constexpr double kMinSilentPiece_s = 0.3;
}  // namespace

void ApplySettings(EditPlan& plan, const OutputSettings& s) {
  for (auto& o : plan.outputs) {
    if (s.aspect) o.aspect = *s.aspect;
    if (s.captions) o.captions = *s.captions;
    if (s.title) o.title = *s.title;
    if (s.normalize_audio) o.audio.normalize = *s.normalize_audio;
    if (s.speed) {
      for (auto& r : o.ranges) r.speed = *s.speed;
    }
  }
}

Result<EditPlan> BuildPlan(const EditIndex& index, const BuildPlanInput& input) {
  EditPlan plan;
  plan.video_id = index.video_id;
  plan.provenance.transcription_id = index.transcription_id;
  plan.provenance.scenes_processing_id = index.scenes_processing_id;
  std::vector<std::pair<std::string, Timeline>> outputs = input.start;
  if (outputs.empty()) outputs.push_back({"main", WholeMedia(index)});
  for (const auto& step : input.steps) {
    std::vector<std::pair<std::string, Timeline>> next;
    nlohmann::json used;
    for (const auto& [name, kept] : outputs) {
      CUTROOM_ASSIGN_OR_RETURN(PlannerResult r, RunPlanner(step.planner, step.params, index, kept));
      for (const auto& w : r.warnings) plan.warnings.push_back(w);
      used = r.params;
      if (r.outputs.size() == 1) {
        next.push_back({name, std::move(r.outputs[0])});
      } else {
        for (size_t k = 0; k < r.outputs.size(); ++k) {
          next.push_back({outputs.size() == 1 && name == "main" ? "clip-" + std::to_string(k + 1)
                                                                  : name + "-" + std::to_string(k + 1),
                          std::move(r.outputs[k])});
        }
      }
      if (!r.stats.empty()) used["stats"] = r.stats;
    }
    for (const auto& [name, kept] : next) {
      if (kept.empty()) {
        return Status::FailedPrecondition(step.planner + " left nothing of output '" + name + "'" +
                                          (plan.warnings.empty() ? "" : ": " + plan.warnings.back()));
      }
    }
    if (next.size() > kMaxPlanOutputs) next.resize(kMaxPlanOutputs);
    plan.steps.push_back({step.planner, used});
    outputs = std::move(next);
  }
  for (auto& [name, kept] : outputs) {
    // Cuts on both sides can leave a sliver of pause with no word in it
    // (the margin before a removed filler); alone it only adds a blip.
    if (!index.words.empty()) {
      Timeline tidy;
      for (const auto& k : kept) {
        bool has_word = std::any_of(index.words.begin(), index.words.end(), [&](const IndexWord& w) {
          double mid = 0.5 * (w.start_s + w.end_s);
          return mid >= k.start_s && mid < k.end_s;
        });
        if (has_word || k.end_s - k.start_s >= kMinSilentPiece_s) tidy.push_back(k);
      }
      if (!tidy.empty()) kept = std::move(tidy);
    }
    PlanOutput o;
    o.name = name;
    o.ranges = TimelineToRanges(index, kept);
    o.bound = input.bound;
    plan.outputs.push_back(std::move(o));
  }
  ApplySettings(plan, input.settings);
  return plan;
}

}  // namespace cutroom::edit
