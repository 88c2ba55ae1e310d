// The "thumbnails" stage: a poster frame that is not black or flat, and a
// sprite sheet with its WebVTT thumbnails track, stored as video_assets
// (kinds thumbnail, sprite, vtt). Runs after every ingest.
// Re-running replaces the previous thumbnails of the video.
#pragma once

#include "jobs/worker_pool.h"

namespace cutroom::analysis {

Status RunThumbnails(jobs::JobContext& ctx);

// Where the API serves an asset's bytes; the VTT track points here.
std::string AssetUrl(const std::string& video_id, const std::string& asset_id);

}  // namespace cutroom::analysis
