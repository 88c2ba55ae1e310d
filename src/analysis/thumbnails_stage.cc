#include "analysis/thumbnails_stage.h"

#include <spdlog/spdlog.h>

#include "db/tables.h"
#include "analysis/source_media.h"
#include "media/thumbnails.h"

namespace cutroom::analysis {

std::string AssetUrl(const std::string& video_id, const std::string& asset_id) {
  return "/api/videos/" + video_id + "/assets/" + asset_id;
}

namespace {

Status MakeThumbnailAssets(jobs::JobContext& ctx, const std::string& video_id, const std::string& type,
                           const std::string& path, const jobs::JobServices& s);

struct NewAsset {
  db::VideoAssetRow row;
  std::string bytes;
};

NewAsset MakeAsset(IdGenerator* ids, const std::string& video_id, const std::string& kind, const std::string& ext,
                   const std::string& mime) {
  NewAsset a;
  a.row.asset_id = ids->Next(kAssetIdPrefix);
  a.row.video_id = video_id;
  a.row.kind = kind;
  a.row.storage_key = storage::MakeKey("assets", video_id, a.row.asset_id + ext);
  a.row.mime_type = mime;
  return a;
}

}  // namespace

Status RunThumbnails(jobs::JobContext& ctx) {
  const jobs::JobServices& s = ctx.services();
  if (!ctx.job().video_id) return Status::InvalidArgument("the thumbnails job has no video_id");
  const std::string video_id = *ctx.job().video_id;
  db::Repositories repos(*s.db, s.env, s.ids);
  CUTROOM_ASSIGN_OR_RETURN(auto media, repos.media.Get(video_id));
  if (media.status != "ready") return Status::FailedPrecondition("video " + video_id + " is " + media.status);
  std::string type = media.media_type.value_or("");
  if (type == "audio") {
    ctx.Log("info", "audio only: no thumbnails to make");
    ctx.set_result({{"skipped", "audio only"}});
    return Status::Ok();
  }
  CUTROOM_ASSIGN_OR_RETURN(SourceMedia source, SourceMedia::Open(s, media));
  const std::string& path = source.path();
  Status made = MakeThumbnailAssets(ctx, video_id, type, path, s);
  LogRemoteReads(ctx, source);
  return source.Explain(made);
}

namespace {

Status MakeThumbnailAssets(jobs::JobContext& ctx, const std::string& video_id, const std::string& type,
                           const std::string& path, const jobs::JobServices& s) {

  std::vector<NewAsset> assets;
  ctx.SetProgress(0.05);
  CUTROOM_ASSIGN_OR_RETURN(auto poster, media::MakePoster(path));
  CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
  {
    NewAsset a = MakeAsset(s.ids, video_id, "thumbnail", ".jpg", "image/jpeg");
    a.row.width = poster.width;
    a.row.height = poster.height;
    a.row.metadata = {{"ts_s", poster.ts_s}};
    a.bytes = std::move(poster.jpeg);
    assets.push_back(std::move(a));
  }
  ctx.SetProgress(0.3);
  if (type == "video") {
    CUTROOM_ASSIGN_OR_RETURN(auto sheet, media::MakeSpriteSheet(path));
    CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
    NewAsset sprite = MakeAsset(s.ids, video_id, "sprite", ".jpg", "image/jpeg");
    sprite.row.width = sheet.tile_width * sheet.columns;
    sprite.row.height = sheet.tile_height * sheet.rows;
    sprite.row.metadata = {{"tile_width", sheet.tile_width},
                           {"tile_height", sheet.tile_height},
                           {"columns", sheet.columns},
                           {"rows", sheet.rows},
                           {"tiles", sheet.tiles.size()}};
    NewAsset vtt = MakeAsset(s.ids, video_id, "vtt", ".vtt", "text/vtt");
    vtt.bytes = media::SpriteVtt(sheet, AssetUrl(video_id, sprite.row.asset_id));
    vtt.row.metadata = {{"sprite_asset_id", sprite.row.asset_id}};
    sprite.bytes = std::move(sheet.jpeg);
    assets.push_back(std::move(sprite));
    assets.push_back(std::move(vtt));
  }
  ctx.SetProgress(0.8);

  // Files first (new keys, nothing is overwritten), then the rows swap in
  // one transaction, then the old files go.
  for (auto& a : assets) {
    a.row.size_bytes = static_cast<int64_t>(a.bytes.size());
    CUTROOM_RETURN_IF_ERROR(s.blobs->Put(a.row.storage_key, a.bytes));
  }
  std::vector<std::string> old_keys;
  Status st = s.db->Transaction([&](db::DbSession& tx) -> Status {
    db::Repositories t(tx, s.env, s.ids);
    CUTROOM_ASSIGN_OR_RETURN(auto old, tx.Query("SELECT asset_id, storage_key FROM video_assets WHERE video_id = ? "
                                                "AND kind IN ('thumbnail', 'sprite', 'vtt')",
                                                {video_id}));
    for (size_t i = 0; i < old.size(); ++i) {
      old_keys.push_back(*old.Text(i, "storage_key"));
      CUTROOM_RETURN_IF_ERROR(t.video_assets.Delete(*old.Text(i, "asset_id")));
    }
    for (auto& a : assets) CUTROOM_RETURN_IF_ERROR(t.video_assets.Insert(a.row).status());
    return Status::Ok();
  });
  if (!st.ok()) {
    for (auto& a : assets) s.blobs->Delete(a.row.storage_key).IgnoreError();
    return st;
  }
  for (const auto& key : old_keys) s.blobs->Delete(key).IgnoreError();
  nlohmann::json result = {{"assets", nlohmann::json::array()}};
  for (const auto& a : assets) result["assets"].push_back({{"asset_id", a.row.asset_id}, {"kind", a.row.kind}});
  ctx.set_result(result);
  ctx.Log("info", "stored " + std::to_string(assets.size()) + " thumbnail asset(s)", result);
  return Status::Ok();
}

}  // namespace
}  // namespace cutroom::analysis
