#include "analysis/hosted/videodb_stages.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "ai/videodb_client.h"
#include "analysis/hosted/videodb_media.h"
#include "analysis/scene_store.h"
#include "analysis/transcribe/segmenting.h"
#include "analysis/transcribe/transcript_store.h"
#include "db/tables.h"
#include "ingest/url_fetcher.h"
#include "storage/blob_store.h"

namespace cutroom::analysis {
namespace {

constexpr uint64_t kMaxKeyframeBytes = 10u << 20;
constexpr const char* kDefaultVideoDbScenePrompt =
    "Describe the scene in one or two sentences for a search index: the setting, who is there and what "
    "happens, and any visible text.";

std::string EngineOf(const nlohmann::json& params, const Config& config) {
  if (params.is_object() && params.contains("engine") && params["engine"].is_string()) return params["engine"];
  return config.GetString("transcribe.engine");
}

std::string LanguageOf(const nlohmann::json& params) {
  if (params.is_object() && params.contains("language") && params["language"].is_string()) return params["language"];
  return "en";
}

// cutroom's "pt-BR" is VideoDB's "pt_br" (ISO 639-1, regional variants with
// an underscore, per the SDKs' language_code documentation).
std::string VideoDbLanguage(const std::string& language) {
  std::string out;
  for (char c : language) out += c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct SceneParams {
  std::string extraction = "shot";  // VideoDB's extraction_type: shot or time
  double threshold = 20;            // shot: VideoDB's default
  double interval_s = 10;           // time: VideoDB's default
  int frame_count = 1;
  std::string prompt;

  nlohmann::json ToJson() const {
    nlohmann::json j = {{"detector", "videodb"}, {"extraction", extraction}, {"frame_count", frame_count}};
    if (extraction == "shot") j["threshold"] = threshold;
    else j["interval_s"] = interval_s;
    if (!prompt.empty()) j["prompt"] = prompt;
    return j;
  }
  nlohmann::json ExtractionConfig() const {
    if (extraction == "shot") return {{"threshold", threshold}, {"frame_count", frame_count}};
    return {{"time", interval_s}, {"frame_count", frame_count}};
  }
};

Result<SceneParams> ParseSceneParams(const nlohmann::json& params) {
  SceneParams p;
  if (params.is_null()) return p;
  if (!params.is_object()) return Status::InvalidArgument("scene parameters must be a JSON object");
  static const char* const kKnown[] = {"detector", "extraction", "threshold", "interval_s", "frame_count", "prompt"};
  for (const auto& [key, value] : params.items()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return Status::InvalidArgument("unknown parameter '" + key +
                                     "' for the videodb detector (known: extraction, threshold, interval_s, "
                                     "frame_count, prompt)");
    }
  }
  if (params.contains("extraction")) {
    const auto& e = params["extraction"];
    if (!e.is_string() || (e != "shot" && e != "time")) {
      return Status::InvalidArgument("extraction must be \"shot\" (VideoDB's shot detection) or \"time\" (fixed "
                                     "intervals)");
    }
    p.extraction = e;
  }
  auto number = [&](const char* key, double lo, double hi, double* out) -> Status {
    if (!params.contains(key) || params[key].is_null()) return Status::Ok();
    const auto& v = params[key];
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < lo || v.get<double>() > hi) {
      return Status::InvalidArgument(std::string(key) + " must be a number from " + nlohmann::json(lo).dump() +
                                     " to " + nlohmann::json(hi).dump());
    }
    *out = v.get<double>();
    return Status::Ok();
  };
  CUTROOM_RETURN_IF_ERROR(number("threshold", 1, 100, &p.threshold));
  CUTROOM_RETURN_IF_ERROR(number("interval_s", 1, 3600, &p.interval_s));
  if (params.contains("threshold") && p.extraction != "shot") {
    return Status::InvalidArgument("threshold applies to extraction \"shot\"; use interval_s with \"time\"");
  }
  if (params.contains("interval_s") && p.extraction != "time") {
    return Status::InvalidArgument("interval_s applies to extraction \"time\"; use threshold with \"shot\"");
  }
  if (params.contains("frame_count")) {
    const auto& f = params["frame_count"];
    if (!f.is_number_integer() || f.get<int64_t>() < 1 || f.get<int64_t>() > 10) {
      return Status::InvalidArgument("frame_count must be an integer from 1 to 10");
    }
    p.frame_count = f.get<int>();
  }
  if (params.contains("prompt")) {
    if (!params["prompt"].is_string() || params["prompt"].get<std::string>().size() > 4000) {
      return Status::InvalidArgument("prompt must be a string of at most 4000 characters");
    }
    p.prompt = params["prompt"];
  }
  return p;
}

std::optional<double> Num(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return std::nullopt;
  if (j[key].is_number()) return j[key].get<double>();
  if (j[key].is_string()) {
    char* end = nullptr;
    const std::string& s = j[key].get_ref<const std::string&>();
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && *end == '\0' && std::isfinite(d)) return d;
  }
  return std::nullopt;
}

