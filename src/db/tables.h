// The TableSpec of every table, and Repositories: one typed repository per
// table over a shared session.
#pragma once

#include "db/repository.h"

namespace cutroom::db {

const TableSpec<OwnerRow>& OwnersTable();
const TableSpec<ApiKeyRow>& ApiKeysTable();
const TableSpec<MediaRow>& MediaTable();
const TableSpec<VideoAssetRow>& VideoAssetsTable();
const TableSpec<UploadRow>& UploadsTable();
const TableSpec<UploadChunkRow>& UploadChunksTable();
const TableSpec<JobRow>& JobsTable();
const TableSpec<ProcessingLogRow>& ProcessingLogsTable();
const TableSpec<VideoProcessingRow>& VideoProcessingTable();
const TableSpec<FrameRow>& FramesTable();
const TableSpec<SceneRow>& SceneIndexTable();
const TableSpec<TranscriptionRow>& TranscriptionsTable();
const TableSpec<TranscriptSegmentRow>& TranscriptSegmentsTable();
const TableSpec<TranscriptWordRow>& TranscriptWordsTable();
const TableSpec<ClipCandidateRow>& ClipCandidatesTable();
const TableSpec<EditJobRow>& EditJobsTable();
const TableSpec<RetentionAnalysisRow>& RetentionAnalysesTable();
const TableSpec<AiEditJobRow>& AiEditJobsTable();

// Every repository over one session (the Database, or a transaction).
// Cheap to construct; holds references only.
struct Repositories {
  Repositories(DbSession& db, Env* env, IdGenerator* ids)
      : owners(db, env, ids, OwnersTable()),
        api_keys(db, env, ids, ApiKeysTable()),
        media(db, env, ids, MediaTable()),
        video_assets(db, env, ids, VideoAssetsTable()),
        uploads(db, env, ids, UploadsTable()),
        upload_chunks(db, env, ids, UploadChunksTable()),
        jobs(db, env, ids, JobsTable()),
        processing_logs(db, env, ids, ProcessingLogsTable()),
        video_processing(db, env, ids, VideoProcessingTable()),
        frames(db, env, ids, FramesTable()),
        scenes(db, env, ids, SceneIndexTable()),
        transcriptions(db, env, ids, TranscriptionsTable()),
        transcript_segments(db, env, ids, TranscriptSegmentsTable()),
        transcript_words(db, env, ids, TranscriptWordsTable()),
        clip_candidates(db, env, ids, ClipCandidatesTable()),
        edit_jobs(db, env, ids, EditJobsTable()),
        retention_analyses(db, env, ids, RetentionAnalysesTable()),
        ai_edit_jobs(db, env, ids, AiEditJobsTable()) {}

  Repository<OwnerRow> owners;
  Repository<ApiKeyRow> api_keys;
  Repository<MediaRow> media;
  Repository<VideoAssetRow> video_assets;
  Repository<UploadRow> uploads;
  Repository<UploadChunkRow> upload_chunks;
  Repository<JobRow> jobs;
  Repository<ProcessingLogRow> processing_logs;
  Repository<VideoProcessingRow> video_processing;
  Repository<FrameRow> frames;
  Repository<SceneRow> scenes;
  Repository<TranscriptionRow> transcriptions;
  Repository<TranscriptSegmentRow> transcript_segments;
  Repository<TranscriptWordRow> transcript_words;
  Repository<ClipCandidateRow> clip_candidates;
  Repository<EditJobRow> edit_jobs;
  Repository<RetentionAnalysisRow> retention_analyses;
  Repository<AiEditJobRow> ai_edit_jobs;
};

// The processing_id of the newest succeeded run of `kind` ("scenes",
// "frames", ...) for a video, or "" when there is none: the run whose
// rows readers use unless they ask for another.
Result<std::string> NewestSucceededRun(DbSession& db, const std::string& video_id, const std::string& kind);

}  // namespace cutroom::db
