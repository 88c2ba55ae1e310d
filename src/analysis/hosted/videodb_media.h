// A cutroom media's copy in VideoDB: uploaded once, remembered in the
// media row's metadata, reused by every VideoDB stage and by search.
//
// media.metadata.videodb = {
//   "video_id": "m-...",            VideoDB's id
//   "base_url", "collection":      where the copy lives (a copy elsewhere is not reused)
//   "uploaded_via": "url"|"file",  "length_s", "uploaded_at",
//   "spoken_word_index": true,     once the spoken words are indexed
//   "scene_index_id": "...",       the newest scene index
// }
// The upload goes by URL when VideoDB can fetch the media itself (a URL
// reference, or a URL import whose host is not a private address), else
// through VideoDB's signed upload URL with the stored file.
// Two stages of one media in one process upload once (a per-media lock);
// workers in other processes may, rarely, upload a second copy.
// Thread-safety: functions are safe to call concurrently.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ai/videodb_client.h"
#include "db/rows.h"
#include "jobs/worker_pool.h"

namespace cutroom::analysis {

// The metadata of the media's copy in the VideoDB the client talks to, or
// nullopt when it has none there.
std::optional<nlohmann::json> VideoDbCopyOf(const db::MediaRow& media, const ai::VideoDbOptions& options);

// VideoDB's video id for the media, uploading it first when needed (logged
// on ctx). FailedPrecondition when the media is not ready or has neither a
// stored file nor a URL; the client's errors otherwise.
Result<std::string> EnsureVideoDbUpload(jobs::JobContext& ctx, const ai::VideoDbClient& client,
                                        const std::string& video_id);

// Changes media.metadata.videodb in one transaction (read, edit, write), so
// concurrent edits of other metadata are kept.
Status EditVideoDbMetadata(const jobs::JobServices& s, const std::string& video_id,
                           const std::function<void(nlohmann::json& videodb)>& edit);

// When videodb.delete_remote is true and the media has a VideoDB copy,
// deletes that copy (at most two tries of 15 s: a request waits on it). OK
// when there is nothing to do or the copy is already gone; the client's
// error otherwise (callers log it: the local delete has happened).
Status DeleteVideoDbCopy(const Config& config, const db::MediaRow& media);

}  // namespace cutroom::analysis