struct VdbFrame {
  std::string frame_id;
  std::string url;
  double time_s = 0;
};

struct VdbScene {
  double start_s = 0;
  double end_s = 0;
  std::string description;
  std::vector<VdbFrame> frames;
};

Result<std::vector<VdbScene>> ParseSceneCollection(const nlohmann::json& collection) {
  std::vector<VdbScene> out;
  if (!collection.contains("scenes") || !collection["scenes"].is_array()) {
    return Status::Corruption("videodb_bad_reply: the scene collection has no scenes list");
  }
  for (const auto& s : collection["scenes"]) {
    auto start = Num(s, "start"), end = Num(s, "end");
    if (!start || !end || *end < *start) {
      return Status::Corruption("videodb_bad_reply: a scene has no valid start and end: " + s.dump().substr(0, 200));
    }
    VdbScene scene;
    scene.start_s = *start;
    scene.end_s = *end;
    if (s.contains("description") && s["description"].is_string()) scene.description = s["description"];
    if (s.contains("frames") && s["frames"].is_array()) {
      for (const auto& f : s["frames"]) {
        auto t = Num(f, "frame_time");
        if (!t) continue;
        VdbFrame frame;
        frame.time_s = *t;
        if (f.contains("frame_id") && !f["frame_id"].is_null()) {
          frame.frame_id = f["frame_id"].is_string() ? f["frame_id"].get<std::string>() : f["frame_id"].dump();
        }
        if (f.contains("url") && f["url"].is_string()) frame.url = f["url"];
        scene.frames.push_back(std::move(frame));
      }
    }
    std::sort(scene.frames.begin(), scene.frames.end(),
              [](const VdbFrame& a, const VdbFrame& b) { return a.time_s < b.time_s; });
    out.push_back(std::move(scene));
  }
  std::sort(out.begin(), out.end(), [](const VdbScene& a, const VdbScene& b) { return a.start_s < b.start_s; });
  return out;
}

// Each scene takes the description of the index record that overlaps it most.
void Describe(std::vector<VdbScene>& scenes, const nlohmann::json& records) {
  for (auto& sc : scenes) {
    double best = 0;
    for (const auto& r : records) {
      auto start = Num(r, "start"), end = Num(r, "end");
      if (!start || !end || !r.contains("description") || !r["description"].is_string()) continue;
      double overlap = std::min(sc.end_s, *end) - std::max(sc.start_s, *start);
      if (overlap > best) {
        best = overlap;
        sc.description = r["description"];
      }
    }
  }
}

struct Keyframe {
  std::string bytes;
  std::string mime;
  int width = 0;
  int height = 0;
  double ts_s = 0;
  std::string frame_id;
};

std::optional<Keyframe> FetchKeyframe(jobs::JobContext& ctx, const ingest::UrlFetcher& fetcher, const VdbScene& sc,
                                      int64_t scene_no) {
  if (sc.frames.empty()) return std::nullopt;
  const VdbFrame& f = sc.frames[sc.frames.size() / 2];
  if (f.url.empty()) return std::nullopt;
  ingest::FetchOptions o;
  o.max_bytes = kMaxKeyframeBytes;
  o.total_timeout_s = 60;
  o.max_redirects = 3;
  Keyframe k;
  auto fetched = fetcher.Fetch(f.url, o, [&](const char* data, size_t n) -> Status {
    k.bytes.append(data, n);
    return Status::Ok();
  });
  std::string why;
  if (!fetched.ok()) {
    why = fetched.status().ToString();
  } else if (!ImageSize(k.bytes, &k.width, &k.height)) {
    why = "not a PNG or JPEG image (" + fetched->content_type + ")";
  }
  if (!why.empty()) {
    // The URL may be signed: only its path goes into the log.
    ctx.Log("warning", "scene " + std::to_string(scene_no) + " keeps no keyframe: VideoDB's frame " +
                           f.url.substr(0, f.url.find('?')) + " could not be used: " + why);
    return std::nullopt;
  }
  k.mime = k.bytes.rfind("\x89PNG", 0) == 0 ? "image/png" : "image/jpeg";
  k.ts_s = f.time_s;
  k.frame_id = f.frame_id;
  return k;
}

}  // namespace

