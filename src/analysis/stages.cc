#include "analysis/stages.h"

#include "ai/chat_client.h"
#include "analysis/clips/clips_stage.h"
#include "analysis/retention/retention_stage.h"
#include "analysis/frames/frames_stage.h"
#include "analysis/hosted/videodb_stages.h"
#include "analysis/scenes/scene_detection.h"
#include "analysis/scenes/scenes_stage.h"
#include "analysis/thumbnails_stage.h"
#include "analysis/transcription_stage.h"

namespace cutroom::analysis {

void RegisterStages(jobs::WorkerPool& pool) {
  pool.Register("thumbnails", RunThumbnails);
  // The decoders use every core already: one transcription, one scene
  // detection and one frame sampling at a time.
  // VideoDB's engines run in place of the local ones when a job asks for
  // them (analysis/hosted), under the same kinds and limits.
  pool.Register(
      "transcription",
      [](jobs::JobContext& ctx) {
        return WantsVideoDbTranscription(ctx.job().params, *ctx.services().config) ? RunVideoDbTranscription(ctx)
                                                                                   : RunTranscription(ctx);
      },
      1);
  pool.Register(
      "scenes",
      [](jobs::JobContext& ctx) {
        return WantsVideoDbScenes(ctx.job().params) ? RunVideoDbScenes(ctx) : RunScenes(ctx);
      },
      1);
  pool.Register("frames", RunFrames, 1);
  pool.Register("clips", RunClips, 1);
  pool.Register("retention", RunRetention, 1);

}

Status ValidateStageParams(const std::string& stage, const nlohmann::json& params, const Config& config,
                           bool has_video) {
  const nlohmann::json& p = params.is_null() ? nlohmann::json::object() : params;
  bool describe = false;
  if (stage == "scenes" || stage == "frames") {
    if (!has_video) return Status::InvalidArgument("the media has no video stream: no " + stage + " to find");
    if (stage == "scenes" && WantsVideoDbScenes(p)) return ValidateVideoDbScenes(p, config);
    if (stage == "scenes") {
      CUTROOM_ASSIGN_OR_RETURN(auto sp, scenes::ParseSceneParams(p));
      describe = sp.describe;
    } else {
      CUTROOM_ASSIGN_OR_RETURN(auto fp, ParseFramesParams(p));
      describe = fp.describe;
    }
  } else if (stage == "transcription") {
    if (WantsVideoDbTranscription(p, config)) return ValidateVideoDbTranscription(p, config);
    return ValidateTranscriptionParams(p, config);
  } else if (stage == "retention") {
    if (p.is_object() && !p.empty()) {
      return Status::InvalidArgument("the retention stage takes no parameters (got '" + p.begin().key() + "')");
    }
  } else if (stage == "clips") {
    CUTROOM_RETURN_IF_ERROR(ValidateClipsParams(p));
    describe = p.value("llm", false);
  }
  if (describe && !ai::ChatClient::Configured(config)) {
    return Status::FailedPrecondition(
        "llm_not_configured: " + std::string(stage == "clips" ? "llm" : "describe") +
        " needs an OpenAI-compatible LLM; set llm.base_url and llm.model "
        "(and llm.api_key_env for hosted services)");
  }
  return Status::Ok();
}

}  // namespace cutroom::analysis
