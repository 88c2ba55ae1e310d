#include "jobs/pipeline.h"

#include <algorithm>
#include <map>

namespace cutroom::jobs {

const std::vector<Stage>& PipelineStages() {
  static const std::vector<Stage> kStages = {
      {"thumbnails", "thumbnails", {}, true, ""},
      {"frames", "frames", {}, false, "frame sampling lands with the scenes/frames issue"},
      {"scenes", "scenes", {}, false, "scene detection lands with the scenes/frames issue"},
      {"transcription", "transcription", {}, true, ""},
      {"clips", "clips", {"scenes", "transcription"}, false, "clip candidates land with the clips issue"},
      {"retention", "retention", {"transcription"}, false, "retention analysis has not landed yet"},
  };
  return kStages;
}

const Stage* FindStage(const std::string& name) {
  for (const auto& s : PipelineStages()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Result<std::vector<PlannedStage>> EnqueuePipeline(JobQueue& queue, const std::string& video_id,
                                                  const std::string& owner_id, const std::vector<std::string>& only,
                                                  const nlohmann::json& params) {
  std::vector<PlannedStage> plan;
  std::map<std::string, std::string> job_of;  // stage -> job id
  std::map<std::string, std::string> skipped;
  for (const Stage& stage : PipelineStages()) {
    if (!only.empty() && std::find(only.begin(), only.end(), stage.name) == only.end()) continue;
    PlannedStage p{stage.name, "", "", ""};
    if (!stage.available) {
      p.skipped = stage.note;
    } else {
      std::vector<std::string> deps;
      for (const auto& need : stage.needs) {
        if (skipped.count(need)) {
          p.skipped = "needs " + need + ", which was skipped";
          break;
        }
        if (job_of.count(need)) deps.push_back(job_of[need]);
      }
      if (p.skipped.empty()) {
        EnqueueRequest req;
        req.kind = stage.name;
        req.video_id = video_id;
        req.owner_id = owner_id;
        req.processing_kind = stage.processing_kind;
        req.depends_on = deps;
        if (params.is_object() && params.contains(stage.name)) req.params = params[stage.name];
        CUTROOM_ASSIGN_OR_RETURN(auto job, queue.Enqueue(req));
        p.job_id = job.job_id;
        p.processing_id = job.processing_id.value_or("");
        job_of[stage.name] = job.job_id;
      }
    }
    if (!p.skipped.empty()) skipped[stage.name] = p.skipped;
    plan.push_back(std::move(p));
  }
  return plan;
}

}  // namespace cutroom::jobs
