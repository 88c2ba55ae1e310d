// Column lists of every table, in the order of rows.h; keep them in step with
// the struct and the migrations (the repository tests round-trip every column).
#include "db/tables.h"

namespace cutroom::db {

const TableSpec<OwnerRow>& OwnersTable() {
  static const TableSpec<OwnerRow> kSpec = [] {
    TableSpec<OwnerRow> s{"owners", std::string(kOwnerIdPrefix), &OwnerRow::owner_id, {}};
    s.columns = {
        Col("owner_id", &OwnerRow::owner_id),
        Col("name", &OwnerRow::name),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<ApiKeyRow>& ApiKeysTable() {
  static const TableSpec<ApiKeyRow> kSpec = [] {
    TableSpec<ApiKeyRow> s{"api_keys", std::string(kApiKeyIdPrefix), &ApiKeyRow::key_id, {}};
    s.columns = {
        Col("key_id", &ApiKeyRow::key_id),
        Col("owner_id", &ApiKeyRow::owner_id),
        Col("name", &ApiKeyRow::name),
        Col("key_hash", &ApiKeyRow::key_hash),
        Col("key_prefix", &ApiKeyRow::key_prefix),
        Col("scopes", &ApiKeyRow::scopes),
        Col("last_used_at", &ApiKeyRow::last_used_at),
        Col("revoked_at", &ApiKeyRow::revoked_at),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<MediaRow>& MediaTable() {
  static const TableSpec<MediaRow> kSpec = [] {
    TableSpec<MediaRow> s{"media", std::string(kVideoIdPrefix), &MediaRow::video_id, {}};
    s.columns = {
        Col("video_id", &MediaRow::video_id),
        Col("owner_id", &MediaRow::owner_id),
        Col("media_type", &MediaRow::media_type),
        Col("source_type", &MediaRow::source_type),
        Col("source_url", &MediaRow::source_url),
        Col("storage_key", &MediaRow::storage_key),
        Col("original_filename", &MediaRow::original_filename),
        Col("title", &MediaRow::title),
        Col("mime_type", &MediaRow::mime_type),
        Col("container", &MediaRow::container),
        Col("size_bytes", &MediaRow::size_bytes),
        Col("sha256", &MediaRow::sha256),
        Col("duration_s", &MediaRow::duration_s),
        Col("width", &MediaRow::width),
        Col("height", &MediaRow::height),
        Col("fps", &MediaRow::fps),
        Col("video_codec", &MediaRow::video_codec),
        Col("audio_codec", &MediaRow::audio_codec),
        Col("rotation", &MediaRow::rotation),
        Col("bitrate", &MediaRow::bitrate),
        Col("status", &MediaRow::status),
        Col("error", &MediaRow::error),
        Col("metadata", &MediaRow::metadata),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<VideoAssetRow>& VideoAssetsTable() {
  static const TableSpec<VideoAssetRow> kSpec = [] {
    TableSpec<VideoAssetRow> s{"video_assets", std::string(kAssetIdPrefix), &VideoAssetRow::asset_id, {}};
    s.columns = {
        Col("asset_id", &VideoAssetRow::asset_id),
        Col("video_id", &VideoAssetRow::video_id),
        Col("kind", &VideoAssetRow::kind),
        Col("storage_key", &VideoAssetRow::storage_key),
        Col("mime_type", &VideoAssetRow::mime_type),
        Col("size_bytes", &VideoAssetRow::size_bytes),
        Col("width", &VideoAssetRow::width),
        Col("height", &VideoAssetRow::height),
        Col("duration_s", &VideoAssetRow::duration_s),
        Col("metadata", &VideoAssetRow::metadata),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<UploadRow>& UploadsTable() {
  static const TableSpec<UploadRow> kSpec = [] {
    TableSpec<UploadRow> s{"uploads", std::string(kUploadIdPrefix), &UploadRow::upload_id, {}};
    s.columns = {
        Col("upload_id", &UploadRow::upload_id),
        Col("owner_id", &UploadRow::owner_id),
        Col("video_id", &UploadRow::video_id),
        Col("length", &UploadRow::length),
        Col("offset", &UploadRow::offset),
        Col("metadata", &UploadRow::metadata),
        Col("storage_key", &UploadRow::storage_key),
        Col("status", &UploadRow::status),
        Col("checksum", &UploadRow::checksum),
        Col("expires_at", &UploadRow::expires_at),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<UploadChunkRow>& UploadChunksTable() {
  static const TableSpec<UploadChunkRow> kSpec = [] {
    TableSpec<UploadChunkRow> s{"upload_chunks", std::string(kChunkIdPrefix), &UploadChunkRow::chunk_id, {}};
    s.columns = {
        Col("chunk_id", &UploadChunkRow::chunk_id),
        Col("upload_id", &UploadChunkRow::upload_id),
        Col("video_id", &UploadChunkRow::video_id),
        Col("offset", &UploadChunkRow::offset),
        Col("size", &UploadChunkRow::size),
        Col("checksum", &UploadChunkRow::checksum),
        Col("received_at", &UploadChunkRow::received_at),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<JobRow>& JobsTable() {
  static const TableSpec<JobRow> kSpec = [] {
    TableSpec<JobRow> s{"jobs", std::string(kJobIdPrefix), &JobRow::job_id, {}};
    s.columns = {
        Col("job_id", &JobRow::job_id),
        Col("video_id", &JobRow::video_id),
        Col("owner_id", &JobRow::owner_id),
        Col("kind", &JobRow::kind),
        Col("params", &JobRow::params),
        Col("status", &JobRow::status),
        Col("priority", &JobRow::priority),
        Col("attempts", &JobRow::attempts),
        Col("max_attempts", &JobRow::max_attempts),
        Col("run_after", &JobRow::run_after),
        Col("locked_by", &JobRow::locked_by),
        Col("locked_until", &JobRow::locked_until),
        Col("progress", &JobRow::progress),
        Col("result", &JobRow::result),
        Col("error", &JobRow::error),
        Col("processing_id", &JobRow::processing_id),
        Col("cancel_requested", &JobRow::cancel_requested),
        Col("started_at", &JobRow::started_at),
        Col("finished_at", &JobRow::finished_at),
        Col("depends_on", &JobRow::depends_on),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<ProcessingLogRow>& ProcessingLogsTable() {
  static const TableSpec<ProcessingLogRow> kSpec = [] {
    TableSpec<ProcessingLogRow> s{"processing_logs", std::string(kLogIdPrefix), &ProcessingLogRow::log_id, {}};
    s.columns = {
        Col("log_id", &ProcessingLogRow::log_id),
        Col("video_id", &ProcessingLogRow::video_id),
        Col("job_id", &ProcessingLogRow::job_id),
        Col("stage", &ProcessingLogRow::stage),
        Col("level", &ProcessingLogRow::level),
        Col("message", &ProcessingLogRow::message),
        Col("data", &ProcessingLogRow::data),
        Col("ts", &ProcessingLogRow::ts),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<VideoProcessingRow>& VideoProcessingTable() {
  static const TableSpec<VideoProcessingRow> kSpec = [] {
    TableSpec<VideoProcessingRow> s{"video_processing", std::string(kProcessingIdPrefix), &VideoProcessingRow::processing_id, {}};
    s.columns = {
        Col("processing_id", &VideoProcessingRow::processing_id),
        Col("video_id", &VideoProcessingRow::video_id),
        Col("kind", &VideoProcessingRow::kind),
        Col("params", &VideoProcessingRow::params),
        Col("status", &VideoProcessingRow::status),
        Col("progress", &VideoProcessingRow::progress),
        Col("engine", &VideoProcessingRow::engine),
        Col("job_id", &VideoProcessingRow::job_id),
        Col("started_at", &VideoProcessingRow::started_at),
        Col("finished_at", &VideoProcessingRow::finished_at),
        Col("error", &VideoProcessingRow::error),
        Col("result", &VideoProcessingRow::result),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<FrameRow>& FramesTable() {
  static const TableSpec<FrameRow> kSpec = [] {
    TableSpec<FrameRow> s{"frames", std::string(kFrameIdPrefix), &FrameRow::frame_id, {}};
    s.columns = {
        Col("frame_id", &FrameRow::frame_id),
        Col("video_id", &FrameRow::video_id),
        Col("processing_id", &FrameRow::processing_id),
        Col("ts_s", &FrameRow::ts_s),
        Col("asset_id", &FrameRow::asset_id),
        Col("width", &FrameRow::width),
        Col("height", &FrameRow::height),
        Col("phash", &FrameRow::phash),
        Col("features", &FrameRow::features),
        Col("ocr_text", &FrameRow::ocr_text),
        Col("description", &FrameRow::description),
        Col("description_model", &FrameRow::description_model),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<SceneRow>& SceneIndexTable() {
  static const TableSpec<SceneRow> kSpec = [] {
    TableSpec<SceneRow> s{"scene_index", std::string(kSceneIdPrefix), &SceneRow::scene_id, {}};
    s.columns = {
        Col("scene_id", &SceneRow::scene_id),
        Col("video_id", &SceneRow::video_id),
        Col("processing_id", &SceneRow::processing_id),
        Col("scene_no", &SceneRow::scene_no),
        Col("start_s", &SceneRow::start_s),
        Col("end_s", &SceneRow::end_s),
        Col("start_frame", &SceneRow::start_frame),
        Col("end_frame", &SceneRow::end_frame),
        Col("transition", &SceneRow::transition),
        Col("keyframe_id", &SceneRow::keyframe_id),
        Col("score", &SceneRow::score),
        Col("description", &SceneRow::description),
        Col("description_model", &SceneRow::description_model),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<TranscriptionRow>& TranscriptionsTable() {
  static const TableSpec<TranscriptionRow> kSpec = [] {
    TableSpec<TranscriptionRow> s{"transcriptions", std::string(kTranscriptionIdPrefix), &TranscriptionRow::transcription_id, {}};
    s.columns = {
        Col("transcription_id", &TranscriptionRow::transcription_id),
        Col("video_id", &TranscriptionRow::video_id),
        Col("processing_id", &TranscriptionRow::processing_id),
        Col("engine", &TranscriptionRow::engine),
        Col("model", &TranscriptionRow::model),
        Col("language", &TranscriptionRow::language),
        Col("text", &TranscriptionRow::text),
        Col("status", &TranscriptionRow::status),
        Col("note", &TranscriptionRow::note),
        Col("error", &TranscriptionRow::error),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<TranscriptSegmentRow>& TranscriptSegmentsTable() {
  static const TableSpec<TranscriptSegmentRow> kSpec = [] {
    TableSpec<TranscriptSegmentRow> s{"transcript_segments", std::string(kSegmentIdPrefix), &TranscriptSegmentRow::segment_id, {}};
    s.columns = {
        Col("segment_id", &TranscriptSegmentRow::segment_id),
        Col("video_id", &TranscriptSegmentRow::video_id),
        Col("transcription_id", &TranscriptSegmentRow::transcription_id),
        Col("segment_no", &TranscriptSegmentRow::segment_no),
        Col("start_s", &TranscriptSegmentRow::start_s),
        Col("end_s", &TranscriptSegmentRow::end_s),
        Col("text", &TranscriptSegmentRow::text),
        Col("speaker", &TranscriptSegmentRow::speaker),
        Col("confidence", &TranscriptSegmentRow::confidence),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<TranscriptWordRow>& TranscriptWordsTable() {
  static const TableSpec<TranscriptWordRow> kSpec = [] {
    TableSpec<TranscriptWordRow> s{"transcript_words", std::string(kWordIdPrefix), &TranscriptWordRow::word_id, {}};
    s.columns = {
        Col("word_id", &TranscriptWordRow::word_id),
        Col("video_id", &TranscriptWordRow::video_id),
        Col("transcription_id", &TranscriptWordRow::transcription_id),
        Col("segment_id", &TranscriptWordRow::segment_id),
        Col("word_no", &TranscriptWordRow::word_no),
        Col("word", &TranscriptWordRow::word),
        Col("start_s", &TranscriptWordRow::start_s),
        Col("end_s", &TranscriptWordRow::end_s),
        Col("confidence", &TranscriptWordRow::confidence),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<ClipCandidateRow>& ClipCandidatesTable() {
  static const TableSpec<ClipCandidateRow> kSpec = [] {
    TableSpec<ClipCandidateRow> s{"clip_candidates", std::string(kClipIdPrefix), &ClipCandidateRow::clip_id, {}};
    s.columns = {
        Col("clip_id", &ClipCandidateRow::clip_id),
        Col("video_id", &ClipCandidateRow::video_id),
        Col("processing_id", &ClipCandidateRow::processing_id),
        Col("start_s", &ClipCandidateRow::start_s),
        Col("end_s", &ClipCandidateRow::end_s),
        Col("score", &ClipCandidateRow::score),
        Col("title", &ClipCandidateRow::title),
        Col("hook", &ClipCandidateRow::hook),
        Col("reason", &ClipCandidateRow::reason),
        Col("transcript_excerpt", &ClipCandidateRow::transcript_excerpt),
        Col("features", &ClipCandidateRow::features),
        Col("status", &ClipCandidateRow::status),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<EditJobRow>& EditJobsTable() {
  static const TableSpec<EditJobRow> kSpec = [] {
    TableSpec<EditJobRow> s{"edit_jobs", std::string(kEditJobIdPrefix), &EditJobRow::edit_job_id, {}};
    s.columns = {
        Col("edit_job_id", &EditJobRow::edit_job_id),
        Col("video_id", &EditJobRow::video_id),
        Col("owner_id", &EditJobRow::owner_id),
        Col("clip_candidate_id", &EditJobRow::clip_candidate_id),
        Col("spec", &EditJobRow::spec),
        Col("status", &EditJobRow::status),
        Col("job_id", &EditJobRow::job_id),
        Col("output_asset_id", &EditJobRow::output_asset_id),
        Col("error", &EditJobRow::error),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<RetentionAnalysisRow>& RetentionAnalysesTable() {
  static const TableSpec<RetentionAnalysisRow> kSpec = [] {
    TableSpec<RetentionAnalysisRow> s{"retention_analyses", std::string(kRetentionIdPrefix), &RetentionAnalysisRow::retention_id, {}};
    s.columns = {
        Col("retention_id", &RetentionAnalysisRow::retention_id),
        Col("video_id", &RetentionAnalysisRow::video_id),
        Col("processing_id", &RetentionAnalysisRow::processing_id),
        Col("source", &RetentionAnalysisRow::source),
        Col("curve", &RetentionAnalysisRow::curve),
        Col("drop_points", &RetentionAnalysisRow::drop_points),
        Col("summary", &RetentionAnalysisRow::summary),
        Col("owner_id", &RetentionAnalysisRow::owner_id),
        Col("scope", &RetentionAnalysisRow::scope),
        Col("clip_id", &RetentionAnalysisRow::clip_id),
        Col("duration_s", &RetentionAnalysisRow::duration_s),
        Col("model", &RetentionAnalysisRow::model),
        Col("format", &RetentionAnalysisRow::format),
        Col("raw_key", &RetentionAnalysisRow::raw_key),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

const TableSpec<AiEditJobRow>& AiEditJobsTable() {
  static const TableSpec<AiEditJobRow> kSpec = [] {
    TableSpec<AiEditJobRow> s{"ai_edit_jobs", std::string(kAiEditJobIdPrefix), &AiEditJobRow::ai_edit_job_id, {}};
    s.columns = {
        Col("ai_edit_job_id", &AiEditJobRow::ai_edit_job_id),
        Col("video_id", &AiEditJobRow::video_id),
        Col("owner_id", &AiEditJobRow::owner_id),
        Col("instruction", &AiEditJobRow::instruction),
        Col("plan", &AiEditJobRow::plan),
        Col("model", &AiEditJobRow::model),
        Col("status", &AiEditJobRow::status),
        Col("edit_job_id", &AiEditJobRow::edit_job_id),
        Col("error", &AiEditJobRow::error),
        Col("job_id", &AiEditJobRow::job_id),
        Col("request", &AiEditJobRow::request),
        Col("planner", &AiEditJobRow::planner),
        Col("edit_job_ids", &AiEditJobRow::edit_job_ids),
        Col("warnings", &AiEditJobRow::warnings),
    };
    AppendTimestampColumns(s.columns);
    return s;
  }();
  return kSpec;
}

Result<std::string> NewestSucceededRun(DbSession& db, const std::string& video_id, const std::string& kind) {
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT processing_id FROM video_processing WHERE video_id = ? AND "
                                               "kind = ? AND status = 'succeeded' ORDER BY processing_id DESC LIMIT 1",
                                               {video_id, kind}));
  if (rows.empty()) return std::string();
  return rows.Text(0, "processing_id").value_or("");
}

}  // namespace cutroom::db
