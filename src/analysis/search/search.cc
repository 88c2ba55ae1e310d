#include "analysis/search/search.h"

#include <algorithm>
#include <cctype>

#include "analysis/transcribe/transcript_store.h"

namespace cutroom::analysis {
namespace {

// Searches run only over the newest succeeded transcription of each video.
constexpr const char* kLatestTranscription =
    "s.transcription_id = (SELECT t.transcription_id FROM transcriptions t WHERE t.video_id = s.video_id AND "
    "t.status = 'succeeded' ORDER BY t.transcription_id DESC LIMIT 1)";

// The query text is the user's: SQLite's complaints about it (unbalanced
// quotes, bad operators) are bad input, not server errors.
Status QueryError(const Status& st) {
  if (st.code() == StatusCode::kInternal || st.code() == StatusCode::kInvalidArgument) {
    std::string msg = st.message();
    auto colon = msg.rfind(": ");
    return Status::InvalidArgument("invalid search query (" + (colon == std::string::npos ? msg : msg.substr(colon + 2)) +
                                   "); use words, \"phrases\", prefix* and AND/OR/NOT");
  }
  return st;
}

void Collect(const db::DbRows& rows, const std::string& source, std::vector<SearchHit>& out) {
  for (size_t i = 0; i < rows.size(); ++i) {
    SearchHit h;
    h.video_id = rows.Text(i, "video_id").value_or("");
    h.source = source;
    h.ref_id = rows.Text(i, "ref_id").value_or("");
    h.start_s = rows.Real(i, "start_s").value_or(0);
    h.end_s = rows.Real(i, "end_s").value_or(h.start_s);
    h.text = rows.Text(i, "text").value_or("");
    h.snippet = rows.Text(i, "snip").value_or("");
    h.score = -rows.Real(i, "rank").value_or(0);
    out.push_back(std::move(h));
  }
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// SQLite: FTS5 tables, bm25 ranks (lower is better) and snippet().
template <typename Params>
Status SearchSqlite(db::Database& db, const SearchRequest& r, const std::string& video_filter, const Params& params,
                    std::vector<SearchHit>& hits) {
  auto transcripts = db.Query(
      "SELECT s.video_id, s.segment_id AS ref_id, s.start_s, s.end_s, s.text, "
      "snippet(transcript_segments_fts, 0, '[', ']', '…', 16) AS snip, bm25(transcript_segments_fts) AS rank "
      "FROM transcript_segments_fts JOIN transcript_segments s ON s.rowid = transcript_segments_fts.rowid "
      "JOIN media m ON m.video_id = s.video_id "
      "WHERE transcript_segments_fts MATCH ? AND m.owner_id = ?" + video_filter + " AND " + kLatestTranscription +
          " ORDER BY rank LIMIT ?",
      params({r.query}));
  if (!transcripts.ok()) return QueryError(transcripts.status());
  Collect(*transcripts, "transcript", hits);

  auto scenes = db.Query(
      "SELECT s.video_id, s.scene_id AS ref_id, s.start_s, s.end_s, s.description AS text, "
      "snippet(scene_index_fts, 0, '[', ']', '…', 16) AS snip, bm25(scene_index_fts) AS rank "
      "FROM scene_index_fts JOIN scene_index s ON s.rowid = scene_index_fts.rowid "
      "JOIN media m ON m.video_id = s.video_id "
      "WHERE scene_index_fts MATCH ? AND m.owner_id = ?" + video_filter + " ORDER BY rank LIMIT ?",
      params({r.query}));
  if (!scenes.ok()) return QueryError(scenes.status());
  Collect(*scenes, "scene", hits);

  // Frames: OCR text and descriptions are separate sources.
  for (const auto& [column, source] : {std::pair<std::string, std::string>{"ocr_text", "ocr"}, {"description", "frame"}}) {
    int col = column == "ocr_text" ? 0 : 1;
    auto frames = db.Query(
        "SELECT f.video_id, f.frame_id AS ref_id, f.ts_s AS start_s, f.ts_s AS end_s, f." + column + " AS text, "
        "snippet(frames_fts, " + std::to_string(col) + ", '[', ']', '…', 16) AS snip, bm25(frames_fts) AS rank "
        "FROM frames_fts JOIN frames f ON f.rowid = frames_fts.rowid JOIN media m ON m.video_id = f.video_id "
        "WHERE frames_fts MATCH ? AND m.owner_id = ?" + video_filter + " ORDER BY rank LIMIT ?",
        params({"{" + column + "} : (" + r.query + ")"}));
    if (!frames.ok()) return QueryError(frames.status());
    Collect(*frames, source, hits);
  }

  return Status::Ok();
}

// The FTS5 query language the API documents (words, "phrases", prefix*,
// AND/OR/NOT, implicit AND) as a PostgreSQL tsquery expression built from
// functions over parameters, so the user's text is never SQL or tsquery
// syntax: a word is plainto_tsquery(?), a phrase phraseto_tsquery(?), a
// prefix to_tsquery(? || ':*') with the prefix cut to letters and digits.
// websearch_to_tsquery alone would drop prefix* and accept an unclosed
// quote that FTS5 refuses; this keeps both backends answering alike.
Result<std::string> PostgresTsQuery(const std::string& query, std::vector<db::DbValue>& params) {
  std::string expr;
  std::string pending_op = "";  // "&&" or "||" before the next operand
  bool negate = false;
  auto add = [&](std::string operand) {
    if (negate) operand = "!!" + operand;
    negate = false;
    if (!expr.empty()) expr += pending_op.empty() ? " && " : " " + pending_op + " ";
    expr += operand;
    pending_op.clear();
  };
  size_t i = 0;
  while (i < query.size()) {
    char c = query[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '"') {
      size_t end = query.find('"', i + 1);
      if (end == std::string::npos) return Status::InvalidArgument("unterminated string");
      params.push_back(query.substr(i + 1, end - i - 1));
      add("phraseto_tsquery('english', ?)");
      i = end + 1;
    } else if (c == '(' || c == ')') {
      return Status::InvalidArgument("parentheses are not supported in this search");
    } else {
      size_t end = i;
      while (end < query.size() && !std::isspace(static_cast<unsigned char>(query[end])) && query[end] != '"') ++end;
      std::string word = query.substr(i, end - i);
      i = end;
      if (word == "AND") {
        pending_op = "&&";
      } else if (word == "OR") {
        pending_op = "||";
      } else if (word == "NOT") {
        if (expr.empty()) return Status::InvalidArgument("NOT needs a term before it");
        pending_op = "&&";
        negate = true;
      } else if (word.size() > 1 && word.back() == '*') {
        std::string prefix;
        for (char ch : word.substr(0, word.size() - 1)) {
          if (std::isalnum(static_cast<unsigned char>(ch))) prefix += static_cast<char>(std::tolower(ch));
        }
        if (prefix.empty()) return Status::InvalidArgument("a prefix* needs letters or digits");
        params.push_back(prefix + ":*");
        add("to_tsquery('english', ?)");
      } else {
        params.push_back(word);
        add("plainto_tsquery('english', ?)");
      }
    }
  }
  if (expr.empty()) return Status::InvalidArgument("the search query has no terms");
  return "(" + expr + ")";
}

// PostgreSQL: the rows' stored tsvectors against the query above, ranked
// by ts_rank_cd (higher is better; negated into the same "rank" column),
// ts_headline for the snippet (stop words such as "your" are not
// highlighted: "your [country]").
template <typename Params>
Status SearchPostgres(db::Database& db, const SearchRequest& r, const std::string& video_filter, const Params& params,
                      std::vector<SearchHit>& hits) {
  std::vector<db::DbValue> query_params;
  auto tsquery = PostgresTsQuery(r.query, query_params);
  if (!tsquery.ok()) return QueryError(Status::InvalidArgument("search query: " + tsquery.status().message()));
  const std::string q_from = "CROSS JOIN (SELECT " + *tsquery + " AS q) AS query ";
  const std::string headline = "'StartSel=[, StopSel=], MaxWords=16, MinWords=5, MaxFragments=1, FragmentDelimiter=…'";
  auto transcripts = db.Query(
      "SELECT s.video_id, s.segment_id AS ref_id, s.start_s, s.end_s, s.text, "
      "ts_headline('english', s.text, q, " + headline + ") AS snip, -ts_rank_cd(s.text_tsv, q) AS rank "
      "FROM transcript_segments s " + q_from +
      "JOIN media m ON m.video_id = s.video_id "
      "WHERE s.text_tsv @@ q AND m.owner_id = ?" + video_filter + " AND " + kLatestTranscription +
          " ORDER BY rank LIMIT ?",
      params(query_params));
  if (!transcripts.ok()) return QueryError(transcripts.status());
  Collect(*transcripts, "transcript", hits);

  auto scenes = db.Query(
      "SELECT s.video_id, s.scene_id AS ref_id, s.start_s, s.end_s, s.description AS text, "
      "ts_headline('english', s.description, q, " + headline + ") AS snip, -ts_rank_cd(s.description_tsv, q) AS rank "
      "FROM scene_index s " + q_from +
      "JOIN media m ON m.video_id = s.video_id "
      "WHERE s.description_tsv @@ q AND m.owner_id = ?" + video_filter + " ORDER BY rank LIMIT ?",
      params(query_params));
  if (!scenes.ok()) return QueryError(scenes.status());
  Collect(*scenes, "scene", hits);

  for (const auto& [column, source] : {std::pair<std::string, std::string>{"ocr_text", "ocr"}, {"description", "frame"}}) {
    auto frames = db.Query(
        "SELECT f.video_id, f.frame_id AS ref_id, f.ts_s AS start_s, f.ts_s AS end_s, f." + column + " AS text, "
        "ts_headline('english', f." + column + ", q, " + headline + ") AS snip, -ts_rank_cd(f." + column +
        "_tsv, q) AS rank FROM frames f " + q_from +
        "JOIN media m ON m.video_id = f.video_id "
        "WHERE f." + column + "_tsv @@ q AND m.owner_id = ?" + video_filter + " ORDER BY rank LIMIT ?",
        params(query_params));
    if (!frames.ok()) return QueryError(frames.status());
    Collect(*frames, source, hits);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<SearchHit>> Search(db::Database& db, const SearchRequest& r) {
  if (r.query.find_first_not_of(" \t\n") == std::string::npos) {
    return Status::InvalidArgument("the search query is empty");
  }
  if (r.query.size() > 1000) return Status::InvalidArgument("the search query is longer than 1000 characters");
  std::string video_filter = r.video_id.empty() ? "" : " AND m.video_id = ?";
  auto params = [&](std::vector<db::DbValue> p) {
    p.push_back(r.owner_id);
    if (!r.video_id.empty()) p.push_back(r.video_id);
    p.push_back(int64_t{r.limit});
    return p;
  };
  std::vector<SearchHit> hits;

  if (db.dialect() == db::Dialect::kPostgres) {
    CUTROOM_RETURN_IF_ERROR(SearchPostgres(db, r, video_filter, params, hits));
  } else {
    CUTROOM_RETURN_IF_ERROR(SearchSqlite(db, r, video_filter, params, hits));
  }

  std::stable_sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) { return a.score > b.score; });
  if (hits.size() > static_cast<size_t>(r.limit)) hits.resize(static_cast<size_t>(r.limit));
  return hits;
}

Result<std::vector<WordHit>> SearchWords(db::Database& db, Env* env, IdGenerator* ids, const std::string& video_id,
                                         const std::string& query) {
  std::vector<std::string> terms;
  std::string term;
  for (char c : query + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '\'' || c == '*') {
      term += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!term.empty()) {
      terms.push_back(term);
      term.clear();
    }
  }
  if (terms.empty()) return Status::InvalidArgument("the search query has no words");
  if (terms.size() > 20) return Status::InvalidArgument("the search query has more than 20 words");
  CUTROOM_ASSIGN_OR_RETURN(auto stored, LoadTranscript(db, env, ids, video_id));
  std::vector<TranscriptWord> words;
  for (const auto& s : stored.transcript.segments) words.insert(words.end(), s.words.begin(), s.words.end());
  auto matches = [](const std::string& t, const std::string& w) {
    std::string lw = Lower(w);
    if (!t.empty() && t.back() == '*') return lw.rfind(t.substr(0, t.size() - 1), 0) == 0;
    // Engines that punctuate attach it to words ("country."): ignore it.
    while (!lw.empty() && std::ispunct(static_cast<unsigned char>(lw.back())) && lw.back() != '\'') lw.pop_back();
    return lw == t;
  };
  std::vector<WordHit> hits;
  for (size_t i = 0; i + terms.size() <= words.size(); ++i) {
    bool all = true;
    for (size_t k = 0; k < terms.size() && all; ++k) all = matches(terms[k], words[i + k].word);
    if (!all) continue;
    WordHit h;
    h.start_s = words[i].start_s;
    h.end_s = words[i + terms.size() - 1].end_s;
    double conf = 0;
    for (size_t k = 0; k < terms.size(); ++k) {
      if (k) h.text += ' ';
      h.text += words[i + k].word;
      conf += words[i + k].confidence;
    }
    h.confidence = conf / static_cast<double>(terms.size());
    hits.push_back(std::move(h));
  }
  return hits;
}

}  // namespace cutroom::analysis
