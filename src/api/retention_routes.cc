// Retention: predicted and imported audience-retention curves of a video,
// their chart, imports of real curves, and per-owner refits
// (analysis/retention/retention_stage.h).
#include "analysis/retention/retention_stage.h"
#include "api/dto.h"
#include "api/server.h"
#include "db/tables.h"

namespace cutroom::api {

void ApiServer::RegisterRetentionRoutes() {
  router_.Add({"GET", "/api/videos/{video_id}/retention",
               "Predicted and imported retention curves, their agreement and the clips' predictions",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_ASSIGN_OR_RETURN(auto media, OwnedMedia(repos, ctx.Param("video_id"), ctx.owner_id));
                 CUTROOM_ASSIGN_OR_RETURN(auto out, analysis::RetentionJson(*deps_.db, deps_.env, deps_.ids, media));
                 WriteJson(ctx.res, 200, out);
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/videos/{video_id}/retention.svg",
               "The retention curves drawn: predicted vs imported, drop points marked", RouteAuth::kOwner,
               [this](RequestContext& ctx) -> Status {
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_ASSIGN_OR_RETURN(auto media, OwnedMedia(repos, ctx.Param("video_id"), ctx.owner_id));
                 CUTROOM_ASSIGN_OR_RETURN(auto out, analysis::RetentionJson(*deps_.db, deps_.env, deps_.ids, media));
                 std::string title = "Audience retention: " + media.title.value_or(media.original_filename.value_or(media.video_id));
                 ctx.res.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
                 ctx.res.set_content(analysis::RetentionSvgOf(out, title), "image/svg+xml");
                 return Status::Ok();
               }});

  router_.Add({"POST", "/api/videos/{video_id}/retention/import",
               "Import a real retention curve: YouTube Analytics JSON, a Studio CSV export, or {points: [[t, share]]}",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_ASSIGN_OR_RETURN(auto media, OwnedMedia(repos, ctx.Param("video_id"), ctx.owner_id));
                 CUTROOM_ASSIGN_OR_RETURN(std::string body, ctx.ReadBody());
                 CUTROOM_ASSIGN_OR_RETURN(
                     auto row, analysis::ImportRetention(*deps_.db, deps_.env, deps_.ids, *deps_.blobs, media, body));
                 WriteJson(ctx.res, 201,
                           {{"retention_id", row.retention_id},
                            {"video_id", row.video_id},
                            {"source", row.source},
                            {"format", row.format.value_or("")},
                            {"duration_s", row.duration_s.value_or(0)},
                            {"points", row.curve.size()},
                            {"notes", row.model.value("notes", nlohmann::json::array())}});
                 return Status::Ok();
               }});

  router_.Add({"POST", "/api/retention/fit",
               "Refit the caller's retention model from their imported curves ({\"min_videos\": 5})", RouteAuth::kOwner,
               [this](RequestContext& ctx) -> Status {
                 int min_videos = static_cast<int>(deps_.config->GetInt("retention.min_fit_videos"));
                 CUTROOM_ASSIGN_OR_RETURN(std::string raw, ctx.ReadBody());
                 if (!raw.empty()) {
                   auto body = nlohmann::json::parse(raw, nullptr, false);
                   if (!body.is_object()) return Status::InvalidArgument("the body must be a JSON object");
                   if (body.contains("min_videos")) {
                     if (!body["min_videos"].is_number_integer() || body["min_videos"].get<int>() < 2 ||
                         body["min_videos"].get<int>() > 10000) {
                       return Status::InvalidArgument("min_videos must be an integer from 2 to 10000");
                     }
                     min_videos = body["min_videos"].get<int>();
                   }
                 }
                 CUTROOM_ASSIGN_OR_RETURN(auto out, analysis::FitOwnerRetention(*deps_.db, deps_.env, deps_.ids,
                                                                                ctx.owner_id, min_videos));
                 WriteJson(ctx.res, 201, out);
                 return Status::Ok();
               }});
}

}  // namespace cutroom::api
