#include "analysis/transcribe/transcript_store.h"

#include <map>

#include "db/tables.h"

namespace cutroom::analysis {

Result<db::TranscriptionRow> StoreTranscript(db::Database& db, Env* env, IdGenerator* ids,
                                             const std::string& video_id, const std::string& processing_id,
                                             const Transcript& transcript) {
  db::TranscriptionRow stored;
  Status st = db.Transaction([&](db::DbSession& tx) -> Status {
    db::Repositories repos(tx, env, ids);
    if (!processing_id.empty()) {
      // Segments and words go with their transcription (ON DELETE CASCADE).
      CUTROOM_RETURN_IF_ERROR(
          tx.Execute("DELETE FROM transcriptions WHERE processing_id = ?", {processing_id}).status());
    }
    db::TranscriptionRow row;
    row.video_id = video_id;
    if (!processing_id.empty()) row.processing_id = processing_id;
    row.engine = transcript.engine;
    row.model = transcript.model;
    row.language = transcript.language;
    row.text = transcript.Text();
    row.status = "succeeded";
    if (!transcript.note.empty()) row.note = transcript.note;
    CUTROOM_ASSIGN_OR_RETURN(stored, repos.transcriptions.Insert(row));
    int64_t word_no = 0;
    for (size_t i = 0; i < transcript.segments.size(); ++i) {
      const auto& s = transcript.segments[i];
      db::TranscriptSegmentRow seg;
      seg.video_id = video_id;
      seg.transcription_id = stored.transcription_id;
      seg.segment_no = static_cast<int64_t>(i);
      seg.start_s = s.start_s;
      seg.end_s = s.end_s;
      seg.text = s.text;
      seg.confidence = s.confidence;
      CUTROOM_ASSIGN_OR_RETURN(seg, repos.transcript_segments.Insert(seg));
      for (const auto& w : s.words) {
        db::TranscriptWordRow word;
        word.video_id = video_id;
        word.transcription_id = stored.transcription_id;
        word.segment_id = seg.segment_id;
        word.word_no = word_no++;
        word.word = w.word;
        word.start_s = w.start_s;
        word.end_s = w.end_s;
        word.confidence = w.confidence;
        CUTROOM_RETURN_IF_ERROR(repos.transcript_words.Insert(word).status());
      }
    }
    return Status::Ok();
  });
  CUTROOM_RETURN_IF_ERROR(st);
  return stored;
}

Result<StoredTranscript> LoadTranscript(db::Database& db, Env* env, IdGenerator* ids, const std::string& video_id,
                                        const std::string& processing_id) {
  db::Repositories repos(db, env, ids);
  db::ListQuery q{.limit = 1, .newest_first = true};
  q.where = {{"video_id", video_id}, {"status", std::string("succeeded")}};
  if (!processing_id.empty()) q.where.push_back({"processing_id", processing_id});
  CUTROOM_ASSIGN_OR_RETURN(auto page, repos.transcriptions.List(q));
  if (page.items.empty()) {
    return Status::NotFound("video " + video_id + " has no transcription" +
                            (processing_id.empty() ? "" : " from processing run " + processing_id));
  }
  StoredTranscript out;
  out.row = page.items[0];
  out.transcript.engine = out.row.engine;
  out.transcript.model = out.row.model.value_or("");
  out.transcript.language = out.row.language.value_or("");
  out.transcript.note = out.row.note.value_or("");
  const std::string& tid = out.row.transcription_id;
  CUTROOM_ASSIGN_OR_RETURN(auto segs, db.Query("SELECT segment_id, start_s, end_s, text, confidence FROM "
                                               "transcript_segments WHERE transcription_id = ? ORDER BY segment_no",
                                               {tid}));
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < segs.size(); ++i) {
    TranscriptSegment s;
    s.start_s = segs.Real(i, "start_s").value_or(0);
    s.end_s = segs.Real(i, "end_s").value_or(0);
    s.text = segs.Text(i, "text").value_or("");
    s.confidence = segs.Real(i, "confidence").value_or(0);
    index[*segs.Text(i, "segment_id")] = out.transcript.segments.size();
    out.transcript.segments.push_back(std::move(s));
  }
  CUTROOM_ASSIGN_OR_RETURN(auto words, db.Query("SELECT segment_id, word, start_s, end_s, confidence FROM "
                                                "transcript_words WHERE transcription_id = ? ORDER BY word_no",
                                                {tid}));
  for (size_t i = 0; i < words.size(); ++i) {
    auto it = index.find(words.Text(i, "segment_id").value_or(""));
    if (it == index.end()) continue;
    out.transcript.segments[it->second].words.push_back({words.Text(i, "word").value_or(""),
                                                         words.Real(i, "start_s").value_or(0),
                                                         words.Real(i, "end_s").value_or(0),
                                                         words.Real(i, "confidence").value_or(0)});
  }
  return out;
}

}  // namespace cutroom::analysis
