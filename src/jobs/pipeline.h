// The analysis pipeline: which stages exist, what each needs, and how
// `process/all` enqueues them with their dependencies so a stage runs once
// its inputs exist.
// Thread-safety: stateless.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "jobs/job_queue.h"

namespace cutroom::jobs {

struct Stage {
  std::string name;             // "thumbnails", "scenes", ...
  std::string processing_kind;  // video_processing.kind
  std::vector<std::string> needs;  // must have run (skipped when one is skipped)
  std::vector<std::string> after;  // use these when they run too (waits for them when planned)
  bool needs_video;             // skipped for audio-only media
  bool available;               // built into this binary
  std::string note;             // why not, when unavailable
};

// What EnqueuePipeline needs to know about the media.
struct PipelineMedia {
  bool has_video = true;
};

const std::vector<Stage>& PipelineStages();
const Stage* FindStage(const std::string& name);

struct PlannedStage {
  std::string stage;
  std::string job_id;         // empty when skipped
  std::string processing_id;
  std::string skipped;        // reason when skipped
};

// Enqueues every available stage for video_id in dependency order;
// unavailable stages are skipped and say why, and so are stages that need
// a skipped one.
// params: per-stage job parameters (stage name -> JSON object).
Result<std::vector<PlannedStage>> EnqueuePipeline(JobQueue& queue, const std::string& video_id,
                                                  const std::string& owner_id,
                                                  const std::vector<std::string>& only = {},
                                                  const nlohmann::json& params = nlohmann::json::object(),
                                                  const PipelineMedia& media = {});

}  // namespace cutroom::jobs
