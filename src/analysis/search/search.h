// Full-text search over what cutroom knows about its media: transcript
// segments, scene descriptions and frame text (OCR and descriptions), with
// the database's own index (SQLite FTS5, ranked by bm25). Queries use FTS5
// syntax: words, "quoted phrases", prefix*, AND/OR/NOT.
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <vector>

#include "core/ids.h"
#include "db/database.h"

namespace cutroom::analysis {

struct SearchHit {
  std::string video_id;
  std::string source;  // transcript, scene, ocr, frame
  std::string ref_id;  // segment, scene or frame id
  double start_s = 0;
  double end_s = 0;
  std::string text;
  std::string snippet;  // the match in context, matched terms in [brackets]
  double score = 0;     // higher is better
};

struct SearchRequest {
  std::string query;
  std::string owner_id;
  std::string video_id;  // optional
  int limit = 20;
};

// InvalidArgument for an empty or malformed query.
Result<std::vector<SearchHit>> Search(db::Database& db, const SearchRequest& request);

struct WordHit {
  double start_s = 0;
  double end_s = 0;
  std::string text;  // the matched words as spoken
  double confidence = 0;
};

// Every place in the newest transcript of video_id where the words of
// query occur in sequence (case-insensitive; a trailing * matches a
// prefix). NotFound when the video has no transcript.
Result<std::vector<WordHit>> SearchWords(db::Database& db, Env* env, IdGenerator* ids, const std::string& video_id,
                                         const std::string& query);

}  // namespace cutroom::analysis