bool ImageSize(const std::string& b, int* width, int* height) {
  auto be16 = [&](size_t i) { return (static_cast<unsigned char>(b[i]) << 8) | static_cast<unsigned char>(b[i + 1]); };
  if (b.size() >= 24 && b.rfind("\x89PNG\r\n\x1a\n", 0) == 0 && b.compare(12, 4, "IHDR") == 0) {
    *width = (be16(16) << 16) | be16(18);
    *height = (be16(20) << 16) | be16(22);
    return *width > 0 && *height > 0;
  }
  if (b.size() < 4 || static_cast<unsigned char>(b[0]) != 0xFF || static_cast<unsigned char>(b[1]) != 0xD8) {
    return false;
  }
  size_t i = 2;
  while (i + 9 < b.size()) {
    if (static_cast<unsigned char>(b[i]) != 0xFF) return false;
    unsigned char marker = static_cast<unsigned char>(b[i + 1]);
    if (marker == 0xFF) {
      ++i;
      continue;
    }
    size_t len = static_cast<size_t>(be16(i + 2));
    // Start-of-frame markers (baseline, progressive, ...), not DHT/JPG/DAC.
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      *height = be16(i + 5);
      *width = be16(i + 7);
      return *width > 0 && *height > 0;
    }
    i += 2 + len;
  }
  return false;
}

bool WantsVideoDbTranscription(const nlohmann::json& params, const Config& config) {
  return EngineOf(params, config) == "videodb";
}

bool WantsVideoDbScenes(const nlohmann::json& params) {
  return params.is_object() && params.contains("detector") && params["detector"] == "videodb";
}

Status ValidateVideoDbTranscription(const nlohmann::json& params, const Config& config) {
  if (params.is_object()) {
    for (const auto& [key, value] : params.items()) {
      if (key != "engine" && key != "language" && key != "verbatim") {
        return Status::InvalidArgument("unknown transcription parameter '" + key + "' (engine, language, verbatim)");
      }
      if (key == "verbatim" ? !value.is_boolean() : !value.is_string()) {
        return Status::InvalidArgument("'" + key + "' must be " + (key == "verbatim" ? "true or false" : "a string"));
      }
    }
  }
  std::string language = LanguageOf(params);
  if (language.size() < 2 || language.size() > 6) {
    return Status::InvalidArgument("language must be a code like 'en' or 'pt-BR', got '" + language + "'");
  }
  if (!ai::VideoDbClient::Configured(config)) {
    return Status::FailedPrecondition(ai::VideoDbClient::NotConfiguredMessage(config));
  }
  return Status::Ok();
}

Status ValidateVideoDbScenes(const nlohmann::json& params, const Config& config) {
  CUTROOM_RETURN_IF_ERROR(ParseSceneParams(params).status());
  if (!ai::VideoDbClient::Configured(config)) {
    return Status::FailedPrecondition(ai::VideoDbClient::NotConfiguredMessage(config));
  }
  return Status::Ok();
}

