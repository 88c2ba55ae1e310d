#include "jobs/pipeline.h"

#include <algorithm>
#include <map>

namespace cutroom::jobs {

const std::vector<Stage>& PipelineStages() {
  // Stages are enqueued in this order, and workers claim equal-priority
  // jobs oldest first: the poster (seconds) comes first so a viewer sees
  // it at once, then the transcript, the longest stage and the one clips
  // wait for, so that it never queues behind the picture stages (on 2
  // workers it started a thumbnails run later than it could, 2 s of a
  // 10-minute talk's index phase).
  static const std::vector<Stage> kStages = {
      {"thumbnails", "thumbnails", {}, {}, false, true, ""},
      {"transcription", "transcription", {}, {}, false, true, ""},
      {"scenes", "scenes", {}, {}, true, true, ""},
      // Frames may sample one per scene, so they wait for the scenes.
      {"frames", "frames", {}, {"scenes"}, true, true, ""},
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
