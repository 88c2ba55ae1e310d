#include "jobs/pipeline.h"

#include <algorithm>
#include <map>

namespace cutroom::jobs {

const std::vector<Stage>& PipelineStages() {
  static const std::vector<Stage> kStages = {
      {"thumbnails", "thumbnails", {}, {}, false, true, ""},
      {"scenes", "scenes", {}, {}, true, true, ""},
      // Frames may sample one per scene, so they wait for the scenes.
      {"frames", "frames", {}, {"scenes"}, true, true, ""},
      {"transcription", "transcription", {}, {}, false, true, ""},
      {"clips", "clips", {"transcription"}, {"scenes", "frames"}, false, true, ""},
      // Retention reads whatever earlier stages stored, and rescores clips.
      {"retention", "retention", {}, {"transcription", "scenes", "frames", "clips"}, false, true, ""},
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
                                                  const nlohmann::json& params, const PipelineMedia& media) {
  std::vector<PlannedStage> plan;
  std::map<std::string, std::string> job_of;  // stage -> job id
  std::map<std::string, std::string> skipped;
  for (const Stage& stage : PipelineStages()) {
    if (!only.empty() && std::find(only.begin(), only.end(), stage.name) == only.end()) continue;
    PlannedStage p{stage.name, "", "", ""};
    if (!stage.available) {
      p.skipped = stage.note;
    } else if (stage.needs_video && !media.has_video) {
      p.skipped = "the media has no video stream";
    } else {
      std::vector<std::string> deps;
      for (const auto& need : stage.needs) {
        if (skipped.count(need)) {
          p.skipped = "needs " + need + ", which was skipped";
          break;
        }
        if (job_of.count(need)) deps.push_back(job_of[need]);
      }
      for (const auto& want : stage.after) {
        if (job_of.count(want)) deps.push_back(job_of[want]);
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
