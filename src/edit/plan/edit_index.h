// EditIndex: what edit planners know about one video, read once from the
// stored index (transcript with word and segment ids, scenes with what
// their frames show, clip candidates, a fine loudness curve) so that every
// planner is a pure function of it and tests can build one by hand.
//
// LoadEditIndex reads the newest succeeded run of each analysis; parts
// that were never run are left empty and planners that need them say so.
// Thread-safety: EditIndex is a value; LoadEditIndex is reentrant.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "analysis/clips/loudness.h"
#include "core/ids.h"
#include "db/database.h"
#include "db/rows.h"

namespace cutroom::edit {

struct IndexWord {
  std::string id;
  std::string text;
  double start_s = 0;
  double end_s = 0;
  double confidence = 0;
  size_t segment = 0;  // index into EditIndex::segments
};

struct IndexSegment {
  std::string id;
  double start_s = 0;
  double end_s = 0;
  std::string text;
  size_t first_word = 0;  // into EditIndex::words
  size_t word_count = 0;
};

// What a scene's sampled frames show (counts of frames of the frames
// stage that fall inside the scene).
struct IndexScene {
  std::string id;
  int64_t scene_no = 0;
  double start_s = 0;
  double end_s = 0;
  std::string description;
  int frames = 0;             // sampled frames inside the scene
  int frames_with_faces = 0;
  int frames_with_text = 0;   // OCR read at least kTextFrameChars letters or digits
  double mean_motion = 0;     // of the frames that have a motion figure
  bool ocr_measured = false;  // the frames run had OCR on
  bool faces_measured = false;
};

struct IndexClip {
  std::string id;
  double start_s = 0;
  double end_s = 0;
  double score = 0;
  std::string title;
};

inline constexpr int kTextFrameChars = 12;

struct EditIndex {
  std::string video_id;
  double duration_s = 0;
  double fps = 0;
  bool has_video = false;
  bool has_audio = false;

  std::string transcription_id;  // empty: no transcript
  std::string transcript_engine;
  std::vector<IndexWord> words;  // in time order
  std::vector<IndexSegment> segments;

  std::string scenes_processing_id;  // empty: no scene detection
  std::vector<IndexScene> scenes;
  std::string frames_processing_id;  // empty: no frames run

  std::vector<IndexClip> clips;  // best first

  // Step kLoudnessStep_s; empty when not measured or the media has no audio.
  analysis::LoudnessCurve loudness;

  // Topic relevance of segments (by index), from the full-text index;
  // filled by the caller for the topics a plan asks about.
  std::map<std::string, std::map<size_t, double>> topic_relevance;
  // Asked for topics not in topic_relevance (a model may name any topic);
  // unset: such topics match nothing.
  std::function<std::map<size_t, double>(const std::string& topic)> relevance_lookup;

  // The relevance of segments to a topic, from either source.
  std::map<size_t, double> Relevance(const std::string& topic) const;

  const IndexSegment* FindSegment(const std::string& id) const;
  const IndexWord* FindWord(const std::string& id) const;
  size_t WordIndex(const IndexWord* w) const { return static_cast<size_t>(w - words.data()); }
};

inline constexpr double kLoudnessStep_s = 0.02;

struct EditIndexOptions {
  bool loudness = false;  // stream the audio for the loudness curve (silence removal)
  std::string media_path; // needed when loudness is asked for
  std::function<bool()> cancelled;
};

// NotFound when the media row does not exist; loudness errors other than
// "no audio" come back as they are.
Result<EditIndex> LoadEditIndex(db::Database& db, Env* env, IdGenerator* ids, const db::MediaRow& media,
                                const EditIndexOptions& options);

// Fills index.topic_relevance[topic] from the full-text index (FTS5 over
// the video's transcript segments): every segment that matches any of the
// topic's content words, with its bm25-based score (higher is better).
// Topics made only of stop words match nothing.
Status AddTopicRelevance(db::Database& db, const std::string& owner_id, const std::string& topic, EditIndex& index);

// The topic's content words joined as an FTS5 OR query ("pricing OR plans"),
// or empty when it has none. Exposed for tests.
std::string TopicQuery(const std::string& topic);

}  // namespace cutroom::edit
