// Edit jobs: a request to cut one clip out of a video (a clip candidate or
// explicit ranges), frame it for an aspect ratio (by content per scene:
// following faces, fitting slides over a blurred fill, or centred), burn
// in word-by-word captions, and render it as an H.264 + AAC
// MP4 asset. The request becomes an `edit_jobs` row with a normalised spec
// and a "render" job; RunRender does the work.
//
// Spec (edit_jobs.spec), as BuildEditSpec normalises a request:
//   {"ranges": [[start_s, end_s(, speed)], ...],  source times, joined in order;
//                                           speed 0.5..2 (only written when not 1)
//    "aspect": "9:16" | "1:1" | "16:9" | "source",
//    "reframe": "auto" | "face" | "center" | "fit",
//    "layout": [{"start_s", "end_s", "source_start_s", "source_end_s",
//                "mode": "face" | "center" | "fit", "why"}],
//                                           written by the render: the layout
//                                           each piece of the output got (output
//                                           times; source times for auto)
//    "captions": {style...} | false,         see edit/render/ass_captions.h
//    "output": {"width", "height", "size": "platform" | "native", "crf",
//               "maxrate_kbps", "fps", "preset"},
//    "crop": {"width", "height"} | null,     in source display pixels
//    "title": {"text", "duration_s"} | null,  burned in from the start of the output
//    "audio": {"normalize": bool, "target_lufs": -14},  EBU R128 (loudnorm)
//    "notes": [...]}                          what was decided for the caller
// Reframe (when the aspect crops the picture): "auto" cuts the ranges at
// the scene cuts of the newest scene detection (no scenes: each range is
// one scene) and chooses each scene's layout from its faces (the render's
// own samples, 3 a second, and the frames stage's rows), text (the frames
// stage's OCR, or OCR of up to 2 frames per scene read by the render) and
// motion, by the rule in edit/reframe/layout.h; a scene keeps one layout
// throughout. "face", "center" and "fit" force one layout.
//
// Defaults: aspect 9:16, reframe auto, captions on, preset veryfast, the
// source frame rate, and the platform size for the aspect: 1080x1920,
// 1080x1080, 1920x1080 from sources whose shorter side is 1080 px or more,
// 720x1280, 720x720, 1280x720 below, enlarged (lanczos) when the crop is
// smaller. output.size "native" keeps the older rule: the 720-class size
// shrunk so the crop is never enlarged. Aspect "source" keeps the source
// size (at most 1920 on the long side) either way.
//
// Rate: CRF 20 capped by a VBV maxrate of 10 Mb/s at 1080x1920 (scaled by
// pixels^0.75: about 5.4 Mb/s at 720x1280), buffer twice that. Shorts,
// Reels and TikTok re-encode every upload, so the file is a master for
// their encoder: CRF 20 keeps it close to transparent (their re-encode
// then adds one generation of loss, not two), and the cap keeps a busy or
// noisy scene near what they recommend uploading (YouTube: 8 Mb/s for
// 1080p30) and a 60 s clip under 80 MB, well inside their upload limits.
// output.maxrate_kbps sets another cap (0: none).
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
