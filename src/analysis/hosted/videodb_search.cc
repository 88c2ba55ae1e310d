#include "analysis/hosted/videodb_search.h"

#include <algorithm>
#include <map>

#include "ai/videodb_client.h"

namespace cutroom::analysis {

Result<std::vector<SearchHit>> SearchVideoDb(db::Database& db, const Config& config,
                                             const VideoDbSearchRequest& req) {
  if (req.query.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::InvalidArgument("q must not be empty");
  }
  if (req.type != "semantic" && req.type != "keyword") {
    return Status::InvalidArgument("type must be semantic or keyword for engine=videodb");
  }
  if (req.index != "spoken_word" && req.index != "scene") {
    return Status::InvalidArgument("index must be spoken_word or scene for engine=videodb");
  }
  CUTROOM_ASSIGN_OR_RETURN(auto client, ai::VideoDbClient::FromConfig(config));

  std::string sql = "SELECT video_id, metadata FROM media WHERE owner_id = ? AND status = 'ready' AND "
                    "metadata LIKE '%\"videodb\"%'";
  std::vector<db::DbValue> args = {req.owner_id};
  if (!req.video_id.empty()) {
    sql += " AND video_id = ?";
    args.push_back(req.video_id);
  }
  sql += " ORDER BY video_id DESC LIMIT " + std::to_string(kVideoDbSearchMaxMedia);
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query(sql, args));

  struct Target {
    std::string video_id;
    std::string vdb_id;
    std::string scene_index_id;
  };
  std::vector<Target> targets;
  for (size_t i = 0; i < rows.size(); ++i) {
    auto meta = nlohmann::json::parse(rows.Text(i, "metadata").value_or("{}"), nullptr, false);
    if (!meta.is_object() || !meta.contains("videodb") || !meta["videodb"].is_object()) continue;
    const auto& v = meta["videodb"];
    if (v.value("base_url", "") != client.options().base_url ||
        v.value("collection", "") != client.options().collection || !v.contains("video_id")) {
      continue;
    }
    Target t{*rows.Text(i, "video_id"), v.value("video_id", ""), v.value("scene_index_id", "")};
    bool indexed = req.index == "spoken_word" ? v.value("spoken_word_index", false) : !t.scene_index_id.empty();
    if (indexed && !t.vdb_id.empty()) targets.push_back(std::move(t));
  }
  if (!req.video_id.empty() && targets.empty()) {
    std::string how = req.index == "spoken_word" ? "POST /api/videos/" + req.video_id +
                                                       "/process/transcription {\"engine\": \"videodb\"}"
                                                 : "POST /api/videos/" + req.video_id +
                                                       "/process/scenes {\"detector\": \"videodb\"}";
    return Status::FailedPrecondition("videodb_not_indexed: VideoDB has no " + req.index + " index of video " +
                                      req.video_id + " (is it yours?): " + how);
  }

  std::vector<SearchHit> hits;
  for (const auto& t : targets) {
    auto found = client.Search(t.vdb_id, req.query, req.type, req.index, req.limit,
                               req.index == "scene" ? t.scene_index_id : "");
    if (!found.ok()) {
      // A media whose index VideoDB lost (or never finished) is skipped
      // when searching everything; errors of the account or the service
      // end the search.
      if (ai::VideoDbErrorCode(found.status()) == "videodb_refused" && req.video_id.empty()) continue;
      return found.status();
    }
    for (const auto& h : *found) {
      SearchHit hit;
      hit.video_id = t.video_id;
      hit.source = req.index == "spoken_word" ? "transcript" : "scene";
      hit.start_s = h.start_s;
      hit.end_s = h.end_s;
      hit.text = h.text;
      hit.snippet = h.text;
      hit.score = h.score;
      hits.push_back(std::move(hit));
    }
  }
  std::stable_sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) { return a.score > b.score; });
  if (static_cast<int>(hits.size()) > req.limit) hits.resize(static_cast<size_t>(req.limit));
  return hits;
}

}  // namespace cutroom::analysis
