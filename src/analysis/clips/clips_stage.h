// The `clips` job stage: clip candidates for one video, stored as
// `clip_candidates` rows.
//
// Reads the newest succeeded transcript (required), the newest succeeded
// scene detection (optional: cut times), the newest succeeded frame
// sampling (optional: faces), and streams the audio once for a loudness
// curve; then runs FindClipCandidates and, with "llm": true, the LLM
// rerank. The new rows (tagged with the job's processing_id) replace the
// video's previous `proposed` candidates in one transaction; accepted,
// rejected and rendered ones stay.
//
// Params: {"min_s": 15, "max_s": 60, "target_s": 30, "count": 5,
// "llm": false}; max_s and target_s default to values that fit the given
// min_s and max_s.
// Thread-safety: a job handler; runs on a worker thread.
#pragma once

#include <nlohmann/json.hpp>

#include "analysis/clips/candidates.h"
#include "jobs/worker_pool.h"

namespace cutroom::analysis {

// InvalidArgument naming the field and its limit (or an unknown field).
Status ValidateClipsParams(const nlohmann::json& params);

// The options params ask for. REQUIRES: ValidateClipsParams(params).ok().
ClipOptions ClipOptionsFromParams(const nlohmann::json& params);

// FailedPrecondition "transcribe the video first..." without a transcript;
// FailedPrecondition starting "llm_not_configured" for llm without
// llm.base_url/llm.model; Cancelled when the job is cancelled.
Status RunClips(jobs::JobContext& ctx);

}  // namespace cutroom::analysis
