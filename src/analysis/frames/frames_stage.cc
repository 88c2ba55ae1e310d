#include "analysis/frames/frames_stage.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <thread>

#include "analysis/source_media.h"
#include "analysis/frames/describe.h"
#include "analysis/frames/faces.h"
#include "analysis/frames/features.h"
#include "analysis/frames/keyframes.h"
#include "analysis/frames/ocr.h"
#include "db/tables.h"
#include "media/decoder.h"
#include "media/thumbnails.h"
#include "storage/blob_store.h"

namespace cutroom::analysis {
namespace {

// Features, faces and the stored JPEG: enough to see what a frame shows,
// a fraction of the cost of full HD or 4K.
constexpr int kAnalysisWidth = 640;
// Text needs more pixels than the rest: OCR reads a wider decode.
constexpr int kOcrWidth = 1280;
constexpr int kJpegQuality = 85;
constexpr double kMaxIntervalS = 3600;
constexpr int kMaxFrames = 5000;
constexpr size_t kMaxPromptChars = 4000;
// Descriptions in flight at once from one job; the chat client still
// holds the whole process to llm.concurrency.
constexpr int kDescribeThreads = 4;
// Progress: sampling runs to this fraction when descriptions follow.
constexpr double kSampleShareWithDescribe = 0.5;

const char* const kParamNames = "mode, interval_s, max_frames, faces, ocr, describe, prompt, dedupe";

size_t Utf8Length(const std::string& s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

Result<bool> BoolParam(const std::string& key, const nlohmann::json& value) {
  if (!value.is_boolean()) return Status::InvalidArgument(key + " must be true or false, got " + value.dump());
  return value.get<bool>();
}

double Round(double v, double unit) { return std::round(v / unit) * unit; }

struct SamplePlan {
  std::vector<double> times;
  // Interval mode on a stream of unknown length: sample until the decoder
  // returns the last frame again.
  bool open_ended = false;
  double interval_s = 0;  // the interval used (interval mode)
};

SamplePlan PlanInterval(const FramesParams& p, double duration_s) {
  SamplePlan plan;
  plan.interval_s = p.interval_s;
  size_t count = static_cast<size_t>(p.max_frames);
  if (duration_s > 0) {
    // Times t = k * interval with t < duration.
    double needed = std::ceil(duration_s / p.interval_s - 1e-9);
    if (needed > static_cast<double>(p.max_frames)) {
      plan.interval_s = duration_s / p.max_frames;
    } else {
      count = static_cast<size_t>(std::max(1.0, needed));
    }
  } else {
    plan.open_ended = true;
  }
  for (size_t i = 0; i < count; ++i) plan.times.push_back(static_cast<double>(i) * plan.interval_s);
  return plan;
}

// Middles of the scenes of the video's newest succeeded scenes run.
Result<std::vector<double>> SceneTimes(db::Database& db, const std::string& video_id) {
  const std::string none = "video " + video_id +
                           " has no scenes yet: run the scenes stage before sampling frames with mode 'scenes'";
  CUTROOM_ASSIGN_OR_RETURN(auto runs, db.Query("SELECT processing_id FROM video_processing WHERE video_id = ? AND "
                                               "kind = 'scenes' AND status = 'succeeded' "
                                               "ORDER BY processing_id DESC LIMIT 1",
                                               {video_id}));
  if (runs.empty()) return Status::FailedPrecondition(none);
  CUTROOM_ASSIGN_OR_RETURN(auto scenes, db.Query("SELECT start_s, end_s FROM scene_index WHERE processing_id = ? "
                                                 "ORDER BY scene_no",
                                                 {*runs.Text(0, "processing_id")}));
  if (scenes.empty()) return Status::FailedPrecondition(none);
  std::vector<double> times;
  for (size_t i = 0; i < scenes.size(); ++i) {
    double start = scenes.Real(i, "start_s").value_or(0), end = scenes.Real(i, "end_s").value_or(start);
    times.push_back(std::max(0.0, (start + std::max(start, end)) / 2));
  }
  std::sort(times.begin(), times.end());
  return times;
}

Result<std::string> ReadBlob(storage::BlobStore& blobs, const std::string& key) {
  CUTROOM_ASSIGN_OR_RETURN(auto reader, blobs.OpenReader(key));
  std::string bytes(reader->size(), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    CUTROOM_ASSIGN_OR_RETURN(size_t n, reader->ReadAt(done, bytes.data() + done, bytes.size() - done));
    if (n == 0) return Status::IOError("blob " + key + " ended early");
    done += n;
  }
  return bytes;
}

// Blobs written by this run; deleted unless the run commits them.
class NewBlobs {
 public:
  explicit NewBlobs(storage::BlobStore* blobs) : blobs_(blobs) {}
  ~NewBlobs() {
    if (committed_) return;
    for (const auto& key : keys_) blobs_->Delete(key).IgnoreError();
  }
  NewBlobs(const NewBlobs&) = delete;
  NewBlobs& operator=(const NewBlobs&) = delete;

  Status Put(const std::string& key, const std::string& bytes) {
    CUTROOM_RETURN_IF_ERROR(blobs_->Put(key, bytes));
    keys_.push_back(key);
    return Status::Ok();
  }
  void Commit() { committed_ = true; }

 private:
  storage::BlobStore* blobs_;
  std::vector<std::string> keys_;
  bool committed_ = false;
};

struct KeptFrame {
  db::VideoAssetRow asset;
  db::FrameRow row;
};

nlohmann::json FeaturesJson(const FrameFeatures& f, const std::vector<FaceBox>* faces,
                            const OcrResult* ocr) {
  nlohmann::json j = {{"brightness", Round(f.brightness, 1e-4)},
                      {"contrast", Round(f.contrast, 1e-4)},
                      {"sharpness", Round(f.sharpness, 1e-2)},
                      {"motion", f.motion ? nlohmann::json(Round(*f.motion, 1e-4)) : nlohmann::json()}};
  if (faces) {
    nlohmann::json boxes = nlohmann::json::array();
    for (const auto& b : *faces) {
      boxes.push_back({Round(b.nx, 1e-4), Round(b.ny, 1e-4), Round(b.nwidth, 1e-4), Round(b.nheight, 1e-4)});
    }
    j["faces"] = {{"count", faces->size()}, {"boxes", std::move(boxes)}};
  }
  if (ocr && ocr->words > 0) j["ocr_confidence"] = Round(ocr->confidence, 0.1);
  return j;
}

// The decoder the frames are read with, and the error a failure to open
// one means for this stage.
Result<std::unique_ptr<media::VideoDecoder>> OpenDecoder(const std::string& path, const std::string& video_id,
                                                         const media::DecodeOptions& options) {
  auto decoder = media::VideoDecoder::Open(path, options);
  if (decoder.ok()) return decoder;
  std::error_code ec;
  // VideoDecoder says NotFound both for a missing file and for one without
  // a video stream; the file is known to be there.
  if (decoder.status().IsNotFound() && std::filesystem::exists(path, ec)) {
    return Status::InvalidArgument("video " + video_id + " has no video stream");
  }
  return decoder.status().WithContext("video " + video_id);
}

}  // namespace

Result<FramesParams> ParseFramesParams(const nlohmann::json& params) {
  FramesParams p;
  if (params.is_null()) return p;
  if (!params.is_object()) return Status::InvalidArgument("frames parameters must be a JSON object");
  for (const auto& [key, value] : params.items()) {
    if (key == "mode") {
      if (!value.is_string() ||
          (value != "interval" && value != "scenes" && value != "keyframes")) {
        return Status::InvalidArgument("mode must be one of interval, scenes, keyframes; got " + value.dump());
      }
      p.mode = value.get<std::string>();
    } else if (key == "interval_s") {
      if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() <= 0 ||
          value.get<double>() > kMaxIntervalS) {
        return Status::InvalidArgument("interval_s must be a number of seconds > 0 and at most 3600, got " +
                                       value.dump());
      }
      p.interval_s = value.get<double>();
    } else if (key == "max_frames") {
      bool integral = value.is_number_integer() ||
                      (value.is_number_float() && std::isfinite(value.get<double>()) &&
                       value.get<double>() == std::floor(value.get<double>()));
      if (!integral || value.get<double>() < 1 || value.get<double>() > kMaxFrames) {
        return Status::InvalidArgument("max_frames must be a whole number from 1 to 5000, got " + value.dump());
      }
      p.max_frames = static_cast<int>(value.get<double>());
    } else if (key == "faces") {
      CUTROOM_ASSIGN_OR_RETURN(p.faces, BoolParam(key, value));
    } else if (key == "ocr") {
      CUTROOM_ASSIGN_OR_RETURN(p.ocr, BoolParam(key, value));
    } else if (key == "describe") {
      CUTROOM_ASSIGN_OR_RETURN(p.describe, BoolParam(key, value));
    } else if (key == "dedupe") {
      CUTROOM_ASSIGN_OR_RETURN(p.dedupe, BoolParam(key, value));
    } else if (key == "prompt") {
      if (!value.is_string()) return Status::InvalidArgument("prompt must be a string");
      p.prompt = value.get<std::string>();
      if (Utf8Length(p.prompt) > kMaxPromptChars) {
        return Status::InvalidArgument("prompt must be at most 4000 characters, got " +
                                       std::to_string(Utf8Length(p.prompt)));
      }
    } else {
      return Status::InvalidArgument("unknown frames parameter '" + key + "' (" + kParamNames + ")");
    }
  }
  return p;
}

Status ValidateFramesParams(const nlohmann::json& params) { return ParseFramesParams(params).status(); }

// The stage on the source it opens (see RunWithSource).
Status RunFramesWith(jobs::JobContext& ctx, std::optional<SourceMedia>& source);

Status RunFrames(jobs::JobContext& ctx) {
  return RunWithSource(ctx, [&ctx](std::optional<SourceMedia>& source) { return RunFramesWith(ctx, source); });
}

Status RunFramesWith(jobs::JobContext& ctx, std::optional<SourceMedia>& source) {
  const jobs::JobServices& s = ctx.services();
  if (!ctx.job().video_id) return Status::InvalidArgument("the frames job has no video_id");
  const std::string video_id = *ctx.job().video_id;
  CUTROOM_ASSIGN_OR_RETURN(FramesParams params, ParseFramesParams(ctx.job().params));
  if (ctx.processing_id().empty()) {
    return Status::FailedPrecondition("the frames job for video " + video_id + " has no processing run");
  }
  db::Repositories repos(*s.db, s.env, s.ids);
  CUTROOM_ASSIGN_OR_RETURN(auto media, repos.media.Get(video_id));
  if (media.status != "ready") return Status::FailedPrecondition("video " + video_id + " is " + media.status);
  if (media.media_type.value_or("") == "audio") {
    return Status::InvalidArgument("video " + video_id + " has no video stream (it is audio only)");
  }
  CUTROOM_ASSIGN_OR_RETURN(SourceMedia opened, SourceMedia::Open(s, media));
  const std::string& path = source.emplace(std::move(opened)).path();

  // Everything that can refuse the job does so before any decoding.
  std::optional<ai::ChatClient> chat;
  if (params.describe) {
    CUTROOM_ASSIGN_OR_RETURN(chat, ai::ChatClient::FromConfig(*s.config));
  }
  std::unique_ptr<FaceDetector> detector;
  if (params.faces) {
    CUTROOM_ASSIGN_OR_RETURN(detector, FaceDetector::Open());
  }
  std::unique_ptr<OcrEngine> ocr;
  if (params.ocr) {
    CUTROOM_ASSIGN_OR_RETURN(ocr, OcrEngine::Open());
  }

  const int64_t started_us = s.env->MonotonicMicros();
  // The display size decides the decode size: open once to read it.
  media::VideoStreamInfo info;
  {
    CUTROOM_ASSIGN_OR_RETURN(auto probe, OpenDecoder(path, video_id, {}));
    info = probe->info();
  }
  const int analysis_w = std::min(info.display_width, kAnalysisWidth);
  const int analysis_h = std::max(
      1, static_cast<int>(std::lround(static_cast<double>(analysis_w) * info.display_height / info.display_width)));
  media::DecodeOptions decode;
  decode.width = params.ocr ? std::min(info.display_width, kOcrWidth) : analysis_w;
  decode.format = media::PixelFormat::kBgr24;
  CUTROOM_ASSIGN_OR_RETURN(auto decoder, OpenDecoder(path, video_id, decode));

  SamplePlan plan;
  if (params.mode == "interval") {
    plan = PlanInterval(params, info.duration_s > 0 ? info.duration_s : media.duration_s.value_or(0));
  } else if (params.mode == "keyframes") {
    auto keys = KeyframeTimes(path);
    if (!keys.ok()) {
      ctx.Log("error", "could not read the key frames: " + keys.status().message());
      return keys.status().WithContext("video " + video_id);
    }
    if (keys->empty()) {
      ctx.Log("error", "the video stream has no key frames with timestamps");
      return Status::InvalidArgument("video " + video_id + " has no key frames to sample");
    }
    plan.times = ThinEvenly(*keys, static_cast<size_t>(params.max_frames));
  } else {
    CUTROOM_ASSIGN_OR_RETURN(auto scene_times, SceneTimes(*s.db, video_id));
    plan.times = ThinEvenly(scene_times, static_cast<size_t>(params.max_frames));
  }
  if (params.mode == "interval" && plan.interval_s != params.interval_s) {
    ctx.Log("info", "interval widened so " + std::to_string(params.max_frames) + " frames span the video",
            {{"interval_s", params.interval_s}, {"used_interval_s", plan.interval_s}});
  }

  const double sample_share = params.describe ? kSampleShareWithDescribe : 0.95;
  NewBlobs blobs(s.blobs);
  std::vector<KeptFrame> kept;
  int sampled = 0, duplicates = 0, with_text = 0, with_faces = 0;
  int64_t last_index = -1;
  std::optional<media::VideoFrame> previous;  // the last sample, at analysis size
  std::optional<uint64_t> last_kept_hash;
  for (size_t i = 0; i < plan.times.size(); ++i) {
    CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
    auto decoded = decoder->FrameAt(plan.times[i]);
    if (!decoded.ok()) {
      ctx.Log("error", "decoding the frame at " + std::to_string(plan.times[i]) + " s failed: " +
                           decoded.status().message(),
              {{"ts_s", plan.times[i]}});
      return decoded.status().WithContext("video " + video_id);
    }
    media::VideoFrame frame = std::move(decoded).value();
    if (frame.index == last_index) {
      // Two times fell on one frame; past the end, every later time will.
      if (plan.open_ended) break;
      continue;
    }
    last_index = frame.index;
    ++sampled;
    // The OCR decode is wider than the analysis size; otherwise the frame
    // already is the analysis frame.
    media::VideoFrame small;
    if (frame.width != analysis_w || frame.height != analysis_h) {
      CUTROOM_ASSIGN_OR_RETURN(small, media::ResizeFrame(frame, analysis_w, analysis_h, frame.format));
    } else {
      small = ocr ? frame : std::move(frame);
    }
    CUTROOM_ASSIGN_OR_RETURN(FrameFeatures features, ComputeFrameFeatures(small, previous ? &*previous : nullptr));
    previous = small;
    ctx.SetProgress(sample_share * static_cast<double>(i + 1) / static_cast<double>(plan.times.size()));
    if (params.dedupe && last_kept_hash &&
        PerceptualHashDistance(*last_kept_hash, features.phash) <= kNearDuplicateDistance) {
      ++duplicates;
      continue;
    }
    last_kept_hash = features.phash;

    std::vector<FaceBox> faces;
    if (detector) {
      CUTROOM_ASSIGN_OR_RETURN(faces, detector->Detect(small));
      if (!faces.empty()) ++with_faces;
    }
    OcrResult text;
    if (ocr) {
      CUTROOM_ASSIGN_OR_RETURN(text, ocr->Recognize(frame));
      if (!text.text.empty()) ++with_text;
    }
    CUTROOM_ASSIGN_OR_RETURN(std::string jpeg, media::EncodeJpeg(small, kJpegQuality));

    KeptFrame k;
    k.asset.asset_id = s.ids->Next(kAssetIdPrefix);
    k.asset.video_id = video_id;
    k.asset.kind = "frame";
    k.asset.storage_key = storage::MakeKey("assets", video_id, k.asset.asset_id + ".jpg");
    k.asset.mime_type = "image/jpeg";
    k.asset.size_bytes = static_cast<int64_t>(jpeg.size());
    k.asset.width = small.width;
    k.asset.height = small.height;
    k.asset.metadata = {{"ts_s", small.pts_s}};
    CUTROOM_RETURN_IF_ERROR(blobs.Put(k.asset.storage_key, jpeg));
    k.row.frame_id = s.ids->Next(kFrameIdPrefix);
    k.row.video_id = video_id;
    k.row.processing_id = ctx.processing_id();
    k.row.ts_s = small.pts_s;
    k.row.asset_id = k.asset.asset_id;
    k.row.width = small.width;
    k.row.height = small.height;
    k.row.phash = PerceptualHashHex(features.phash);
    k.row.features = FeaturesJson(features, detector ? &faces : nullptr, ocr ? &text : nullptr);
    if (ocr) k.row.ocr_text = text.text;
    kept.push_back(std::move(k));
  }

  // Descriptions: a few requests in flight, each frame read back from the
  // store rather than held in memory for the whole run.
  int described = 0, description_failures = 0;
  ai::ChatUsage usage;
  if (chat) {
    std::mutex mu;  // guards usage, the counters and ctx
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    size_t done = 0;
    const std::string prompt = params.prompt.empty() ? std::string(kDefaultFramePrompt) : params.prompt;
    auto work = [&] {
      for (size_t i = next++; i < kept.size() && !stop; i = next++) {
        if (ctx.cancelled()) {
          stop = true;
          break;
        }
        KeptFrame& k = kept[i];
        ai::ChatUsage mine;
        std::string model;
        auto jpeg = ReadBlob(*s.blobs, k.asset.storage_key);
        Result<std::string> text =
            jpeg.ok() ? DescribeImages(*chat, {*jpeg}, prompt, &mine, &model) : Result<std::string>(jpeg.status());
        std::lock_guard lock(mu);
        usage.prompt_tokens += mine.prompt_tokens;
        usage.completion_tokens += mine.completion_tokens;
        usage.total_tokens += mine.total_tokens;
        if (text.ok()) {
          k.row.description = *text;
          k.row.description_model = model;
          ++described;
        } else {
          ++description_failures;
          ctx.Log("warning", "no description for the frame at " + std::to_string(k.row.ts_s) + " s: " +
                                 text.status().ToString(),
                  {{"frame_id", k.row.frame_id}, {"ts_s", k.row.ts_s}});
        }
        ++done;
        ctx.SetProgress(sample_share + (0.95 - sample_share) * static_cast<double>(done) /
                                           static_cast<double>(kept.size()));
      }
    };
    std::vector<std::thread> threads;
    const int n = static_cast<int>(std::min<size_t>(kDescribeThreads, kept.size()));
    for (int t = 1; t < n; ++t) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
    ctx.Log("info",
            "described " + std::to_string(described) + " of " + std::to_string(kept.size()) + " frames using " +
                std::to_string(usage.total_tokens) + " tokens",
            {{"described", described},
             {"failed", description_failures},
             {"prompt_tokens", usage.prompt_tokens},
             {"completion_tokens", usage.completion_tokens},
             {"total_tokens", usage.total_tokens}});
  }
  CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());

