#include "analysis/scenes/scenes_stage.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include "analysis/scene_store.h"
#include "analysis/source_media.h"
#include "core/metrics.h"
#include "ai/chat_client.h"
#include "analysis/frames/describe.h"
#include "analysis/frames/features.h"
#include "analysis/scenes/scene_detection.h"
#include "db/tables.h"
#include "media/thumbnails.h"

namespace cutroom::analysis {
namespace {

constexpr int kKeyframeMaxWidth = 640;
constexpr int kJpegQuality = 85;
// Frames looked at per scene to find the sharpest; one (the middle) when a
// video has so many scenes that seeking three times each would dominate.
constexpr int kCandidatesPerScene = 3;
constexpr size_t kManyScenes = 300;

struct SceneFrames {
  std::string keyframe_jpeg;
  int width = 0;
  int height = 0;
  double ts_s = 0;
  double sharpness = -1;
  std::vector<std::string> jpegs;  // every candidate, in time order (for descriptions)
};

nlohmann::json TransitionsJson(const scenes::SceneList& list) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : list.transitions) {
    out.push_back({{"type", t.type}, {"start_s", t.start_s}, {"end_s", t.end_s}, {"start_frame", t.start_frame},
                   {"end_frame", t.end_frame}, {"score", t.score}});
  }
  return out;
}

// Times inside the scene, away from its edges (where a fade or dissolve
// may still be under way).
std::vector<double> CandidateTimes(const scenes::Scene& scene, int count) {
  double len = scene.end_s - scene.start_s;
  if (count <= 1 || len <= 0) return {scene.start_s + std::max(0.0, len) / 2};
  std::vector<double> out;
  for (int i = 1; i <= count; ++i) out.push_back(scene.start_s + len * i / (count + 1));
  return out;
}

Result<std::vector<SceneFrames>> PickKeyframes(jobs::JobContext& ctx, const std::string& path,
                                               const scenes::SceneList& list, bool keep_all) {
  media::DecodeOptions opts;
  CUTROOM_ASSIGN_OR_RETURN(auto probe_decoder, media::VideoDecoder::Open(path, opts));
  int display_w = probe_decoder->info().display_width;
  probe_decoder.reset();
  opts.width = std::min(kKeyframeMaxWidth, std::max(2, display_w));
  CUTROOM_ASSIGN_OR_RETURN(auto decoder, media::VideoDecoder::Open(path, opts));
  const int per_scene = list.scenes.size() > kManyScenes ? 1 : kCandidatesPerScene;
  std::vector<SceneFrames> out(list.scenes.size());
  for (size_t i = 0; i < list.scenes.size(); ++i) {
    CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
    for (double t : CandidateTimes(list.scenes[i], per_scene)) {
      CUTROOM_ASSIGN_OR_RETURN(media::VideoFrame frame, decoder->FrameAt(t));
      CUTROOM_ASSIGN_OR_RETURN(FrameFeatures features, ComputeFrameFeatures(frame));
      bool sharper = features.sharpness > out[i].sharpness;
      if (!sharper && !keep_all) continue;
      CUTROOM_ASSIGN_OR_RETURN(std::string jpeg, media::EncodeJpeg(frame, kJpegQuality));
      if (sharper) {
        out[i].sharpness = features.sharpness;
        out[i].keyframe_jpeg = jpeg;
        out[i].width = frame.width;
        out[i].height = frame.height;
        out[i].ts_s = frame.pts_s;
      }
      if (keep_all) out[i].jpegs.push_back(std::move(jpeg));
    }
    ctx.SetProgress(0.6 + 0.25 * static_cast<double>(i + 1) / static_cast<double>(list.scenes.size()));
  }
  return out;
}

struct Descriptions {
  std::vector<std::optional<std::string>> text;
  std::string model;
  ai::ChatUsage usage;
  int failed = 0;
};

