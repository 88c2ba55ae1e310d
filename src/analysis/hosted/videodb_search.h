// Search delegated to VideoDB (GET /api/search?engine=videodb): the query
// goes to VideoDB for each of the owner's media that VideoDB has indexed
// (the spoken words after a videodb transcription, the scenes after a
// videodb scenes run; see videodb_media.h), and the hits come back in
// cutroom's search shape, newest media first, best score first.
// Thread-safety: stateless.
#pragma once

#include <string>
#include <vector>

#include "analysis/search/search.h"
#include "core/config.h"
#include "db/database.h"

namespace cutroom::analysis {

struct VideoDbSearchRequest {
  std::string query;
  std::string owner_id;
  std::string video_id;              // optional: only this media
  std::string type = "semantic";     // semantic | keyword
  std::string index = "spoken_word"; // spoken_word | scene
  int limit = 20;
};

// At most this many media are asked per search (the newest indexed ones).
inline constexpr int kVideoDbSearchMaxMedia = 50;

// InvalidArgument for an empty query or an unknown type or index;
// FailedPrecondition "videodb_not_configured: ..." without a key;
// FailedPrecondition "videodb_not_indexed: ..." when video_id is given and
// VideoDB has no such index of it; the client's errors (bad key, quota,
// unreachable) otherwise. Hits' source is "transcript" or "scene".
Result<std::vector<SearchHit>> SearchVideoDb(db::Database& db, const Config& config,
                                             const VideoDbSearchRequest& request);

}  // namespace cutroom::analysis
