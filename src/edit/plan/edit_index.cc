#include "edit/plan/edit_index.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "analysis/search/search.h"
#include "db/tables.h"

namespace cutroom::edit {
namespace {

constexpr int64_t kMaxFrames = 20000;
constexpr int64_t kMaxClips = 50;


size_t Alnum(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }));
}

Status LoadTranscript(db::Database& db, EditIndex& index) {
  CUTROOM_ASSIGN_OR_RETURN(auto runs, db.Query("SELECT transcription_id, engine FROM transcriptions WHERE video_id = ? "
                                               "AND status = 'succeeded' ORDER BY transcription_id DESC LIMIT 1",
                                               {index.video_id}));
  if (runs.empty()) return Status::Ok();
  index.transcription_id = runs.Text(0, "transcription_id").value_or("");
  index.transcript_engine = runs.Text(0, "engine").value_or("");
  CUTROOM_ASSIGN_OR_RETURN(auto segs, db.Query("SELECT segment_id, start_s, end_s, text FROM transcript_segments "
                                               "WHERE transcription_id = ? ORDER BY segment_no",
                                               {index.transcription_id}));
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < segs.size(); ++i) {
    IndexSegment s;
    s.id = segs.Text(i, "segment_id").value_or("");
    s.start_s = segs.Real(i, "start_s").value_or(0);
    s.end_s = segs.Real(i, "end_s").value_or(0);
    s.text = segs.Text(i, "text").value_or("");
    by_id[s.id] = index.segments.size();
    index.segments.push_back(std::move(s));
  }
  CUTROOM_ASSIGN_OR_RETURN(auto words, db.Query("SELECT word_id, segment_id, word, start_s, end_s, confidence FROM "
                                                "transcript_words WHERE transcription_id = ? ORDER BY word_no",
                                                {index.transcription_id}));
  for (size_t i = 0; i < words.size(); ++i) {
    auto it = by_id.find(words.Text(i, "segment_id").value_or(""));
    if (it == by_id.end()) continue;
    IndexWord w;
    w.id = words.Text(i, "word_id").value_or("");
    w.text = words.Text(i, "word").value_or("");
    w.start_s = words.Real(i, "start_s").value_or(0);
    w.end_s = std::max(w.start_s, words.Real(i, "end_s").value_or(0));
    w.confidence = words.Real(i, "confidence").value_or(0);
    w.segment = it->second;
    index.words.push_back(std::move(w));
  }
  // Engines write words in time order; keep that true whatever they did,
  // since every planner walks words by time.
  std::stable_sort(index.words.begin(), index.words.end(),
                   [](const IndexWord& a, const IndexWord& b) { return a.start_s < b.start_s; });
  for (auto& s : index.segments) s.word_count = 0;
  std::vector<bool> seen(index.segments.size(), false);
  for (size_t i = 0; i < index.words.size(); ++i) {
    IndexSegment& s = index.segments[index.words[i].segment];
    if (!seen[index.words[i].segment]) {
      seen[index.words[i].segment] = true;
      s.first_word = i;
    }
    ++s.word_count;
  }
  return Status::Ok();
}

Status LoadScenes(db::Database& db, EditIndex& index) {
  CUTROOM_ASSIGN_OR_RETURN(index.scenes_processing_id, db::NewestSucceededRun(db, index.video_id, "scenes"));
  if (index.scenes_processing_id.empty()) return Status::Ok();
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT scene_id, scene_no, start_s, end_s, description FROM scene_index "
                                               "WHERE processing_id = ? ORDER BY scene_no",
                                               {index.scenes_processing_id}));
  for (size_t i = 0; i < rows.size(); ++i) {
    IndexScene s;
    s.id = rows.Text(i, "scene_id").value_or("");
    s.scene_no = rows.Int(i, "scene_no").value_or(0);
    s.start_s = rows.Real(i, "start_s").value_or(0);
    s.end_s = rows.Real(i, "end_s").value_or(0);
    s.description = rows.Text(i, "description").value_or("");
    index.scenes.push_back(std::move(s));
  }
  return Status::Ok();
}

Status LoadFrames(db::Database& db, EditIndex& index) {
  CUTROOM_ASSIGN_OR_RETURN(index.frames_processing_id, db::NewestSucceededRun(db, index.video_id, "frames"));
  if (index.frames_processing_id.empty() || index.scenes.empty()) return Status::Ok();
  CUTROOM_ASSIGN_OR_RETURN(auto run, db.Query("SELECT params FROM video_processing WHERE processing_id = ?",
                                              {index.frames_processing_id}));
  auto params = nlohmann::json::parse(run.empty() ? "{}" : run.Text(0, "params").value_or("{}"), nullptr, false);
  const bool ocr = params.is_object() && params.value("ocr", false);
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT ts_s, features, ocr_text FROM frames WHERE processing_id = ? "
                                               "ORDER BY ts_s LIMIT ?",
                                               {index.frames_processing_id, kMaxFrames}));
  std::vector<int> motion_frames(index.scenes.size(), 0);
  size_t scene = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    double t = rows.Real(i, "ts_s").value_or(0);
    while (scene + 1 < index.scenes.size() && t >= index.scenes[scene].end_s) ++scene;
    IndexScene& s = index.scenes[scene];
    if (t < s.start_s - 0.05 || t > s.end_s + 0.05) continue;
    ++s.frames;
    s.ocr_measured = ocr;
    auto features = nlohmann::json::parse(rows.Text(i, "features").value_or("{}"), nullptr, false);
    if (features.is_object() && features.contains("faces") && features["faces"].is_object()) {
      s.faces_measured = true;
      if (features["faces"].value("count", 0) > 0) ++s.frames_with_faces;
    }
    if (features.is_object() && features.contains("motion") && features["motion"].is_number()) {
      s.mean_motion += features["motion"].get<double>();
      ++motion_frames[scene];
    }
    if (Alnum(rows.Text(i, "ocr_text").value_or("")) >= static_cast<size_t>(kTextFrameChars)) ++s.frames_with_text;
  }
  for (size_t k = 0; k < index.scenes.size(); ++k) {
    if (motion_frames[k] > 0) index.scenes[k].mean_motion /= motion_frames[k];
  }
  return Status::Ok();
}

