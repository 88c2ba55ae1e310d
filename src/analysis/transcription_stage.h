// The "transcription" stage: the media's speech to a stored transcript with
// the engine the job names (params.engine, default transcribe.engine) and
// language (params.language, default "en").
#pragma once

#include "jobs/worker_pool.h"

namespace cutroom::analysis {

Status RunTranscription(jobs::JobContext& ctx);

// Checks a transcription request before it is queued: a known engine that
// is built in and a language it can do (NotSupported naming what is
// possible otherwise); InvalidArgument for unknown parameters.
Status ValidateTranscriptionParams(const nlohmann::json& params, const Config& config);

}  // namespace cutroom::analysis