// One request per scene with its frames, `concurrency` at a time. A scene
// whose request fails or comes back empty keeps no description (logged).
Descriptions DescribeScenes(jobs::JobContext& ctx, const ai::ChatClient& client, const std::string& prompt,
                            const std::vector<SceneFrames>& frames) {
  Descriptions d;
  d.text.resize(frames.size());
  std::mutex mu;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < frames.size(); i = next++) {
      if (ctx.cancelled()) return;
      ai::ChatUsage usage;
      std::string model;
      auto r = DescribeImages(client, frames[i].jpegs.empty() ? std::vector<std::string>{frames[i].keyframe_jpeg}
                                                              : frames[i].jpegs,
                              prompt, &usage, &model);
      std::lock_guard<std::mutex> lock(mu);
      d.usage.prompt_tokens += usage.prompt_tokens;
      d.usage.completion_tokens += usage.completion_tokens;
      d.usage.total_tokens += usage.total_tokens;
      if (r.ok() && !r->empty()) {
        d.text[i] = *r;
        if (!model.empty()) d.model = model;
      } else {
        ++d.failed;
        ctx.Log("warning", "scene " + std::to_string(i + 1) + " has no description: " +
                               (r.ok() ? std::string("the model replied with nothing") : r.status().ToString()));
      }
    }
  };
  int n = std::clamp(client.options().concurrency, 1, 16);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return d;
}

}  // namespace

// The stage on the source it opens (see RunWithSource).
Status RunScenesWith(jobs::JobContext& ctx, std::optional<SourceMedia>& source);

Status RunScenes(jobs::JobContext& ctx) {
  return RunWithSource(ctx, [&ctx](std::optional<SourceMedia>& source) { return RunScenesWith(ctx, source); });
}

