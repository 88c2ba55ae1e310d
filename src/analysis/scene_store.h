// ReplaceScenes: stores a scenes run (cutroom's detectors or a hosted one)
// in place of a video's previous scenes and keyframes.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "db/tables.h"
#include "jobs/worker_pool.h"

namespace cutroom::analysis {

// In one transaction: deletes the video's scene_index rows and keyframe
// assets, inserts `rows` with their keyframes (keyframes[i], when set, is
// rows[i]'s; its file must already be in the blob store) and records
// `result` on the processing run. On failure the new keyframe files are
// deleted and the old ones stay; on success the old files go.
// REQUIRES: keyframes.size() == rows.size().
Status ReplaceScenes(const jobs::JobServices& s, const std::string& video_id, const std::string& processing_id,
                     std::vector<db::SceneRow> rows, const std::vector<std::optional<db::VideoAssetRow>>& keyframes,
                     const nlohmann::json& result);

}  // namespace cutroom::analysis
