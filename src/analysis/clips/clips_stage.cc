#include "analysis/clips/clips_stage.h"

#include <algorithm>
#include <cmath>

#include "analysis/source_media.h"
#include "ai/chat_client.h"
#include "analysis/clips/loudness.h"
#include "analysis/clips/rerank.h"
#include "analysis/transcribe/transcript_store.h"
#include "db/tables.h"

namespace cutroom::analysis {
namespace {

constexpr ClipOptions kDefaults{};
constexpr double kLoudnessStepS = 0.1;
// More frames than any frames run keeps (5000) with room to spare.
constexpr int64_t kMaxFrames = 20000;

bool Has(const nlohmann::json& params, const char* key) { return params.is_object() && params.contains(key); }

double Number(const nlohmann::json& params, const char* key, double fallback) {
  return Has(params, key) ? params[key].get<double>() : fallback;
}


Result<std::optional<std::vector<double>>> SceneCuts(db::Database& db, const std::string& video_id) {
  CUTROOM_ASSIGN_OR_RETURN(std::string run, db::NewestSucceededRun(db, video_id, "scenes"));
  if (run.empty()) return std::optional<std::vector<double>>();
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT start_s, scene_no FROM scene_index WHERE processing_id = ? "
                                               "ORDER BY scene_no",
                                               {run}));
  std::vector<double> cuts;
  for (size_t i = 0; i < rows.size(); ++i) {
    // Every scene but the first begins with a change of shot.
    if (rows.Int(i, "scene_no").value_or(0) > 0) cuts.push_back(rows.Real(i, "start_s").value_or(0));
  }
  return std::optional<std::vector<double>>(std::move(cuts));
}

// Face counts of the newest frames run; frames sampled without face
// detection say nothing and are skipped.
Result<std::vector<ClipFaceSample>> Faces(db::Database& db, const std::string& video_id) {
  CUTROOM_ASSIGN_OR_RETURN(std::string run, db::NewestSucceededRun(db, video_id, "frames"));
  std::vector<ClipFaceSample> out;
  if (run.empty()) return out;
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT ts_s, features FROM frames WHERE processing_id = ? ORDER BY "
                                               "ts_s LIMIT ?",
                                               {run, kMaxFrames}));
  for (size_t i = 0; i < rows.size(); ++i) {
    auto features = nlohmann::json::parse(rows.Text(i, "features").value_or("{}"), nullptr, false);
    if (!features.is_object() || !features.contains("faces") || !features["faces"].is_object()) continue;
    const auto& faces = features["faces"];
    int count = 0;
    if (faces.contains("count") && faces["count"].is_number()) {
      count = faces["count"].get<int>();
    } else if (faces.contains("boxes") && faces["boxes"].is_array()) {
      count = static_cast<int>(faces["boxes"].size());
    } else {
      continue;
    }
    out.push_back({rows.Real(i, "ts_s").value_or(0), count});
  }
  return out;
}

db::ClipCandidateRow ToRow(const ClipCandidate& c, const std::string& video_id, const std::string& processing_id) {
  db::ClipCandidateRow row;
  row.video_id = video_id;
  if (!processing_id.empty()) row.processing_id = processing_id;
  row.start_s = c.start_s;
  row.end_s = c.end_s;
  row.score = c.score;
  row.title = c.title;
  row.hook = c.hook;
  row.reason = c.reason;
  row.transcript_excerpt = c.transcript_excerpt;
  row.features = c.features;
  row.features["speech_start_s"] = c.speech_start_s;
  row.features["speech_end_s"] = c.speech_end_s;
  row.status = "proposed";
  return row;
}

}  // namespace

Status ValidateClipsParams(const nlohmann::json& params) {
  if (params.is_null()) return Status::Ok();
  if (!params.is_object()) return Status::InvalidArgument("clips parameters must be a JSON object");
  for (const auto& [key, value] : params.items()) {
    if (key == "min_s" || key == "max_s" || key == "target_s") {
      if (!value.is_number()) return Status::InvalidArgument(key + " must be a number of seconds");
    } else if (key == "count") {
      if (!value.is_number_integer()) return Status::InvalidArgument("count must be a whole number between 1 and 50");
    } else if (key == "llm") {
      if (!value.is_boolean()) return Status::InvalidArgument("llm must be true or false");
    } else {
      return Status::InvalidArgument("unknown clips parameter '" + key +
                                     "' (known: min_s, max_s, target_s, count, llm)");
    }
  }
  if (Has(params, "count")) {
    // Checked here: a huge value would not survive the conversion to int.
    int64_t count = params["count"].get<int64_t>();
    if (count < 1 || count > 50) {
      return Status::InvalidArgument("count must be between 1 and 50, got " + std::to_string(count));
    }
  }
  return ValidateClipOptions(ClipOptionsFromParams(params));
}

ClipOptions ClipOptionsFromParams(const nlohmann::json& params) {
  ClipOptions o;
  o.min_s = Number(params, "min_s", kDefaults.min_s);
  // Unset limits follow the set ones, so {"min_s": 45} means 45-60 s
  // around 45 s rather than an error about the default target.
  o.max_s = Number(params, "max_s", std::max(kDefaults.max_s, o.min_s));
  o.target_s = Number(params, "target_s", std::clamp(kDefaults.target_s, std::min(o.min_s, o.max_s),
                                                     std::max(o.min_s, o.max_s)));
  if (Has(params, "count")) o.count = static_cast<int>(std::clamp<int64_t>(params["count"].get<int64_t>(), -1, 1000));
  return o;
}

