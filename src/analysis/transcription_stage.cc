#include "analysis/transcription_stage.h"

#include "analysis/source_media.h"

#include "analysis/transcribe/openai_engine.h"
#include "analysis/transcribe/transcriber.h"
#include "analysis/transcribe/transcript_store.h"
#include "db/tables.h"

namespace cutroom::analysis {
namespace {

std::string EngineOf(const nlohmann::json& params, const Config& config) {
  if (params.contains("engine") && params["engine"].is_string()) return params["engine"];
  return config.GetString("transcribe.engine");
}

std::string LanguageOf(const nlohmann::json& params) {
  if (params.contains("language") && params["language"].is_string()) return params["language"];
  return "en";
}

}  // namespace

Status ValidateTranscriptionParams(const nlohmann::json& params, const Config& config) {
  for (const auto& [key, value] : params.items()) {
    if (key != "engine" && key != "language" && key != "verbatim") {
      return Status::InvalidArgument("unknown transcription parameter '" + key + "' (engine, language, verbatim)");
    }
    if (key == "verbatim") {
      if (!value.is_boolean()) return Status::InvalidArgument("'verbatim' must be true or false");
    } else if (!value.is_string()) {
      return Status::InvalidArgument("'" + key + "' must be a string");
    }
  }
  std::string engine = EngineOf(params, config);
  std::string language = LanguageOf(params);
  if (engine == "openai") {
    if (config.GetString("transcribe.base_url").empty()) {
      return Status::NotSupported("the openai engine is not configured: set transcribe.base_url (or llm.base_url)");
    }
    if (language.size() < 2 || language.size() > 5) {
      return Status::InvalidArgument("language must be a code like 'en' or 'pt-BR', got '" + language + "'");
    }
    return Status::Ok();
  }
  if (engine != "pocketsphinx") {
    return Status::NotSupported("unknown transcription engine '" + engine + "'; use pocketsphinx, openai or videodb");
  }
  if (language != "en" && language != "en-us" && language != "en-US") {
    return Status::NotSupported("the pocketsphinx engine cannot transcribe '" + language + "'; it supports: en");
  }
  return Status::Ok();
}

Status RunTranscription(jobs::JobContext& ctx) {
  const jobs::JobServices& s = ctx.services();
  if (!ctx.job().video_id) return Status::InvalidArgument("the transcription job has no video_id");
  const std::string video_id = *ctx.job().video_id;
  CUTROOM_RETURN_IF_ERROR(ValidateTranscriptionParams(ctx.job().params, *s.config));
  db::Repositories repos(*s.db, s.env, s.ids);
  CUTROOM_ASSIGN_OR_RETURN(auto media, repos.media.Get(video_id));
  CUTROOM_ASSIGN_OR_RETURN(SourceMedia source, SourceMedia::Open(s, media));
  const std::string& path = source.path();
  std::unique_ptr<Transcriber> hosted;
  Transcriber* engine = nullptr;
  if (EngineOf(ctx.job().params, *s.config) == "openai") {
    CUTROOM_ASSIGN_OR_RETURN(auto client, ai::OpenAiClient::FromConfig(*s.config, "transcribe.base_url"));
    OpenAiTranscribeOptions o;
    o.model = s.config->GetString("transcribe.model");
    o.max_piece_s = static_cast<double>(std::max<int64_t>(5, s.config->GetInt("transcribe.max_piece_s")));
    hosted = MakeOpenAiTranscriber(std::move(client), o);
    engine = hosted.get();
  } else {
    CUTROOM_ASSIGN_OR_RETURN(engine, PocketsphinxTranscriber());
  }
  TranscribeOptions options;
  options.language = LanguageOf(ctx.job().params);
  options.verbatim = ctx.job().params.value("verbatim", false);
  options.duration_s = media.duration_s.value_or(0);
  options.progress = [&ctx](double f) {
    ctx.SetProgress(f);
    return !ctx.cancelled();
  };
  int64_t start = s.env->MonotonicMicros();
  auto transcribed = engine->TranscribeFile(path, options);
  LogRemoteReads(ctx, source);
  if (!transcribed.ok()) return source.Explain(transcribed.status());
  Transcript transcript = std::move(*transcribed);
  CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
  double secs = static_cast<double>(s.env->MonotonicMicros() - start) / 1e6;
  CUTROOM_ASSIGN_OR_RETURN(auto row, StoreTranscript(*s.db, s.env, s.ids, video_id, ctx.processing_id(), transcript));
  size_t words = 0;
  for (const auto& seg : transcript.segments) words += seg.words.size();
  nlohmann::json result = {{"transcription_id", row.transcription_id},
                           {"engine", transcript.engine},
                           {"segments", transcript.segments.size()},
                           {"words", words},
                           {"seconds", secs}};
  if (options.duration_s > 0) result["real_time_factor"] = secs / options.duration_s;
  if (!transcript.note.empty()) {
    result["note"] = transcript.note;
    ctx.Log("warning", transcript.note);
  }
  ctx.Log("info", "transcribed " + std::to_string(words) + " words", result);
  ctx.set_result(result);
  return Status::Ok();
}

}  // namespace cutroom::analysis
