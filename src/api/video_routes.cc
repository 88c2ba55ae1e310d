// /api/videos: list, read and delete media.
#include <spdlog/spdlog.h>

#include <set>

#include "analysis/hosted/videodb_media.h"
#include "api/dto.h"
#include "api/paging.h"
#include "api/server.h"
#include "db/tables.h"

namespace cutroom::api {
void ApiServer::RegisterVideoRoutes() {
  router_.Add({"GET", "/api/videos", "List videos (paged; filter by status and media_type)", RouteAuth::kOwner,
               [this](RequestContext& ctx) -> Status {
                 CUTROOM_ASSIGN_OR_RETURN(int64_t limit, PageLimit(ctx, 50));
                 db::ListQuery q;
                 q.limit = limit;
                 q.newest_first = true;
                 q.where.push_back({"owner_id", ctx.owner_id});
                 CUTROOM_RETURN_IF_ERROR(ApplyEnumFilter(
                     ctx, "status", {"pending", "uploading", "ready", "processing", "failed", "deleted"}, q));
                 CUTROOM_RETURN_IF_ERROR(ApplyEnumFilter(ctx, "media_type", {"video", "audio", "image"}, q));
                 CUTROOM_RETURN_IF_ERROR(ApplyCursor(ctx, kVideoIdPrefix, q));
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_ASSIGN_OR_RETURN(auto page, repos.media.List(q));
                 nlohmann::json items = nlohmann::json::array();
                 for (const auto& m : page.items) items.push_back(VideoJson(m));
                 WriteJson(ctx.res, 200,
                           {{"videos", items},
                            {"limit", limit},
                            {"next_cursor", NextCursor(page.next_cursor)}});
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/videos/{video_id}", "One video", RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_ASSIGN_OR_RETURN(auto media, OwnedMedia(repos, ctx.Param("video_id"), ctx.owner_id));
                 WriteJson(ctx.res, 200, VideoJson(media));
                 return Status::Ok();
               }});

  router_.Add({"PATCH", "/api/videos/{video_id}", "Change a video's title", RouteAuth::kOwner,
               [this](RequestContext& ctx) -> Status {
                 CUTROOM_ASSIGN_OR_RETURN(auto body, ctx.ReadJson());
                 for (const auto& [key, value] : body.items()) {
                   if (key != "title") return Status::InvalidArgument("only 'title' can be changed, not '" + key + "'");
                 }
                 if (!body.contains("title") || !body["title"].is_string()) {
                   return Status::InvalidArgument("'title' must be a string");
                 }
                 std::string title = body["title"].get<std::string>();
                 if (title.empty() || title.size() > 500) {
                   return Status::InvalidArgument("'title' must be 1 to 500 characters");
                 }
                 db::MediaRow updated;
                 Status st = deps_.db->Transaction([&](db::DbSession& tx) -> Status {
                   db::Repositories repos(tx, deps_.env, deps_.ids);
                   CUTROOM_ASSIGN_OR_RETURN(auto media, OwnedMedia(repos, ctx.Param("video_id"), ctx.owner_id));
                   media.title = title;
                   CUTROOM_ASSIGN_OR_RETURN(updated, repos.media.Update(media));
                   return Status::Ok();
                 });
                 CUTROOM_RETURN_IF_ERROR(st);
                 WriteJson(ctx.res, 200, VideoJson(updated));
                 return Status::Ok();
               }});

  router_.Add({"DELETE", "/api/videos/{video_id}", "Delete a video, its derived data and its files", RouteAuth::kOwner,
               [this](RequestContext& ctx) -> Status {
                 const std::string& video_id = ctx.Param("video_id");
                 std::vector<std::string> keys;
                 db::MediaRow deleted;
                 Status st = deps_.db->Transaction([&](db::DbSession& tx) -> Status {
                   db::Repositories repos(tx, deps_.env, deps_.ids);
                   CUTROOM_ASSIGN_OR_RETURN(auto media, OwnedMedia(repos, video_id, ctx.owner_id));
                   deleted = media;
                   if (media.storage_key) keys.push_back(*media.storage_key);
                   CUTROOM_ASSIGN_OR_RETURN(auto assets,
                                            tx.Query("SELECT storage_key FROM video_assets WHERE video_id = ?",
                                                     {video_id}));
                   for (size_t i = 0; i < assets.size(); ++i) keys.push_back(*assets.Text(i, "storage_key"));
                   // Imported retention curves keep their upload as received.
                   CUTROOM_ASSIGN_OR_RETURN(auto raws, tx.Query("SELECT raw_key FROM retention_analyses WHERE "
                                                                "video_id = ? AND raw_key IS NOT NULL",
                                                                {video_id}));
                   for (size_t i = 0; i < raws.size(); ++i) keys.push_back(*raws.Text(i, "raw_key"));
                   return repos.media.Delete(video_id);
                 });
                 CUTROOM_RETURN_IF_ERROR(st);
                 // Rows are gone (committed); files follow. A file that cannot be
                 // removed is logged, never resurrects the row.
                 for (const auto& key : keys) {
                   Status removed = deps_.blobs->Delete(key);
                   if (!removed.ok() && !removed.IsNotFound()) {
                     spdlog::warn("deleted {} but could not remove blob {}: {}", video_id, key, removed.ToString());
                   }
                 }
                 // Its VideoDB copy goes only when videodb.delete_remote says so.
                 Status remote = analysis::DeleteVideoDbCopy(*deps_.config, deleted);
                 if (!remote.ok()) {
                   spdlog::warn("deleted {} but not its VideoDB copy: {}", video_id, remote.ToString());
                 }
                 ctx.res.status = 204;
                 return Status::Ok();
               }});
}

}  // namespace cutroom::api
