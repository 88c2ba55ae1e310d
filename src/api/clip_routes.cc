// Clip candidates, their exports (OTIO, EDL, SRT, VTT), and edit jobs that
// render clips.
#include "analysis/clips/export.h"
#include "analysis/transcribe/transcript_store.h"
#include "api/dto.h"
#include "api/server.h"
#include "db/tables.h"
#include "edit/edit_jobs.h"

namespace cutroom::api {
namespace {

nlohmann::json OrNull(const db::OptString& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json ClipJson(const db::ClipCandidateRow& c) {
  return {{"clip_id", c.clip_id},
          {"video_id", c.video_id},
          {"processing_id", OrNull(c.processing_id)},
          {"start_s", c.start_s},
          {"end_s", c.end_s},
          {"duration_s", c.end_s - c.start_s},
          {"score", c.score},
          {"title", OrNull(c.title)},
          {"hook", OrNull(c.hook)},
          {"reason", OrNull(c.reason)},
          {"transcript_excerpt", OrNull(c.transcript_excerpt)},
          {"features", c.features},
          {"status", c.status}};
}

Result<db::EditJobRow> OwnedEdit(db::Repositories& repos, const std::string& id, const std::string& owner) {
  auto edit = repos.edit_jobs.Get(id);
  if (!edit.ok() || edit->owner_id != owner) return Status::NotFound("edit job " + id + " does not exist");
  return edit;
}


// An edit job as the API shows it (with its job's progress and its output).
nlohmann::json EditJobOut(db::Repositories& repos, const db::EditJobRow& edit) {
  nlohmann::json out = {{"edit_job_id", edit.edit_job_id},
                        {"video_id", edit.video_id},
                        {"clip_id", OrNull(edit.clip_candidate_id)},
                        {"status", edit.status},
                        {"spec", edit.spec},
                        {"job_id", OrNull(edit.job_id)},
                        {"output_url", edit.output_asset_id
                                           ? nlohmann::json("/api/edit-jobs/" + edit.edit_job_id + "/output")
                                           : nlohmann::json(nullptr)},
                        {"error", OrNull(edit.error)},
                        {"created_at", edit.created_at}};
  if (edit.job_id) {
    if (auto job = repos.jobs.Get(*edit.job_id); job.ok()) out["progress"] = job->progress;
  }
  if (edit.output_asset_id) {
    if (auto asset = repos.video_assets.Get(*edit.output_asset_id); asset.ok()) {
      out["output"] = {{"asset_id", asset->asset_id},
                       {"width", asset->width ? nlohmann::json(*asset->width) : nullptr},
                       {"height", asset->height ? nlohmann::json(*asset->height) : nullptr},
                       {"duration_s", asset->duration_s ? nlohmann::json(*asset->duration_s) : nullptr},
                       {"size_bytes", asset->size_bytes ? nlohmann::json(*asset->size_bytes) : nullptr}};
    }
  }
  return out;
}

}  // namespace

void ApiServer::RegisterClipRoutes() {
  router_.Add({"GET", "/api/videos/{video_id}/clips", "Clip candidates, best first (?status=)", RouteAuth::kOwner,
               [this](RequestContext& ctx) -> Status {
                 const std::string& video_id = ctx.Param("video_id");
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_RETURN_IF_ERROR(OwnedMedia(repos, video_id, ctx.owner_id).status());
                 std::string sql = "SELECT clip_id FROM clip_candidates WHERE video_id = ?";
                 std::vector<db::DbValue> args = {video_id};
                 if (auto status = ctx.Query("status")) {
                   if (*status != "proposed" && *status != "accepted" && *status != "rejected" &&
                       *status != "rendered") {
                     return Status::InvalidArgument("status must be proposed, accepted, rejected or rendered");
                   }
                   sql += " AND status = ?";
                   args.push_back(*status);
                 }
                 CUTROOM_ASSIGN_OR_RETURN(auto ids, deps_.db->Query(sql + " ORDER BY score DESC, clip_id", args));
                 nlohmann::json clips = nlohmann::json::array();
                 for (size_t i = 0; i < ids.size(); ++i) {
                   CUTROOM_ASSIGN_OR_RETURN(auto clip, repos.clip_candidates.Get(*ids.Text(i, "clip_id")));
                   clips.push_back(ClipJson(clip));
                 }
                 WriteJson(ctx.res, 200, {{"video_id", video_id}, {"clips", clips}});
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/videos/{video_id}/clips/{clip_id}/export",
               "A clip as an OpenTimelineIO timeline, CMX 3600 EDL, or SRT/VTT captions (?format=otio|edl|srt|vtt)",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 const std::string& video_id = ctx.Param("video_id");
                 const std::string& clip_id = ctx.Param("clip_id");
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_ASSIGN_OR_RETURN(auto media, OwnedMedia(repos, video_id, ctx.owner_id));
                 auto clip = repos.clip_candidates.Get(clip_id);
                 if (!clip.ok() || clip->video_id != video_id) {
                   return Status::NotFound("clip " + clip_id + " is not a clip of video " + video_id);
                 }
                 std::string format = ctx.Query("format").value_or("otio");
                 if (format != "otio" && format != "edl" && format != "srt" && format != "vtt") {
                   return Status::InvalidArgument("format must be otio, edl, srt or vtt");
                 }
                 analysis::ClipExportSpec spec;
                 spec.name = clip->title.value_or(clip_id);
                 spec.media_name = media.original_filename.value_or(video_id);
                 spec.media_url = media.original_filename.value_or("/api/videos/" + video_id + "/stream");
                 spec.media_duration_s = media.duration_s.value_or(0);
                 spec.fps = media.fps.value_or(0) > 0 ? *media.fps : 25.0;
                 spec.has_video = media.media_type.value_or("video") != "audio";
                 spec.has_audio = media.audio_codec.has_value();
                 spec.ranges = {{clip->start_s, clip->end_s}};
                 spec.hook = clip->hook.value_or("");
                 analysis::Transcript transcript;
                 auto stored = analysis::LoadTranscript(*deps_.db, deps_.env, deps_.ids, video_id);
                 if (stored.ok()) {
                   transcript = stored->transcript;
                 } else if (format == "srt" || format == "vtt") {
                   return Status::FailedPrecondition("video " + video_id + " has no transcript to make captions from");
                 }
                 Result<std::string> body = Status::Internal("unreachable");
                 std::string mime;
                 if (format == "otio") {
                   body = analysis::ExportOtio(spec, transcript);
                   mime = "application/json";
                 } else if (format == "edl") {
                   body = analysis::ExportEdl(spec);
                   mime = "text/plain; charset=utf-8";
                 } else if (format == "srt") {
                   body = analysis::ExportSrt(spec, transcript);
                   mime = "application/x-subrip; charset=utf-8";
                 } else {
                   body = analysis::ExportVtt(spec, transcript);
                   mime = "text/vtt; charset=utf-8";
                 }
                 if (!body.ok()) return body.status();
                 ctx.res.set_header("Content-Disposition", "attachment; filename=\"" + clip_id + "." + format + "\"");
                 ctx.res.set_content(*body, mime);
                 return Status::Ok();
               }});

  router_.Add({"POST", "/api/edit-jobs", "Render a clip (clip_id or ranges; aspect, reframe, captions, output)",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 CUTROOM_ASSIGN_OR_RETURN(auto body, ctx.ReadJson());
                 CUTROOM_RETURN_IF_ERROR(CheckQueueRoom(*deps_.db, *deps_.config, ctx.owner_id, 1));
                 CUTROOM_ASSIGN_OR_RETURN(
                     auto created, edit::CreateEditJob(*deps_.db, deps_.env, deps_.ids, *deps_.queue, ctx.owner_id, body));
                 if (deps_.notify_workers) deps_.notify_workers();
                 WriteJson(ctx.res, 202,
                           {{"edit_job_id", created.edit.edit_job_id},
                            {"job_id", created.job.job_id},
                            {"video_id", created.edit.video_id},
                            {"spec", created.edit.spec}});
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/edit-jobs/{edit_job_id}", "An edit job: status, spec, output", RouteAuth::kOwner,
               [this](RequestContext& ctx) -> Status {
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_ASSIGN_OR_RETURN(auto edit, OwnedEdit(repos, ctx.Param("edit_job_id"), ctx.owner_id));
                 WriteJson(ctx.res, 200, EditJobOut(repos, edit));
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/videos/{video_id}/edit-jobs", "A video's renders, newest first (at most 100)",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 const std::string& video_id = ctx.Param("video_id");
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_RETURN_IF_ERROR(OwnedMedia(repos, video_id, ctx.owner_id).status());
                 CUTROOM_ASSIGN_OR_RETURN(auto rows, deps_.db->Query("SELECT edit_job_id FROM edit_jobs WHERE video_id = ? "
                                                                     "ORDER BY edit_job_id DESC LIMIT 100",
                                                                     {video_id}));
                 nlohmann::json list = nlohmann::json::array();
                 for (size_t i = 0; i < rows.size(); ++i) {
                   auto edit = repos.edit_jobs.Get(*rows.Text(i, "edit_job_id"));
                   if (edit.ok()) list.push_back(EditJobOut(repos, *edit));
                 }
                 WriteJson(ctx.res, 200, {{"video_id", video_id}, {"edit_jobs", list}});
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/edit-jobs/{edit_job_id}/output", "The rendered MP4 (HTTP Range supported)",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_ASSIGN_OR_RETURN(auto edit, OwnedEdit(repos, ctx.Param("edit_job_id"), ctx.owner_id));
                 if (!edit.output_asset_id) {
                   WriteError(ctx.res, {409, "not_ready",
                                        "edit job " + edit.edit_job_id + " is " + edit.status + "; no output yet",
                                        {{"status", edit.status}}});
                   return Status::Ok();
                 }
                 CUTROOM_ASSIGN_OR_RETURN(auto asset, repos.video_assets.Get(*edit.output_asset_id));
                 ctx.res.set_header("Content-Disposition",
                                    "inline; filename=\"" + edit.edit_job_id + ".mp4\"");
                 return StreamBlob(ctx, asset.storage_key, asset.mime_type.value_or("video/mp4"));
               }});
}

}  // namespace cutroom::api