  // The swap: the video's previous frames rows and frame assets go, the new
  // ones arrive, in one transaction; the old files are removed after it.
  std::vector<std::string> old_keys;
  Status st = s.db->Transaction([&](db::DbSession& tx) -> Status {
    db::Repositories t(tx, s.env, s.ids);
    CUTROOM_ASSIGN_OR_RETURN(auto old, tx.Query("SELECT storage_key FROM video_assets WHERE video_id = ? AND "
                                                "kind = 'frame'",
                                                {video_id}));
    for (size_t i = 0; i < old.size(); ++i) old_keys.push_back(*old.Text(i, "storage_key"));
    CUTROOM_RETURN_IF_ERROR(tx.Execute("DELETE FROM frames WHERE video_id = ?", {video_id}).status());
    CUTROOM_RETURN_IF_ERROR(
        tx.Execute("DELETE FROM video_assets WHERE video_id = ? AND kind = 'frame'", {video_id}).status());
    for (const auto& k : kept) {
      CUTROOM_RETURN_IF_ERROR(t.video_assets.Insert(k.asset).status());
      CUTROOM_RETURN_IF_ERROR(t.frames.Insert(k.row).status());
    }
    return Status::Ok();
  });
  CUTROOM_RETURN_IF_ERROR(st.WithContext("store frames of video " + video_id));
  blobs.Commit();
  for (const auto& key : old_keys) s.blobs->Delete(key).IgnoreError();

  const double seconds = static_cast<double>(s.env->MonotonicMicros() - started_us) / 1e6;
  nlohmann::json result = {{"mode", params.mode},
                           {"sampled", sampled},
                           {"kept", kept.size()},
                           {"duplicates_skipped", duplicates},
                           {"with_faces", with_faces},
                           {"seconds", Round(seconds, 1e-3)}};
  if (params.mode == "interval") result["interval_s"] = plan.interval_s;
  if (params.ocr) result["ocr"] = with_text;
  if (params.describe) {
    result["described"] = described;
    result["description_failures"] = description_failures;
    result["usage"] = {{"prompt_tokens", usage.prompt_tokens},
                       {"completion_tokens", usage.completion_tokens},
                       {"total_tokens", usage.total_tokens}};
  }
  ctx.Log("info",
          "kept " + std::to_string(kept.size()) + " of " + std::to_string(sampled) + " sampled frames (" +
              std::to_string(duplicates) + " near-duplicates skipped)",
          result);
  ctx.set_result(result);
  return Status::Ok();
}

}  // namespace cutroom::analysis
