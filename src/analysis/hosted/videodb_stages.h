// The VideoDB engines of the transcription and scenes stages. The stages'
// registration (analysis/stages.cc) sends a job here when it asks for
// VideoDB, so the local stages stay as they are.
//
// Transcription ({"engine": "videodb", "language"} or transcribe.engine =
// "videodb"): uploads the media once (videodb_media.h), indexes its spoken
// words, fetches the transcript word by word and stores it in the unified
// tables (engine "videodb"), segments cut at sentence ends and pauses by
// the same SegmentWords as the local engine.
//
// Scenes ({"detector": "videodb", "extraction": "shot"|"time", "threshold",
// "interval_s", "frame_count", "prompt"}): VideoDB's scene extraction gives
// the scenes and their frame times and URLs; its scene index describes
// them (with the prompt). Each scene becomes a scene_index row with its
// description; its middle frame, fetched through the SSRF-safe UrlFetcher
// (ingest.allow_private_urls and ingest.url_allowlist apply), becomes its
// keyframe asset, whose metadata keeps every frame time; the run's result
// keeps them per scene under "videodb". A keyframe that cannot be fetched
// is logged and the scene kept without one.
//
// Both write only at the end, in one transaction: a failure (bad key,
// quota, VideoDB unreachable, a task that fails or runs past
// videodb.wait_s) leaves the previous results untouched and fails the job
// with the error's code first in its message (see ai/videodb_client.h).
#pragma once

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "jobs/worker_pool.h"

namespace cutroom::analysis {

// Whether a job's params (or the configured default) pick VideoDB.
bool WantsVideoDbTranscription(const nlohmann::json& params, const Config& config);
bool WantsVideoDbScenes(const nlohmann::json& params);

// Checks params before a job is queued: InvalidArgument naming the field
// and its limits; FailedPrecondition "videodb_not_configured: ..." (the
// settings to set) when no API key is configured.
Status ValidateVideoDbTranscription(const nlohmann::json& params, const Config& config);
Status ValidateVideoDbScenes(const nlohmann::json& params, const Config& config);

Status RunVideoDbTranscription(jobs::JobContext& ctx);
Status RunVideoDbScenes(jobs::JobContext& ctx);

// Width and height of a PNG or JPEG from its header; false for others.
bool ImageSize(const std::string& bytes, int* width, int* height);

}  // namespace cutroom::analysis