Status RunClips(jobs::JobContext& ctx) {
  const jobs::JobServices& s = ctx.services();
  if (!ctx.job().video_id) return Status::InvalidArgument("the clips job has no video_id");
  const std::string video_id = *ctx.job().video_id;
  const nlohmann::json& params = ctx.job().params;
  CUTROOM_RETURN_IF_ERROR(ValidateClipsParams(params));
  ClipOptions options = ClipOptionsFromParams(params);
  bool use_llm = Has(params, "llm") && params["llm"].get<bool>();
  std::optional<ai::ChatClient> llm;
  if (use_llm) {
    // Before any work: a job that cannot do what was asked fails at once.
    CUTROOM_ASSIGN_OR_RETURN(auto client, ai::ChatClient::FromConfig(*s.config));
    llm.emplace(std::move(client));
  }
  db::Repositories repos(*s.db, s.env, s.ids);
  CUTROOM_ASSIGN_OR_RETURN(auto media, repos.media.Get(video_id));

  auto stored = LoadTranscript(*s.db, s.env, s.ids, video_id);
  if (!stored.ok()) {
    if (stored.status().IsNotFound()) {
      return Status::FailedPrecondition("transcribe the video first: video " + video_id + " has no transcription");
    }
    return stored.status();
  }
  ClipInputs inputs;
  inputs.duration_s = media.duration_s.value_or(0);
  inputs.transcript = std::move(stored->transcript);
  size_t words = 0;
  for (const auto& seg : inputs.transcript.segments) words += seg.words.size();
  nlohmann::json result = {{"transcription_id", stored->row.transcription_id},
                           {"options",
                            {{"min_s", options.min_s},
                             {"max_s", options.max_s},
                             {"target_s", options.target_s},
                             {"count", options.count}}}};
  ctx.SetProgress(0.05);

  std::vector<ClipCandidate> candidates;
  if (words == 0) {
    ctx.Log("info", "the transcript has no words: no clip candidates",
            {{"transcription_id", stored->row.transcription_id}});
  } else {
    CUTROOM_ASSIGN_OR_RETURN(inputs.scene_cuts, SceneCuts(*s.db, video_id));
    CUTROOM_ASSIGN_OR_RETURN(inputs.faces, Faces(*s.db, video_id));
    if (auto opened = SourceMedia::Open(s, media); !opened.ok()) {
      ctx.Log("info", "no media to measure: clips are scored without loudness (" + opened.status().message() + ")");
    } else {
      const SourceMedia& source = *opened;
      // A fine step: besides scoring, the curve tells real pauses from
      // words the recogniser dropped (candidates.h).
      auto loudness = MeasureLoudness(source.path(), kLoudnessStepS, [&ctx] { return ctx.cancelled(); });
      LogRemoteReads(ctx, source);
      if (!loudness.ok()) loudness = source.Explain(loudness.status());
      if (loudness.ok()) {
        inputs.loudness = std::move(loudness).value();
      } else if (loudness.status().IsCancelled()) {
        CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());  // with the reason
        return loudness.status();
      } else if (loudness.status().IsNotFound()) {
        ctx.Log("info", "no audio stream: clips are scored without loudness");
      } else {
        // Loudness only refines the score; a damaged stretch of audio
        // should not cost the video its clips.
        ctx.Log("warning", "loudness not measured: " + loudness.status().ToString());
      }
    }
    CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
    ctx.SetProgress(0.6);
    candidates = FindClipCandidates(inputs, options);
    if (candidates.empty()) {
      ctx.Log("info", "no window of " + std::to_string(options.min_s) + " to " + std::to_string(options.max_s) +
                          " s fits the speech (lower min_s for short videos)",
              {{"words", words}});
    }
  }
  result["inputs"] = {{"words", words},
                      {"scene_cuts", inputs.scene_cuts ? nlohmann::json(inputs.scene_cuts->size()) : nullptr},
                      {"loudness", !inputs.loudness.empty()},
                      {"face_samples", inputs.faces.size()}};

  if (llm && !candidates.empty()) {
    ctx.SetProgress(0.7);
    auto outcome = RerankWithLlm(*llm, candidates);
    CUTROOM_RETURN_IF_ERROR(outcome.status());
    nlohmann::json usage = {{"model", outcome->model},
                            {"requests", outcome->requests},
                            {"prompt_tokens", outcome->usage.prompt_tokens},
                            {"completion_tokens", outcome->usage.completion_tokens},
                            {"total_tokens", outcome->usage.total_tokens}};
    ctx.Log("info", "llm rerank used " + std::to_string(outcome->usage.total_tokens) + " tokens", usage);
    if (!outcome->applied) {
      ctx.Log("warning", "llm rerank ignored, heuristic order kept: " + outcome->problem, usage);
      usage["problem"] = outcome->problem;
    }
    usage["applied"] = outcome->applied;
    result["llm"] = usage;
    CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
  }

  ctx.SetProgress(0.9);
  std::vector<db::ClipCandidateRow> rows;
  Status st = s.db->Transaction([&](db::DbSession& tx) -> Status {
    db::Repositories t(tx, s.env, s.ids);
    CUTROOM_RETURN_IF_ERROR(
        tx.Execute("DELETE FROM clip_candidates WHERE video_id = ? AND status = 'proposed'", {video_id}).status());
    rows.clear();
    for (const auto& c : candidates) {
      CUTROOM_ASSIGN_OR_RETURN(auto row, t.clip_candidates.Insert(ToRow(c, video_id, ctx.processing_id())));
      rows.push_back(std::move(row));
    }
    return Status::Ok();
  });
  CUTROOM_RETURN_IF_ERROR(st);
  result["count"] = rows.size();
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& r : rows) ids.push_back(r.clip_id);
  result["clip_ids"] = ids;
  ctx.Log("info", "stored " + std::to_string(rows.size()) + " clip candidate(s)", {{"count", rows.size()}});
  ctx.set_result(result);
  return Status::Ok();
}

}  // namespace cutroom::analysis
