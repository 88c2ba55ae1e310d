// Registers the handler of every analysis stage built into this binary on
// a worker pool (the set jobs/pipeline.cc marks available). Rendering and
// AI edits sit above analysis and register themselves
// (edit::RegisterEditJobs); the composition roots (cli/runtime.cc, the
// API tests) call both.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/config.h"
#include "jobs/worker_pool.h"

namespace cutroom::analysis {

void RegisterStages(jobs::WorkerPool& pool);

// Checks a stage's job params before it is enqueued, so that callers
// answer at once instead of a job failing later. InvalidArgument for bad
// params (naming the field and its limit) and for a stage that needs a
// video stream on media without one ("has no video stream");
// FailedPrecondition starting "llm_not_configured:" when the params ask
// for the LLM and none is configured; NotSupported as
// ValidateTranscriptionParams. Unknown stages are OK (nothing to check).
Status ValidateStageParams(const std::string& stage, const nlohmann::json& params, const Config& config,
                           bool has_video);

}  // namespace cutroom::analysis
