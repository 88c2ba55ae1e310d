// Reading and writing transcripts in the unified model: one
// `transcriptions` row per run, its `transcript_segments` and
// `transcript_words`. Writing replaces whatever the same processing run
// wrote before (re-runs are idempotent), in one transaction.
#pragma once

#include <optional>
#include <string>

#include "analysis/transcribe/transcript.h"
#include "core/ids.h"
#include "db/database.h"
#include "db/rows.h"

namespace cutroom::analysis {

struct StoredTranscript {
  db::TranscriptionRow row;
  Transcript transcript;
};

Result<db::TranscriptionRow> StoreTranscript(db::Database& db, Env* env, IdGenerator* ids,
                                             const std::string& video_id, const std::string& processing_id,
                                             const Transcript& transcript);

// The newest succeeded transcription of a video, or the one of a given
// processing run. NotFound when there is none.
Result<StoredTranscript> LoadTranscript(db::Database& db, Env* env, IdGenerator* ids, const std::string& video_id,
                                        const std::string& processing_id = "");

}  // namespace cutroom::analysis