Status LoadClips(db::Database& db, EditIndex& index) {
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT clip_id, start_s, end_s, score, title FROM clip_candidates "
                                               "WHERE video_id = ? AND status != 'rejected' ORDER BY score DESC LIMIT ?",
                                               {index.video_id, kMaxClips}));
  for (size_t i = 0; i < rows.size(); ++i) {
    index.clips.push_back({rows.Text(i, "clip_id").value_or(""), rows.Real(i, "start_s").value_or(0),
                           rows.Real(i, "end_s").value_or(0), rows.Real(i, "score").value_or(0),
                           rows.Text(i, "title").value_or("")});
  }
  return Status::Ok();
}

// Words FTS5's porter tokenizer would match but that say nothing about a
// topic ("the part about pricing" is about "pricing").
const std::set<std::string>& StopWords() {
  static const std::set<std::string> kWords = {
      "a",     "about", "an",    "and",   "any",  "are",   "as",    "at",    "be",    "bit",   "bits",  "by",
      "for",   "from",  "how",   "i",     "in",   "into",  "is",    "it",    "its",   "me",    "my",    "of",
      "on",    "or",    "our",   "part",  "parts", "section", "so",  "some",  "that",  "the",   "their", "them",
      "then",  "there", "these", "they",  "this", "those", "to",    "was",   "we",    "what",  "when",  "where",
      "which", "who",   "why",   "with",  "you",  "your",  "talk",  "talks", "talking", "discuss", "discussion",
      "mention", "mentions", "thing", "things", "stuff", "topic", "one", "ones", "all", "only", "just", "video"};
  return kWords;
}

}  // namespace

const IndexSegment* EditIndex::FindSegment(const std::string& id) const {
  for (const auto& s : segments) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

std::map<size_t, double> EditIndex::Relevance(const std::string& topic) const {
  auto it = topic_relevance.find(topic);
  if (it != topic_relevance.end()) return it->second;
  if (relevance_lookup && !topic.empty()) return relevance_lookup(topic);
  return {};
}

const IndexWord* EditIndex::FindWord(const std::string& id) const {
  for (const auto& w : words) {
    if (w.id == id) return &w;
  }
  return nullptr;
}

Result<EditIndex> LoadEditIndex(db::Database& db, Env* env, IdGenerator* ids, const db::MediaRow& media,
                                const EditIndexOptions& options) {
  (void)env;
  (void)ids;
  EditIndex index;
  index.video_id = media.video_id;
  index.duration_s = media.duration_s.value_or(0);
  index.fps = media.fps.value_or(0);
  index.has_video = media.video_codec.has_value() && media.media_type.value_or("video") == "video";
  index.has_audio = media.audio_codec.has_value();
  CUTROOM_RETURN_IF_ERROR(LoadTranscript(db, index));
  CUTROOM_RETURN_IF_ERROR(LoadScenes(db, index));
  CUTROOM_RETURN_IF_ERROR(LoadFrames(db, index));
  CUTROOM_RETURN_IF_ERROR(LoadClips(db, index));
  if (options.loudness && index.has_audio) {
    auto curve = analysis::MeasureLoudness(options.media_path, kLoudnessStep_s, options.cancelled);
    if (curve.ok()) {
      index.loudness = std::move(*curve);
    } else if (!curve.status().IsNotFound()) {
      return curve.status();
    }
  }
  return index;
}

std::string TopicQuery(const std::string& topic) {
  std::vector<std::string> terms;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && !StopWords().count(word) &&
        std::find(terms.begin(), terms.end(), word) == terms.end()) {
      terms.push_back(word);
    }
    word.clear();
  };
  for (char c : topic) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) {
      word += static_cast<char>(std::tolower(u));
    } else {
      flush();
    }
  }
  flush();
  std::string q;
  for (const auto& t : terms) q += (q.empty() ? "" : " OR ") + ("\"" + t + "\"");
  return q;
}

Status AddTopicRelevance(db::Database& db, const std::string& owner_id, const std::string& topic, EditIndex& index) {
  auto& relevance = index.topic_relevance[topic];
  std::string query = TopicQuery(topic);
  if (query.empty() || index.segments.empty()) return Status::Ok();
  analysis::SearchRequest req;
  req.query = query;
  req.owner_id = owner_id;
  req.video_id = index.video_id;
  req.limit = 1000;
  CUTROOM_ASSIGN_OR_RETURN(auto hits, analysis::Search(db, req));
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < index.segments.size(); ++i) by_id[index.segments[i].id] = i;
  for (const auto& h : hits) {
    if (h.source != "transcript") continue;
    auto it = by_id.find(h.ref_id);
    if (it != by_id.end()) relevance[it->second] = std::max(relevance[it->second], std::max(h.score, 1e-6));
  }
  return Status::Ok();
}

}  // namespace cutroom::edit
