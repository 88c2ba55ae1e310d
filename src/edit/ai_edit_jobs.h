// AI edit jobs: an instruction in plain language ("remove the silences and
// the ums", "a 45 second vertical teaser about pricing") becomes a
// validated edit plan (edit/plan/), stored in `ai_edit_jobs`, and, unless
// it is a dry run, one rendered edit job per output.
//
// Request (POST /api/ai-edit-jobs, `cutroom edit`):
//   {"video_id", "instruction", "outputs": 1..5 (most outputs; default 5),
//    "render": true, "aspect": "source|9:16|1:1|16:9", "captions": {style}|bool,
//    "planner": "auto" | "rules" | "llm"}
// The planner is the LLM when one is configured (llm.base_url/llm.model)
// and "auto" or "llm" is asked for, else the rule parser (rules.h);
// without an LLM an instruction the rules do not understand is refused
// at once (FailedPrecondition "llm_not_configured: ...", naming what the
// rules understand). The request's aspect and captions win over the
// instruction's. With the rules, 9:16 and 1:1 outputs of up to 3 minutes
// get captions unless the instruction or request turns them off.
//
// The "ai_edit" job loads the index (transcript, scenes, frames, clips, a
// 20 ms loudness curve when silences are involved), plans, validates,
// stores the plan with its provenance (planner, model, prompt version,
// transcription and scenes ids, SHA-256 of the instruction) and queues one
// "render" job per output. The ai_edit_jobs row follows: queued ->
// planning -> rendering -> succeeded | failed (succeeded at once for a dry
// run); while rendering, reading it brings its status up to date with its
// edit jobs. Rows keep no foreign key to media: they outlive it for audit.
// Thread-safety: functions are reentrant.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/config.h"
#include "db/rows.h"
#include "edit/plan/plan.h"
#include "edit/plan/plan_export.h"
#include "jobs/job_queue.h"
#include "jobs/worker_pool.h"

namespace cutroom::edit {

inline constexpr size_t kMaxInstructionChars = 2000;

struct CreatedAiEdit {
  db::AiEditJobRow row;
  db::JobRow job;
};

// InvalidArgument naming the field; NotFound for an unknown video (or one
// of another owner); FailedPrecondition for media that is not ready, and
// "llm_not_configured: ..." as above. URL references are planned and
// rendered in place (analysis/source_media.h).
Result<CreatedAiEdit> CreateAiEditJob(db::Database& db, Env* env, IdGenerator* ids, jobs::JobQueue& queue,
                                      const Config& config, const std::string& owner_id,
                                      const nlohmann::json& request);

// The handler of "ai_edit" jobs (params {"ai_edit_job_id"}).
Status RunAiEdit(jobs::JobContext& ctx);

// The row with its status brought up to date from its edit jobs (while
// rendering), as the API shows it:
//   {"ai_edit_job_id", "video_id", "instruction", "status", "planner", "model",
//    "plan", "outputs": [{"name", "duration_s", "ranges", "edit_job_id", "status",
//    "output_url"}], "edit_job_ids", "warnings", "error", "job_id", "created_at", "updated_at"}
// NotFound for an unknown id or one of another owner.
Result<nlohmann::json> AiEditJobJson(db::Database& db, Env* env, IdGenerator* ids, const std::string& owner_id,
                                     const std::string& ai_edit_job_id);

// What exports need to know of a media row (plans are cut on its frame grid).
PlanExportMedia PlanExportMediaFor(const db::MediaRow& media);

// Registers the "render" and "ai_edit" job handlers on a worker pool.
void RegisterEditJobs(jobs::WorkerPool& pool);

// The edit request that renders one output of a plan (for POST /api/edit-jobs's validation path).
nlohmann::json EditRequestForOutput(const EditPlan& plan, size_t output);

}  // namespace cutroom::edit
