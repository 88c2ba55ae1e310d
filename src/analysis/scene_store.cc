#include "analysis/scene_store.h"

namespace cutroom::analysis {

Status ReplaceScenes(const jobs::JobServices& s, const std::string& video_id, const std::string& processing_id,
                     std::vector<db::SceneRow> rows, const std::vector<std::optional<db::VideoAssetRow>>& keyframes,
                     const nlohmann::json& result) {
  std::vector<std::string> old_keys;
  Status st = s.db->Transaction([&](db::DbSession& tx) -> Status {
    db::Repositories t(tx, s.env, s.ids);
    CUTROOM_ASSIGN_OR_RETURN(auto old, tx.Query("SELECT asset_id, storage_key FROM video_assets WHERE video_id = ? "
                                                "AND kind = 'keyframe'",
                                                {video_id}));
    CUTROOM_RETURN_IF_ERROR(tx.Execute("DELETE FROM scene_index WHERE video_id = ?", {video_id}).status());
    for (size_t i = 0; i < old.size(); ++i) {
      old_keys.push_back(*old.Text(i, "storage_key"));
      CUTROOM_RETURN_IF_ERROR(t.video_assets.Delete(*old.Text(i, "asset_id")));
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i < keyframes.size() && keyframes[i]) {
        CUTROOM_RETURN_IF_ERROR(t.video_assets.Insert(*keyframes[i]).status());
        rows[i].keyframe_id = keyframes[i]->asset_id;
      }
      CUTROOM_RETURN_IF_ERROR(t.scenes.Insert(rows[i]).status());
    }
    return tx.Execute("UPDATE video_processing SET result = ? WHERE processing_id = ?",
                      {db::JsonText(result), processing_id})
        .status();
  });
  if (!st.ok()) {
    for (const auto& k : keyframes) {
      if (k) s.blobs->Delete(k->storage_key).IgnoreError();
    }
    return st;
  }
  for (const auto& key : old_keys) s.blobs->Delete(key).IgnoreError();
  return Status::Ok();
}

}  // namespace cutroom::analysis