Status RunVideoDbTranscription(jobs::JobContext& ctx) {
  const jobs::JobServices& s = ctx.services();
  if (!ctx.job().video_id) return Status::InvalidArgument("the transcription job has no video_id");
  const std::string video_id = *ctx.job().video_id;
  const nlohmann::json& params = ctx.job().params;
  CUTROOM_RETURN_IF_ERROR(ValidateVideoDbTranscription(params, *s.config));
  CUTROOM_ASSIGN_OR_RETURN(auto client, ai::VideoDbClient::FromConfig(*s.config));
  const std::string language = LanguageOf(params);
  int64_t start = s.env->MonotonicMicros();

  CUTROOM_ASSIGN_OR_RETURN(std::string vdb_id, EnsureVideoDbUpload(ctx, client, video_id));
  ctx.SetProgress(0.3);
  CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
  CUTROOM_RETURN_IF_ERROR(client.IndexSpokenWords(vdb_id, VideoDbLanguage(language)));
  CUTROOM_RETURN_IF_ERROR(EditVideoDbMetadata(s, video_id, [](nlohmann::json& m) { m["spoken_word_index"] = true; }));
  ctx.SetProgress(0.7);
  CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
  std::string full_text;
  CUTROOM_ASSIGN_OR_RETURN(auto vdb_words, client.GetTranscript(vdb_id, &full_text));
  CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());

  Transcript transcript;
  transcript.engine = "videodb";
  transcript.model = "videodb";
  transcript.language = language;
  std::vector<TranscriptWord> words;
  words.reserve(vdb_words.size());
  // VideoDB gives no per-word confidence.
  for (const auto& w : vdb_words) words.push_back({w.text, w.start_s, w.end_s, 0});
  std::stable_sort(words.begin(), words.end(),
                   [](const TranscriptWord& a, const TranscriptWord& b) { return a.start_s < b.start_s; });
  transcript.segments = SegmentWords(words);
  if (transcript.segments.empty()) transcript.note = "VideoDB found no speech";
  if (params.value("verbatim", false)) {
    transcript.note = "VideoDB's transcript is as VideoDB writes it: hesitations may be missing (verbatim is not "
                      "available for this engine)";
  }
  double secs = static_cast<double>(s.env->MonotonicMicros() - start) / 1e6;
  CUTROOM_ASSIGN_OR_RETURN(auto row, StoreTranscript(*s.db, s.env, s.ids, video_id, ctx.processing_id(), transcript));
  nlohmann::json result = {{"transcription_id", row.transcription_id},
                           {"engine", "videodb"},
                           {"videodb_video_id", vdb_id},
                           {"segments", transcript.segments.size()},
                           {"words", words.size()},
                           {"seconds", secs}};
  if (!transcript.note.empty()) {
    result["note"] = transcript.note;
    ctx.Log("warning", transcript.note);
  }
  ctx.Log("info", "VideoDB transcribed " + std::to_string(words.size()) + " words", result);
  ctx.set_result(result);
  return Status::Ok();
}

