// AI edit jobs: an instruction turned into an edit plan and rendered
// (edit/ai_edit_jobs.h), and the plan's exports for editors.
#include "api/dto.h"
#include "api/server.h"
#include "db/tables.h"
#include "edit/ai_edit_jobs.h"
#include "edit/plan/plan_export.h"

namespace cutroom::api {

void ApiServer::RegisterAiEditRoutes() {
  router_.Add({"POST", "/api/ai-edit-jobs",
               "Plan (and render) an edit from a plain-language instruction: {video_id, instruction, outputs?, "
               "render?, aspect?, captions?, planner?}",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 CUTROOM_ASSIGN_OR_RETURN(auto body, ctx.ReadJson());
                 CUTROOM_RETURN_IF_ERROR(CheckQueueRoom(*deps_.db, *deps_.config, ctx.owner_id, 1));
                 auto created = edit::CreateAiEditJob(*deps_.db, deps_.env, deps_.ids, *deps_.queue, *deps_.config,
                                                      ctx.owner_id, body);
                 if (!created.ok()) {
                   const std::string& msg = created.status().message();
                   if (created.status().code() == StatusCode::kFailedPrecondition &&
                       msg.rfind("llm_not_configured", 0) == 0) {
                     WriteError(ctx.res, {422, "llm_not_configured", msg.substr(msg.find(": ") + 2), {}});
                     return Status::Ok();
                   }
                   return created.status();
                 }
                 if (deps_.notify_workers) deps_.notify_workers();
                 WriteJson(ctx.res, 202,
                           {{"ai_edit_job_id", created->row.ai_edit_job_id},
                            {"job_id", created->job.job_id},
                            {"video_id", created->row.video_id},
                            {"planner", created->row.planner.value_or("")},
                            {"status", created->row.status}});
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/videos/{video_id}/ai-edit-jobs",
               "The video's AI edits, newest first (instruction, status, planner, outputs)", RouteAuth::kOwner,
               [this](RequestContext& ctx) -> Status {
                 const std::string& video_id = ctx.Param("video_id");
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_RETURN_IF_ERROR(OwnedMedia(repos, video_id, ctx.owner_id).status());
                 CUTROOM_ASSIGN_OR_RETURN(auto rows, deps_.db->Query("SELECT ai_edit_job_id FROM ai_edit_jobs WHERE "
                                                                     "video_id = ? AND owner_id = ? ORDER BY "
                                                                     "ai_edit_job_id DESC LIMIT 100",
                                                                     {video_id, ctx.owner_id}));
                 nlohmann::json items = nlohmann::json::array();
                 for (size_t i = 0; i < rows.size(); ++i) {
                   CUTROOM_ASSIGN_OR_RETURN(auto one, edit::AiEditJobJson(*deps_.db, deps_.env, deps_.ids, ctx.owner_id,
                                                                          *rows.Text(i, "ai_edit_job_id")));
                   one.erase("plan");  // GET each by id for the whole plan
                   items.push_back(std::move(one));
                 }
                 WriteJson(ctx.res, 200, {{"video_id", video_id}, {"ai_edit_jobs", items}});
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/ai-edit-jobs/{ai_edit_job_id}",
               "An AI edit job: instruction, plan, planner, model, status, outputs and their edit jobs, warnings",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 CUTROOM_ASSIGN_OR_RETURN(auto out, edit::AiEditJobJson(*deps_.db, deps_.env, deps_.ids, ctx.owner_id,
                                                                        ctx.Param("ai_edit_job_id")));
                 WriteJson(ctx.res, 200, out);
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/ai-edit-jobs/{ai_edit_job_id}/export",
               "The plan for editors: ?format=otio|edl|fcpxml (&output=N for OTIO and EDL; FCPXML holds every output)",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 const std::string id = ctx.Param("ai_edit_job_id");
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 auto row = repos.ai_edit_jobs.Get(id);
                 if (!row.ok() || row->owner_id != ctx.owner_id) {
                   return Status::NotFound("AI edit job " + id + " does not exist");
                 }
                 if (row->plan.is_null()) {
                   WriteError(ctx.res, {409, "not_ready", "AI edit job " + id + " is " + row->status + "; no plan yet",
                                        {{"status", row->status}}});
                   return Status::Ok();
                 }
                 CUTROOM_ASSIGN_OR_RETURN(auto plan, edit::PlanFromJson(row->plan));
                 std::string format = ctx.Query("format").value_or("otio");
                 if (format != "otio" && format != "edl" && format != "fcpxml") {
                   return Status::InvalidArgument("format must be otio, edl or fcpxml");
                 }
                 size_t output = 0;
                 if (auto o = ctx.Query("output")) {
                   char* end = nullptr;
                   long n = std::strtol(o->c_str(), &end, 10);
                   if (o->empty() || *end != '\0' || n < 0 || static_cast<size_t>(n) >= plan.outputs.size()) {
                     return Status::InvalidArgument("output must be 0 to " + std::to_string(plan.outputs.size() - 1));
                   }
                   output = static_cast<size_t>(n);
                 }
                 // The media may be gone (plans outlive it); its facts then
                 // come from nothing, and the export says it cannot.
                 auto media = repos.media.Get(row->video_id);
                 if (!media.ok()) {
                   return Status::FailedPrecondition("video " + row->video_id +
                                                     " no longer exists; its plan cannot be placed on a timeline");
                 }
                 const edit::PlanExportMedia m = edit::PlanExportMediaFor(*media);
                 Result<std::string> body = Status::Internal("unreachable");
                 std::string mime;
                 if (format == "otio") {
                   body = edit::ExportPlanOtio(plan, output, m);
                   mime = "application/json";
                 } else if (format == "edl") {
                   body = edit::ExportPlanEdl(plan, output, m);
                   mime = "text/plain; charset=utf-8";
                 } else {
                   body = edit::ExportPlanFcpxml(plan, m);
                   mime = "application/xml; charset=utf-8";
                 }
                 if (!body.ok()) return body.status();
                 ctx.res.set_header("Content-Disposition", "attachment; filename=\"" + id + "." + format + "\"");
                 ctx.res.set_content(*body, mime);
                 return Status::Ok();
               }});
}

}  // namespace cutroom::api