Status RunScenesWith(jobs::JobContext& ctx, std::optional<SourceMedia>& source) {
  const jobs::JobServices& s = ctx.services();
  if (!ctx.job().video_id) return Status::InvalidArgument("the scenes job has no video_id");
  const std::string video_id = *ctx.job().video_id;
  CUTROOM_ASSIGN_OR_RETURN(scenes::SceneParams params, scenes::ParseSceneParams(ctx.job().params));
  db::Repositories repos(*s.db, s.env, s.ids);
  CUTROOM_ASSIGN_OR_RETURN(auto media, repos.media.Get(video_id));
  if (media.status != "ready") return Status::FailedPrecondition("video " + video_id + " is " + media.status);
  if (media.media_type.value_or("") == "audio") {
    return Status::InvalidArgument("video " + video_id + " has no video stream (audio only): no scenes to detect");
  }
  std::optional<ai::ChatClient> client;
  if (params.describe) {
    CUTROOM_ASSIGN_OR_RETURN(ai::ChatClient c, ai::ChatClient::FromConfig(*s.config));
    client.emplace(std::move(c));
  }
  CUTROOM_ASSIGN_OR_RETURN(SourceMedia opened, SourceMedia::Open(s, media));
  const std::string& path = source.emplace(std::move(opened)).path();

  const auto detect_start = std::chrono::steady_clock::now();
  auto detected = scenes::DetectScenes(
      path, params, [&ctx](double f) { ctx.SetProgress(0.6 * f); }, [&ctx] { return ctx.cancelled(); });
  if (!detected.ok()) {
    Status st = source->Explain(detected.status());
    if (st.code() == StatusCode::kNotFound) {
      st = Status::InvalidArgument("video " + video_id + " has no video stream: " + st.message());
    }
    if (st.code() != StatusCode::kCancelled) ctx.Log("error", "scene detection failed: " + st.ToString());
    return st;
  }
  const scenes::SceneList& list = *detected;
  // Decoder throughput for /metrics: rate(frames) / rate(seconds) is fps.
  Metrics::Global().Add("cutroom_decoded_frames_total", {{"stage", "scenes"}}, static_cast<double>(list.frames));
  Metrics::Global().Add("cutroom_decode_seconds_total", {{"stage", "scenes"}},
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - detect_start).count());
  ctx.Log("info",
          std::to_string(list.scenes.size()) + " scene(s), " + std::to_string(list.transitions.size()) +
              " transition(s) with the " + list.detector + " detector",
          {{"frames", list.frames}, {"fps", list.fps}, {"params", params.ToJson()}});

  CUTROOM_ASSIGN_OR_RETURN(auto frames, PickKeyframes(ctx, path, list, params.describe));
  Descriptions descriptions;
  descriptions.text.resize(list.scenes.size());
  if (client) {
    std::string prompt = params.prompt.empty() ? kDefaultScenePrompt : params.prompt;
    descriptions = DescribeScenes(ctx, *client, prompt, frames);
    CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
    ctx.Log("info", "described " + std::to_string(list.scenes.size() - descriptions.failed) + " of " +
                        std::to_string(list.scenes.size()) + " scene(s)",
            {{"model", descriptions.model},
             {"prompt_tokens", descriptions.usage.prompt_tokens},
             {"completion_tokens", descriptions.usage.completion_tokens},
             {"total_tokens", descriptions.usage.total_tokens}});
  }
  ctx.SetProgress(0.9);

  // Files first (new keys), then rows in one transaction, then old files.
  std::vector<db::VideoAssetRow> assets;
  for (size_t i = 0; i < frames.size(); ++i) {
    db::VideoAssetRow a;
    a.asset_id = s.ids->Next(kAssetIdPrefix);
    a.video_id = video_id;
    a.kind = "keyframe";
    a.storage_key = storage::MakeKey("assets", video_id, a.asset_id + ".jpg");
    a.mime_type = "image/jpeg";
    a.size_bytes = static_cast<int64_t>(frames[i].keyframe_jpeg.size());
    a.width = frames[i].width;
    a.height = frames[i].height;
    a.metadata = {{"ts_s", frames[i].ts_s}, {"scene_no", list.scenes[i].scene_no},
                  {"sharpness", frames[i].sharpness}};
    Status put = s.blobs->Put(a.storage_key, frames[i].keyframe_jpeg);
    if (!put.ok()) {
      for (const auto& done : assets) s.blobs->Delete(done.storage_key).IgnoreError();
      return put;
    }
    assets.push_back(std::move(a));
  }
  nlohmann::json result = {{"detector", list.detector}, {"params", params.ToJson()},
                           {"fps", list.fps},           {"frames", list.frames},
                           {"duration_s", list.duration_s}, {"scenes", list.scenes.size()},
                           {"transitions", TransitionsJson(list)}};
  std::vector<db::SceneRow> rows;
  std::vector<std::optional<db::VideoAssetRow>> keyframes;
  for (size_t i = 0; i < list.scenes.size(); ++i) {
    const scenes::Scene& sc = list.scenes[i];
    db::SceneRow row;
    row.video_id = video_id;
    row.processing_id = ctx.processing_id();
    row.scene_no = sc.scene_no;
    row.start_s = sc.start_s;
    row.end_s = sc.end_s;
    row.start_frame = sc.start_frame;
    row.end_frame = sc.end_frame;
    row.transition = sc.transition;
    row.score = sc.score;
    if (descriptions.text[i]) {
      row.description = *descriptions.text[i];
      row.description_model = descriptions.model;
    }
    rows.push_back(std::move(row));
    keyframes.emplace_back(std::move(assets[i]));
  }
  CUTROOM_RETURN_IF_ERROR(ReplaceScenes(s, video_id, ctx.processing_id(), std::move(rows), keyframes, result));
  ctx.set_result({{"scenes", list.scenes.size()},
                  {"transitions", list.transitions.size()},
                  {"detector", list.detector},
                  {"described", list.scenes.size() - (client ? descriptions.failed : list.scenes.size())}});
  return Status::Ok();
}

}  // namespace cutroom::analysis
