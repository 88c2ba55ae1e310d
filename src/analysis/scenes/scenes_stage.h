// The "scenes" stage: detects a video's scenes (scene_detection.h), picks
// each scene's sharpest frame as its keyframe (a JPEG asset of kind
// "keyframe", at most 640 px wide), optionally has the vision model
// describe each scene from a few of its frames, and stores `scene_index`
// rows plus the transition spans in the processing run's result.
//
// Job params: see ParseSceneParams. Re-running replaces the video's
// previous scenes and keyframes once the new run has stored everything.
// InvalidArgument ("has no video stream") for audio-only media and for
// corrupt video; FailedPrecondition (llm_not_configured) for describe
// without an LLM; Cancelled on cancel. URL references are read in place
// (analysis/source_media.h).
#pragma once

#include "jobs/worker_pool.h"

namespace cutroom::analysis {

Status RunScenes(jobs::JobContext& ctx);

// The instruction used to describe a scene when the job gives none.
inline constexpr const char* kDefaultScenePrompt =
    "These are frames from one scene of a video, in order. Describe the scene in one or two sentences for a "
    "search index: the setting, who is there and what happens, and any visible text. Plain text only.";

}  // namespace cutroom::analysis