Status RunVideoDbScenes(jobs::JobContext& ctx) {
  const jobs::JobServices& s = ctx.services();
  if (!ctx.job().video_id) return Status::InvalidArgument("the scenes job has no video_id");
  const std::string video_id = *ctx.job().video_id;
  CUTROOM_ASSIGN_OR_RETURN(SceneParams params, ParseSceneParams(ctx.job().params));
  if (!ai::VideoDbClient::Configured(*s.config)) {
    return Status::FailedPrecondition(ai::VideoDbClient::NotConfiguredMessage(*s.config));
  }
  db::Repositories repos(*s.db, s.env, s.ids);
  CUTROOM_ASSIGN_OR_RETURN(auto media, repos.media.Get(video_id));
  if (media.status != "ready") return Status::FailedPrecondition("video " + video_id + " is " + media.status);
  if (media.media_type.value_or("") == "audio") {
    return Status::InvalidArgument("video " + video_id + " has no video stream (audio only): no scenes to detect");
  }
  CUTROOM_ASSIGN_OR_RETURN(auto client, ai::VideoDbClient::FromConfig(*s.config));
  CUTROOM_ASSIGN_OR_RETURN(auto policy, ingest::AddressPolicy::FromConfig(*s.config));
  ingest::UrlFetcher fetcher(std::move(policy));

  CUTROOM_ASSIGN_OR_RETURN(std::string vdb_id, EnsureVideoDbUpload(ctx, client, video_id));
  ctx.SetProgress(0.2);
  CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
  const nlohmann::json extraction_config = params.ExtractionConfig();
  CUTROOM_ASSIGN_OR_RETURN(auto collection, client.ExtractScenes(vdb_id, params.extraction, extraction_config));
  CUTROOM_ASSIGN_OR_RETURN(auto scenes, ParseSceneCollection(collection));
  ctx.SetProgress(0.4);
  CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
  const std::string prompt = params.prompt.empty() ? kDefaultVideoDbScenePrompt : params.prompt;
  CUTROOM_ASSIGN_OR_RETURN(std::string index_id,
                           client.IndexScenes(vdb_id, params.extraction, extraction_config, prompt,
                                              "cutroom " + ctx.processing_id()));
  CUTROOM_RETURN_IF_ERROR(
      EditVideoDbMetadata(s, video_id, [&](nlohmann::json& m) { m["scene_index_id"] = index_id; }));
  CUTROOM_ASSIGN_OR_RETURN(auto records, client.GetSceneIndex(vdb_id, index_id));
  Describe(scenes, records);
  ctx.SetProgress(0.7);
  ctx.Log("info", std::to_string(scenes.size()) + " scene(s) from VideoDB",
          {{"videodb_video_id", vdb_id}, {"scene_index_id", index_id}, {"params", params.ToJson()}});

  // Keyframes: fetched into memory, written as files before any row.
  std::vector<std::optional<Keyframe>> keyframes(scenes.size());
  for (size_t i = 0; i < scenes.size(); ++i) {
    CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
    keyframes[i] = FetchKeyframe(ctx, fetcher, scenes[i], static_cast<int64_t>(i + 1));
    ctx.SetProgress(0.7 + 0.2 * static_cast<double>(i + 1) / static_cast<double>(scenes.size()));
  }
  std::vector<std::optional<db::VideoAssetRow>> assets(scenes.size());
  auto drop_files = [&] {
    for (const auto& a : assets) {
      if (a) s.blobs->Delete(a->storage_key).IgnoreError();
    }
  };
  nlohmann::json frame_times = nlohmann::json::array();
  for (size_t i = 0; i < scenes.size(); ++i) {
    nlohmann::json times = nlohmann::json::array();
    for (const auto& f : scenes[i].frames) times.push_back(f.time_s);
    frame_times.push_back(times);
    if (!keyframes[i]) continue;
    const Keyframe& k = *keyframes[i];
    db::VideoAssetRow a;
    a.asset_id = s.ids->Next(kAssetIdPrefix);
    a.video_id = video_id;
    a.kind = "keyframe";
    a.storage_key = storage::MakeKey("assets", video_id, a.asset_id + (k.mime == "image/png" ? ".png" : ".jpg"));
    a.mime_type = k.mime;
    a.size_bytes = static_cast<int64_t>(k.bytes.size());
    a.width = k.width;
    a.height = k.height;
    a.metadata = {{"ts_s", k.ts_s},           {"scene_no", static_cast<int64_t>(i + 1)},
                  {"source", "videodb"},      {"videodb_frame_id", k.frame_id},
                  {"frame_times", times}};
    Status put = s.blobs->Put(a.storage_key, k.bytes);
    if (!put.ok()) {
      drop_files();
      return put;
    }
    assets[i] = std::move(a);
  }
  const double fps = media.fps.value_or(0);
  nlohmann::json transitions = nlohmann::json::array();
  if (params.extraction == "shot") {
    for (size_t i = 1; i < scenes.size(); ++i) {
      nlohmann::json t = {{"type", "cut"}, {"start_s", scenes[i].start_s}, {"end_s", scenes[i].start_s}};
      if (fps > 0) {
        t["start_frame"] = std::llround(scenes[i].start_s * fps);
        t["end_frame"] = std::llround(scenes[i].start_s * fps);
      }
      transitions.push_back(t);
    }
  }
  nlohmann::json result = {{"detector", "videodb"},
                           {"params", params.ToJson()},
                           {"fps", fps},
                           {"duration_s", media.duration_s.value_or(scenes.empty() ? 0 : scenes.back().end_s)},
                           {"scenes", scenes.size()},
                           {"transitions", transitions},
                           {"videodb",
                            {{"video_id", vdb_id},
                             {"scene_collection_id", collection.value("scene_collection_id", "")},
                             {"scene_index_id", index_id},
                             {"extraction_type", params.extraction},
                             {"extraction_config", extraction_config},
                             {"prompt", prompt},
                             {"frame_times", frame_times}}}};
  std::vector<db::SceneRow> rows;
  for (size_t i = 0; i < scenes.size(); ++i) {
    const VdbScene& sc = scenes[i];
    db::SceneRow row;
    row.video_id = video_id;
    row.processing_id = ctx.processing_id();
    row.scene_no = static_cast<int64_t>(i + 1);
    row.start_s = sc.start_s;
    row.end_s = sc.end_s;
    if (fps > 0) {
      row.start_frame = std::llround(sc.start_s * fps);
      row.end_frame = std::max<int64_t>(*row.start_frame, std::llround(sc.end_s * fps) - 1);
    }
    row.transition = i == 0 ? "start" : "cut";
    if (!sc.description.empty()) {
      row.description = sc.description;
      row.description_model = "videodb";
    }
    rows.push_back(std::move(row));
  }
  CUTROOM_RETURN_IF_ERROR(ReplaceScenes(s, video_id, ctx.processing_id(), std::move(rows), assets, result));
  size_t described = 0, with_keyframe = 0;
  for (size_t i = 0; i < scenes.size(); ++i) {
    described += scenes[i].description.empty() ? 0 : 1;
    with_keyframe += assets[i] ? 1 : 0;
  }
  ctx.set_result({{"scenes", scenes.size()},
                  {"detector", "videodb"},
                  {"described", described},
                  {"keyframes", with_keyframe},
                  {"videodb_video_id", vdb_id},
                  {"scene_index_id", index_id}});
  return Status::Ok();
}

}  // namespace cutroom::analysis
