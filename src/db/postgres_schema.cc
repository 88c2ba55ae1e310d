// PostgreSQL migrations: the same numbered migrations as sqlite_schema.cc,
// in PostgreSQL's dialect. Append new migrations to both files; never edit
// an applied one. tests/db/schema_parity_test.cc checks that both give the
// same tables, columns, foreign keys and indexes.
//
// The translation: INTEGER is BIGINT (SQLite's integers are 64-bit), REAL
// is DOUBLE PRECISION (PostgreSQL's REAL is 4 bytes), AUTOINCREMENT is an
// identity column, JSON stays TEXT checked by json_valid() (an SQL function
// defined here, so the CHECK constraints read the same), and full-text
// search is a generated tsvector column with a GIN index where SQLite has
// an FTS5 table and triggers.
#include "db/migrations.h"

namespace cutroom::db {

namespace {

constexpr const char* kInitialSchema = R"SQL(
-- JSON columns stay TEXT as in SQLite; the CHECK casts to jsonb, so text
-- that is not JSON is refused (as an invalid_text_representation error
-- rather than a check violation). A plain SQL function: a plpgsql one with
-- an exception handler would open a subtransaction on every write.
CREATE FUNCTION json_valid(value text) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS $$ SELECT value::jsonb IS NOT NULL OR value IS NULL $$;

CREATE TABLE owners (
  owner_id    TEXT PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

CREATE TABLE api_keys (
  key_id       TEXT PRIMARY KEY,
  owner_id     TEXT NOT NULL REFERENCES owners(owner_id) ON DELETE CASCADE,
  name         TEXT NOT NULL DEFAULT '',
  key_hash     TEXT NOT NULL UNIQUE,
  key_prefix   TEXT NOT NULL,
  scopes       TEXT NOT NULL DEFAULT '["*"]' CHECK (json_valid(scopes)),
  last_used_at TEXT,
  revoked_at   TEXT,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
CREATE INDEX api_keys_owner ON api_keys(owner_id);

CREATE TABLE media (
  video_id          TEXT PRIMARY KEY,
  owner_id          TEXT NOT NULL REFERENCES owners(owner_id),
  media_type        TEXT CHECK (media_type IN ('video', 'audio', 'image')),
  source_type       TEXT NOT NULL CHECK (source_type IN ('upload', 'url', 'reference')),
  source_url        TEXT,
  storage_key       TEXT,
  original_filename TEXT,
  title             TEXT,
  mime_type         TEXT,
  container         TEXT,
  size_bytes        BIGINT,
  sha256            TEXT,
  duration_s        DOUBLE PRECISION,
  width             BIGINT,
  height            BIGINT,
  fps               DOUBLE PRECISION,
  video_codec       TEXT,
  audio_codec       TEXT,
  rotation          BIGINT,
  bitrate           BIGINT,
  status            TEXT NOT NULL CHECK (status IN ('pending', 'uploading', 'ready', 'processing', 'failed', 'deleted')),
  error             TEXT,
  metadata          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE INDEX media_owner ON media(owner_id, video_id);
CREATE INDEX media_owner_status ON media(owner_id, status, video_id);
CREATE INDEX media_owner_type ON media(owner_id, media_type, video_id);
CREATE INDEX media_sha256 ON media(sha256);

-- Deprecated: the pre-unification column names, for old readers.
CREATE VIEW videos AS
SELECT video_id          AS id,
       video_id          AS video_id,
       owner_id          AS owner_id,
       title             AS title,
       original_filename AS filename,
       storage_key       AS file_path,
       size_bytes        AS file_size,
       mime_type         AS mime_type,
       container         AS format,
       duration_s        AS duration,
       width             AS width,
       height            AS height,
       fps               AS fps,
       video_codec       AS codec,
       audio_codec       AS audio_codec,
       source_url        AS url,
       status            AS status,
       error             AS error_message,
       created_at        AS created_at,
       updated_at        AS updated_at
FROM media
WHERE media_type IS NULL OR media_type = 'video';

CREATE TABLE video_assets (
  asset_id    TEXT PRIMARY KEY,
  video_id    TEXT NOT NULL REFERENCES media(video_id) ON DELETE CASCADE,
  kind        TEXT NOT NULL CHECK (kind IN ('thumbnail', 'sprite', 'proxy', 'audio', 'frame', 'render', 'captions', 'keyframe', 'vtt')),
  storage_key TEXT NOT NULL,
  mime_type   TEXT,
  size_bytes  BIGINT,
  width       BIGINT,
  height      BIGINT,
  duration_s  DOUBLE PRECISION,
  metadata    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX video_assets_video ON video_assets(video_id, kind, asset_id);

CREATE TABLE uploads (
  upload_id   TEXT PRIMARY KEY,
  owner_id    TEXT NOT NULL REFERENCES owners(owner_id),
  video_id    TEXT REFERENCES media(video_id) ON DELETE CASCADE,
  length      BIGINT,
  "offset"    BIGINT NOT NULL DEFAULT 0,
  metadata    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  storage_key TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('active', 'completed', 'terminated', 'expired', 'failed')),
  checksum    TEXT,
  expires_at  TEXT,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX uploads_expiry ON uploads(status, expires_at);
CREATE INDEX uploads_video ON uploads(video_id);

CREATE TABLE upload_chunks (
  chunk_id    TEXT PRIMARY KEY,
  upload_id   TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE,
  video_id    TEXT REFERENCES media(video_id) ON DELETE CASCADE,
  "offset"    BIGINT NOT NULL,
  size        BIGINT NOT NULL,
  checksum    TEXT,
  received_at TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX upload_chunks_upload ON upload_chunks(upload_id, "offset");
CREATE INDEX upload_chunks_video ON upload_chunks(video_id);

CREATE TABLE jobs (
  job_id        TEXT PRIMARY KEY,
  video_id      TEXT REFERENCES media(video_id) ON DELETE CASCADE,
  owner_id      TEXT,
  kind          TEXT NOT NULL,
  params        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
  status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  priority      BIGINT NOT NULL DEFAULT 0,
  attempts      BIGINT NOT NULL DEFAULT 0,
  max_attempts  BIGINT NOT NULL DEFAULT 3,
  run_after     TEXT NOT NULL,
  locked_by     TEXT,
  locked_until  TEXT,
  progress      DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  result        TEXT CHECK (result IS NULL OR json_valid(result)),
  error         TEXT,
  processing_id TEXT,
  cancel_requested BIGINT NOT NULL DEFAULT 0,
  started_at    TEXT,
  finished_at   TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
-- The claim query: runnable jobs by priority, then age.
CREATE INDEX jobs_claim ON jobs(status, run_after, priority DESC, job_id);
CREATE INDEX jobs_video ON jobs(video_id, status, job_id);
CREATE INDEX jobs_lease ON jobs(status, locked_until);

CREATE TABLE video_processing (
  processing_id TEXT PRIMARY KEY,
  video_id      TEXT NOT NULL REFERENCES media(video_id) ON DELETE CASCADE,
  kind          TEXT NOT NULL CHECK (kind IN ('frames', 'scenes', 'transcription', 'clips', 'retention', 'thumbnails', 'probe')),
  params        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
  status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  progress      DOUBLE PRECISION NOT NULL DEFAULT 0,
  engine        TEXT,
  job_id        TEXT,
  started_at    TEXT,
  finished_at   TEXT,
  error         TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
CREATE INDEX video_processing_latest ON video_processing(video_id, kind, status, processing_id);

CREATE TABLE processing_logs (
  log_id     TEXT PRIMARY KEY,
  video_id   TEXT REFERENCES media(video_id) ON DELETE CASCADE,
  job_id     TEXT,
  stage      TEXT NOT NULL,
  level      TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warning', 'error')),
  message    TEXT NOT NULL,
  data       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
  ts         TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX processing_logs_video ON processing_logs(video_id, log_id);
CREATE INDEX processing_logs_job ON processing_logs(job_id, log_id);

CREATE TABLE frames (
  frame_id          TEXT PRIMARY KEY,
  video_id          TEXT NOT NULL REFERENCES media(video_id) ON DELETE CASCADE,
  processing_id     TEXT NOT NULL REFERENCES video_processing(processing_id) ON DELETE CASCADE,
  ts_s              DOUBLE PRECISION NOT NULL,
  asset_id          TEXT REFERENCES video_assets(asset_id) ON DELETE SET NULL,
  width             BIGINT,
  height            BIGINT,
  phash             TEXT,
  features          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(features)),
  ocr_text          TEXT,
  description       TEXT,
  description_model TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE INDEX frames_processing ON frames(processing_id, ts_s);
CREATE INDEX frames_video ON frames(video_id, ts_s);

CREATE TABLE scene_index (
  scene_id          TEXT PRIMARY KEY,
  video_id          TEXT NOT NULL REFERENCES media(video_id) ON DELETE CASCADE,
  processing_id     TEXT NOT NULL REFERENCES video_processing(processing_id) ON DELETE CASCADE,
  scene_no          BIGINT NOT NULL,
  start_s           DOUBLE PRECISION NOT NULL,
  end_s             DOUBLE PRECISION NOT NULL,
  start_frame       BIGINT,
  end_frame         BIGINT,
  transition        TEXT NOT NULL DEFAULT 'cut' CHECK (transition IN ('start', 'cut', 'fade_in', 'fade_out', 'dissolve')),
  keyframe_id       TEXT REFERENCES video_assets(asset_id) ON DELETE SET NULL,
  score             DOUBLE PRECISION,
  description       TEXT,
  description_model TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  UNIQUE (processing_id, scene_no)
);
CREATE INDEX scene_index_video ON scene_index(video_id, start_s);

CREATE TABLE transcriptions (
  transcription_id TEXT PRIMARY KEY,
  video_id         TEXT NOT NULL REFERENCES media(video_id) ON DELETE CASCADE,
  processing_id    TEXT REFERENCES video_processing(processing_id) ON DELETE CASCADE,
  engine           TEXT NOT NULL,
  model            TEXT,
  language         TEXT,
  text             TEXT NOT NULL DEFAULT '',
  status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  note             TEXT,
  error            TEXT,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
);
CREATE INDEX transcriptions_video ON transcriptions(video_id, status, transcription_id);

CREATE TABLE transcript_segments (
  segment_id       TEXT PRIMARY KEY,
  video_id         TEXT NOT NULL REFERENCES media(video_id) ON DELETE CASCADE,
  transcription_id TEXT NOT NULL REFERENCES transcriptions(transcription_id) ON DELETE CASCADE,
  segment_no       BIGINT NOT NULL,
  start_s          DOUBLE PRECISION NOT NULL,
  end_s            DOUBLE PRECISION NOT NULL,
  text             TEXT NOT NULL,
  speaker          TEXT,
  confidence       DOUBLE PRECISION,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  UNIQUE (transcription_id, segment_no)
);
CREATE INDEX transcript_segments_video ON transcript_segments(video_id, start_s);

CREATE TABLE transcript_words (
  word_id          TEXT PRIMARY KEY,
  video_id         TEXT NOT NULL REFERENCES media(video_id) ON DELETE CASCADE,
  transcription_id TEXT NOT NULL REFERENCES transcriptions(transcription_id) ON DELETE CASCADE,
  segment_id       TEXT REFERENCES transcript_segments(segment_id) ON DELETE CASCADE,
  word_no          BIGINT NOT NULL,
  word             TEXT NOT NULL,
  start_s          DOUBLE PRECISION NOT NULL,
  end_s            DOUBLE PRECISION NOT NULL,
  confidence       DOUBLE PRECISION,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  UNIQUE (transcription_id, word_no)
);
CREATE INDEX transcript_words_segment ON transcript_words(segment_id, word_no);
CREATE INDEX transcript_words_word ON transcript_words(transcription_id, word);

CREATE TABLE clip_candidates (
  clip_id            TEXT PRIMARY KEY,
  video_id           TEXT NOT NULL REFERENCES media(video_id) ON DELETE CASCADE,
  processing_id      TEXT REFERENCES video_processing(processing_id) ON DELETE CASCADE,
  start_s            DOUBLE PRECISION NOT NULL,
  end_s              DOUBLE PRECISION NOT NULL CHECK (end_s > start_s),
  score              DOUBLE PRECISION NOT NULL DEFAULT 0,
  title              TEXT,
  hook               TEXT,
  reason             TEXT,
  transcript_excerpt TEXT,
  features           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(features)),
  status             TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'accepted', 'rejected', 'rendered')),
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL
);
CREATE INDEX clip_candidates_video ON clip_candidates(video_id, score DESC);

CREATE TABLE edit_jobs (
  edit_job_id       TEXT PRIMARY KEY,
  video_id          TEXT NOT NULL REFERENCES media(video_id) ON DELETE CASCADE,
  owner_id          TEXT NOT NULL,
  clip_candidate_id TEXT REFERENCES clip_candidates(clip_id) ON DELETE SET NULL,
  spec              TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(spec)),
  status            TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  job_id            TEXT,
  output_asset_id   TEXT REFERENCES video_assets(asset_id) ON DELETE SET NULL,
  error             TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE INDEX edit_jobs_video ON edit_jobs(video_id, edit_job_id);

CREATE TABLE retention_analyses (
  retention_id  TEXT PRIMARY KEY,
  video_id      TEXT NOT NULL REFERENCES media(video_id) ON DELETE CASCADE,
  processing_id TEXT REFERENCES video_processing(processing_id) ON DELETE CASCADE,
  source        TEXT NOT NULL CHECK (source IN ('predicted', 'imported')),
  curve         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(curve)),
  drop_points   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(drop_points)),
  summary       TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
CREATE INDEX retention_analyses_video ON retention_analyses(video_id, retention_id);

-- No foreign key on video_id: AI edit jobs are kept for audit after their
-- media is deleted.
CREATE TABLE ai_edit_jobs (
  ai_edit_job_id TEXT PRIMARY KEY,
  video_id       TEXT NOT NULL,
  owner_id       TEXT NOT NULL,
  instruction    TEXT NOT NULL,
  plan           TEXT CHECK (plan IS NULL OR json_valid(plan)),
  model          TEXT,
  status         TEXT NOT NULL CHECK (status IN ('queued', 'planning', 'rendering', 'succeeded', 'failed', 'cancelled')),
  edit_job_id    TEXT,
  error          TEXT,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);
CREATE INDEX ai_edit_jobs_video ON ai_edit_jobs(video_id, ai_edit_job_id);

-- Full-text search: a stored tsvector per searchable row (english
-- stemming, like FTS5's porter tokenizer), kept by the database itself
-- and indexed with GIN.
ALTER TABLE transcript_segments ADD COLUMN text_tsv tsvector
  GENERATED ALWAYS AS (to_tsvector('english', text)) STORED;
CREATE INDEX transcript_segments_fts ON transcript_segments USING GIN (text_tsv);

ALTER TABLE scene_index ADD COLUMN description_tsv tsvector
  GENERATED ALWAYS AS (to_tsvector('english', coalesce(description, ''))) STORED;
CREATE INDEX scene_index_fts ON scene_index USING GIN (description_tsv);

ALTER TABLE frames ADD COLUMN ocr_text_tsv tsvector
  GENERATED ALWAYS AS (to_tsvector('english', coalesce(ocr_text, ''))) STORED;
ALTER TABLE frames ADD COLUMN description_tsv tsvector
  GENERATED ALWAYS AS (to_tsvector('english', coalesce(description, ''))) STORED;
CREATE INDEX frames_ocr_fts ON frames USING GIN (ocr_text_tsv);
CREATE INDEX frames_description_fts ON frames USING GIN (description_tsv);

INSERT INTO owners(owner_id, name, created_at, updated_at)
VALUES ('own_00000000000000000000000000', 'local',
        to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
)SQL";

// Job dependencies (a pipeline stage waits for its inputs) and the event
// log that Server-Sent Events stream from, so events from worker processes
// reach clients of any server process and clients can resume by id.
constexpr const char* kJobEvents = R"SQL(
ALTER TABLE jobs ADD COLUMN depends_on TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(depends_on));

CREATE TABLE job_events (
  event_id   BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  job_id     TEXT NOT NULL,
  video_id   TEXT,
  owner_id   TEXT,
  type       TEXT NOT NULL,
  data       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
  ts         TEXT NOT NULL
);
CREATE INDEX job_events_video ON job_events(video_id, event_id);
)SQL";

// What a processing run produced beyond its rows: the scenes stage keeps
// its transition spans here (scene_index rows only say how each scene
// begins), other stages their counts.
constexpr const char* kProcessingResult = R"SQL(
ALTER TABLE video_processing ADD COLUMN result TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(result));
)SQL";

// AI edit jobs: the job that plans them, the request's options, the
// planner that made the plan, every edit job rendered from it (one per
// output) and the validator's warnings.
constexpr const char* kAiEditJobs = R"SQL(
ALTER TABLE ai_edit_jobs ADD COLUMN job_id TEXT;
ALTER TABLE ai_edit_jobs ADD COLUMN request TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(request));
ALTER TABLE ai_edit_jobs ADD COLUMN planner TEXT;
ALTER TABLE ai_edit_jobs ADD COLUMN edit_job_ids TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(edit_job_ids));
ALTER TABLE ai_edit_jobs ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(warnings));
CREATE INDEX ai_edit_jobs_owner ON ai_edit_jobs(owner_id, ai_edit_job_id);
)SQL";

