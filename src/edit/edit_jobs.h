// Edit jobs: a request to cut one clip out of a video (a clip candidate or
// explicit ranges), frame it for an aspect ratio (centred, or following
// faces), burn in word-by-word captions, and render it as an H.264 + AAC
// MP4 asset. The request becomes an `edit_jobs` row with a normalised spec
// and a "render" job; RunRender does the work.
//
// Spec (edit_jobs.spec), as BuildEditSpec normalises a request:
//   {"ranges": [[start_s, end_s(, speed)], ...],  source times, joined in order;
//                                           speed 0.5..2 (only written when not 1)
//    "aspect": "9:16" | "1:1" | "16:9" | "source",
//    "reframe": "face" | "center",
//    "captions": {style...} | false,         see edit/render/ass_captions.h
//    "output": {"width", "height", "crf", "fps", "preset"},
//    "crop": {"width", "height"} | null,     in source display pixels
//    "title": {"text", "duration_s"} | null,  burned in from the start of the output
//    "audio": {"normalize": bool, "target_lufs": -14},  EBU R128 (loudnorm)
//    "notes": [...]}                          what was decided for the caller
// Defaults: aspect 9:16, reframe face, captions on, CRF 20, preset
// veryfast, the source frame rate, and the aspect's standard size (720x1280,
// 720x720, 1280x720) shrunk so the crop is never enlarged.
//
// Thread-safety: functions are reentrant.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "db/rows.h"
#include "jobs/job_queue.h"
#include "jobs/worker_pool.h"

namespace cutroom::edit {

// Most ranges in one edit, and the longest total.
inline constexpr size_t kMaxRanges = 1000;
inline constexpr double kMaxEditSeconds = 3 * 3600;

// Validates a request against its media (and clip, when it names one) and
// returns the normalised spec. InvalidArgument names the field and its
// limit (ranges outside the media, empty or reversed ranges, unknown
// aspect, odd or absurd sizes, bad caption style...).
Result<nlohmann::json> BuildEditSpec(const nlohmann::json& request, const db::MediaRow& media,
                                     const std::optional<db::ClipCandidateRow>& clip, bool has_transcript);

struct CreatedEdit {
  db::EditJobRow edit;
  db::JobRow job;
};

// Checks the request (NotFound for an unknown video or clip, or one of
// another owner), stores the edit_jobs row and queues its "render" job.
Result<CreatedEdit> CreateEditJob(db::Database& db, Env* env, IdGenerator* ids, jobs::JobQueue& queue,
                                  const std::string& owner_id, const nlohmann::json& request);

// The handler of "render" jobs (params {"edit_job_id"}): renders the spec,
// stores the MP4 as a `render` asset, links it from the edit job and marks
// a rendered clip candidate "rendered". The edit job's status follows the
// job (running, succeeded, failed with the error).
Status RunRender(jobs::JobContext& ctx);

}  // namespace cutroom::edit
