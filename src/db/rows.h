// Plain structs, one per table of the unified data model (DESIGN.md).
//
// Fields mirror columns one to one. Optional columns are std::optional;
// JSON columns are nlohmann::json; timestamps are RFC 3339 UTC strings (see
// core/env.h FormatTimestamp), which is also how the API returns them.
// Repositories (repositories.h) fill id, created_at and updated_at.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace cutroom::db {

using Json = nlohmann::json;
using OptString = std::optional<std::string>;
using OptInt = std::optional<int64_t>;
using OptReal = std::optional<double>;

// The text stored in a JSON column or sent as an event. Bytes that are not
// UTF-8 (a filename, a header, a model's reply) become U+FFFD: dump() would
// throw instead, and one odd byte would fail the whole request or job.
inline std::string JsonText(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

// The owner that requests belong to in local mode (no API keys).
inline constexpr const char* kLocalOwnerId = "own_00000000000000000000000000";

struct Timestamps {
  std::string created_at;
  std::string updated_at;
};

struct OwnerRow : Timestamps {
  std::string owner_id;
  std::string name;
};

struct ApiKeyRow : Timestamps {
  std::string key_id;
  std::string owner_id;
  std::string name;
  std::string key_hash;    // hex sha256 of the key; the key itself is never stored
  std::string key_prefix;  // first characters, to tell keys apart in listings
  Json scopes = Json::array({"*"});
  OptString last_used_at;
  OptString revoked_at;
};

struct MediaRow : Timestamps {
  std::string video_id;
  std::string owner_id;
  OptString media_type;   // video, audio, image (unknown until probed)
  std::string source_type = "upload";  // upload, url, reference
  OptString source_url;
  OptString storage_key;
  OptString original_filename;
  OptString title;
  OptString mime_type;
  OptString container;
  OptInt size_bytes;
  OptString sha256;
  OptReal duration_s;
  OptInt width;
  OptInt height;
  OptReal fps;
  OptString video_codec;
  OptString audio_codec;
  OptInt rotation;
  OptInt bitrate;
  std::string status = "pending";
  OptString error;
  Json metadata = Json::object();
};

struct VideoAssetRow : Timestamps {
  std::string asset_id;
  std::string video_id;
  std::string kind;
  std::string storage_key;
  OptString mime_type;
  OptInt size_bytes;
  OptInt width;
  OptInt height;
  OptReal duration_s;
  Json metadata = Json::object();
};

struct UploadRow : Timestamps {
  std::string upload_id;
  std::string owner_id;
  OptString video_id;
  OptInt length;  // unset while the length is deferred
  int64_t offset = 0;
  Json metadata = Json::object();
  std::string storage_key;
  std::string status = "active";
  OptString checksum;
  OptString expires_at;
};

struct UploadChunkRow : Timestamps {
  std::string chunk_id;
  std::string upload_id;
  OptString video_id;
  int64_t offset = 0;
  int64_t size = 0;
  OptString checksum;
  std::string received_at;
};

struct JobRow : Timestamps {
  std::string job_id;
  OptString video_id;
  OptString owner_id;
  std::string kind;
  Json params = Json::object();
  std::string status = "queued";
  int64_t priority = 0;
  int64_t attempts = 0;
  int64_t max_attempts = 3;
  std::string run_after;
  OptString locked_by;
  OptString locked_until;
  double progress = 0;
  Json result;  // null until finished
  OptString error;
  OptString processing_id;
  bool cancel_requested = false;
  OptString started_at;
  OptString finished_at;
  Json depends_on = Json::array();  // job ids that must succeed first
};

struct ProcessingLogRow : Timestamps {
  std::string log_id;
  OptString video_id;
  OptString job_id;
  std::string stage;
  std::string level = "info";
  std::string message;
  Json data = Json::object();
  std::string ts;
};

struct VideoProcessingRow : Timestamps {
  std::string processing_id;
  std::string video_id;
  std::string kind;
  Json params = Json::object();
  std::string status = "queued";
  double progress = 0;
  OptString engine;
  OptString job_id;
  OptString started_at;
  OptString finished_at;
  OptString error;
  Json result = Json::object();
};

struct FrameRow : Timestamps {
  std::string frame_id;
  std::string video_id;
  std::string processing_id;
  double ts_s = 0;
  OptString asset_id;
  OptInt width;
  OptInt height;
  OptString phash;
  Json features = Json::object();
  OptString ocr_text;
  OptString description;
  OptString description_model;
};

struct SceneRow : Timestamps {
  std::string scene_id;
  std::string video_id;
  std::string processing_id;
  int64_t scene_no = 0;
  double start_s = 0;
  double end_s = 0;
  OptInt start_frame;
  OptInt end_frame;
  std::string transition = "cut";
  OptString keyframe_id;
  OptReal score;
  OptString description;
  OptString description_model;
};

struct TranscriptionRow : Timestamps {
  std::string transcription_id;
  std::string video_id;
  OptString processing_id;
  std::string engine;
  OptString model;
  OptString language;
  std::string text;
  std::string status = "queued";
  OptString note;
  OptString error;
};

struct TranscriptSegmentRow : Timestamps {
  std::string segment_id;
  std::string video_id;
  std::string transcription_id;
  int64_t segment_no = 0;
  double start_s = 0;
  double end_s = 0;
  std::string text;
  OptString speaker;
  OptReal confidence;
};

struct TranscriptWordRow : Timestamps {
  std::string word_id;
  std::string video_id;
  std::string transcription_id;
  OptString segment_id;
  int64_t word_no = 0;
  std::string word;
  double start_s = 0;
  double end_s = 0;
  OptReal confidence;
};

struct ClipCandidateRow : Timestamps {
  std::string clip_id;
  std::string video_id;
  OptString processing_id;
  double start_s = 0;
  double end_s = 0;
  double score = 0;
  OptString title;
  OptString hook;
  OptString reason;
  OptString transcript_excerpt;
  Json features = Json::object();
  std::string status = "proposed";
};

struct EditJobRow : Timestamps {
  std::string edit_job_id;
  std::string video_id;
  std::string owner_id;
  OptString clip_candidate_id;
  Json spec = Json::object();
  std::string status = "queued";
  OptString job_id;
  OptString output_asset_id;
  OptString error;
};

struct RetentionAnalysisRow : Timestamps {
  std::string retention_id;
  std::string video_id;
  OptString processing_id;
  std::string source = "predicted";
  Json curve = Json::array();
  Json drop_points = Json::array();
  OptString summary;   // JSON text
  OptString owner_id;
  std::string scope = "video";  // video | clip
  OptString clip_id;
  OptReal duration_s;
  Json model = Json::object();  // {"version", "weights", ...} for predictions
  OptString format;    // imports: youtube_analytics | studio_csv | points
  OptString raw_key;   // imports: the upload as received, in the blob store
};

struct AiEditJobRow : Timestamps {
  std::string ai_edit_job_id;
  std::string video_id;  // no foreign key: survives media deletion
  std::string owner_id;
  std::string instruction;
  Json plan;  // null until planned
  OptString model;
  std::string status = "queued";
  OptString edit_job_id;  // the first output's edit job (edit_job_ids has all)
  OptString error;
  OptString job_id;       // the "ai_edit" job that plans (and queues the renders)
  Json request = Json::object();  // the options of the request: outputs, render, aspect, captions
  OptString planner;      // "rules" or the model's name
  Json edit_job_ids = Json::array();
  Json warnings = Json::array();
};

}  // namespace cutroom::db