// Retention: predictions per clip as well as per video, the model that
// made each (version and weights), imports' format and raw upload, and
// per-owner fitted models.
constexpr const char* kRetention = R"SQL(
ALTER TABLE retention_analyses ADD COLUMN owner_id TEXT;
ALTER TABLE retention_analyses ADD COLUMN scope TEXT NOT NULL DEFAULT 'video' CHECK (scope IN ('video', 'clip'));
ALTER TABLE retention_analyses ADD COLUMN clip_id TEXT;
ALTER TABLE retention_analyses ADD COLUMN duration_s DOUBLE PRECISION;
ALTER TABLE retention_analyses ADD COLUMN model TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(model));
ALTER TABLE retention_analyses ADD COLUMN format TEXT;
ALTER TABLE retention_analyses ADD COLUMN raw_key TEXT;
CREATE INDEX retention_analyses_clip ON retention_analyses(clip_id);

CREATE TABLE retention_models (
  model_id    TEXT PRIMARY KEY,
  owner_id    TEXT NOT NULL,
  version     TEXT NOT NULL,
  model       TEXT NOT NULL CHECK (json_valid(model)),
  report      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(report)),
  videos      BIGINT NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX retention_models_owner ON retention_models(owner_id, model_id);
)SQL";

}  // namespace

const std::vector<Migration>& PostgresMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "initial", kInitialSchema},
      {2, "job_events", kJobEvents},
      {3, "processing_result", kProcessingResult},
      {4, "ai_edit_jobs", kAiEditJobs},
      {5, "retention", kRetention},
  };
  return kMigrations;
}

}  // namespace cutroom::db
