// The `retention` job stage and the services around stored retention
// analyses: predictions from the index, imported platform curves, their
// comparison, and per-owner refits.
//
// The stage reads what earlier stages stored (the newest transcript,
// scene detection and frames) plus one pass over the audio for loudness,
// predicts the whole video's curve and every clip candidate's with the
// owner's newest model (model.h; the built-in one until a fit), and
// replaces the video's previous predictions in one transaction. Each clip
// candidate gets features.predicted_retention and its score blends in the
// share predicted to watch to its end with weight kClipRetentionWeight
// (the score before is kept in features, so re-runs do not compound).
// Thread-safety: reentrant functions and a job handler.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "analysis/retention/fit.h"
#include "analysis/retention/model.h"
#include "core/ids.h"
#include "db/database.h"
#include "db/rows.h"
#include "jobs/worker_pool.h"
#include "storage/blob_store.h"

namespace cutroom::analysis {

inline constexpr double kClipRetentionWeight = 0.25;
inline constexpr int kDefaultMinFitVideos = 5;

Status RunRetention(jobs::JobContext& ctx);

// What the model reads for a stored video. path: the media file, for
// loudness (empty: none).
Result<RetentionInputs> LoadRetentionInputs(db::Database& db, Env* env, IdGenerator* ids, const db::MediaRow& media,
                                            const std::string& path);

// The owner's newest fitted model, or the built-in one.
Result<RetentionModel> OwnerRetentionModel(db::Database& db, const std::string& owner_id);

// GET /api/videos/{id}/retention: the newest predicted and imported
// curves of the video, their agreement (hazard-rank Spearman, mean
// absolute error of the share) and which predicted drop points the real
// curve confirms, and the clips' predictions. NotFound when the video has
// neither.
Result<nlohmann::json> RetentionJson(db::Database& db, Env* env, IdGenerator* ids, const db::MediaRow& media);

// The curves of a RetentionJson answer, for charts and the terminal.
std::optional<RetentionCurve> PredictedCurveOf(const nlohmann::json& retention);
std::optional<RetentionCurve> ImportedCurveOf(const nlohmann::json& retention);

// RetentionJson's answer drawn as SVG (chart.h): predicted vs imported
// with the predicted drop points.
std::string RetentionSvgOf(const nlohmann::json& retention, const std::string& title);

// Parses and stores an uploaded curve (import.h formats) as an `imported`
// analysis, with the upload kept in the blob store. InvalidArgument naming
// the line and column for a bad file; nothing is stored then.
Result<db::RetentionAnalysisRow> ImportRetention(db::Database& db, Env* env, IdGenerator* ids,
                                                 storage::BlobStore& blobs, const db::MediaRow& media,
                                                 const std::string& body);

// Refits the owner's model from the imported curves of its videos (one,
// the newest, per video) and stores it as a new version when at least
// min_videos have one. FailedPrecondition saying how many are missing.
// Returns {"model", "version", "videos", "spearman_before", "spearman_after", "mse_before", "mse_after"}.
Result<nlohmann::json> FitOwnerRetention(db::Database& db, Env* env, IdGenerator* ids, const std::string& owner_id,
                                         int min_videos);

}  // namespace cutroom::analysis
