#include "edit/edit_jobs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <limits>
#include <map>
#include <thread>
#include <fstream>
#include <functional>

#include "analysis/frames/face_search_pool.h"
#include "analysis/frames/faces.h"
#include "analysis/frames/ocr.h"
#include "analysis/source_media.h"
#include "analysis/transcribe/transcript_store.h"
#include "core/metrics.h"
#include "db/tables.h"
#include "edit/plan/edit_index.h"
#include "edit/reframe/crop_path.h"
#include "edit/reframe/layout.h"
#include "edit/render/ass_captions.h"
#include "edit/render/renderer.h"
#include "media/decoder.h"

namespace cutroom::edit {
namespace {

constexpr int kMaxSide = 4096;
constexpr int kMinSide = 16;
// Face samples per second of output, and at most this many per edit.
constexpr double kFaceSampleRate = 3.0;
constexpr int kMaxFaceSamples = 900;
// Faces are looked for at up to this width: wide sources (a 32:9 stage
// shot) keep enough pixels per face.
constexpr int kFaceAnalysisWidth = 1920;
// Motion is measured on copies this many cells wide (the height follows
// the picture's shape): enough to place a crop window within a few percent.
constexpr int kMotionCells = 96;
// Auto layout looks for faces in one sample of kProbeEvery per scene first
// (a probe, about one a second). A scene with at least kMinProbes probes
// of which fewer than kSettledFaceShare show a face (two thirds of the
// share that makes a face scene, reframe/layout.h), counting what the
// frames stage saw of it too, is settled as not a face scene and its
// other samples are not searched; every other scene is searched in full.
// Detection is about four fifths of the layout phase's time, and slides,
// screens and crowd shots rarely hold a face (text on a slide does pass
// the cascade now and then: 2 of 12 probes on the layout tests' slide).
// How often a face scene is settled by mistake, if misses were independent
// (they cluster in time): with 8 probes (1 or none with a face) 11% for a
// scene whose faces fill 40% of its samples, 3.5% at 50%; with 24 probes
// (4 or fewer) 1.3% at 40%. At the 30% share itself the full search is a
// coin toss too.
constexpr int kProbeEvery = 3;
constexpr int kMinProbes = 8;
constexpr double kSettledFaceShare = kFaceShare * 2 / 3;
// The auto layout reads text itself (when the frames stage did not) in at
// most this many frames per scene and per edit: OCR takes about a second
// a frame.
constexpr int kOcrFramesPerScene = 2;
constexpr int kMaxOcrFrames = 12;
// A scene cut this close to a range's edge does not split it: the sliver
// takes the layout of the rest.
constexpr double kMinLayoutPieceS = 0.1;

struct AspectInfo {
  const char* name;
  int num, den;      // width : height
  int hd_w, hd_h;    // the platform size from sources of 1080p and up
  int sd_w, sd_h;    // below
};
constexpr AspectInfo kAspects[] = {{"9:16", 9, 16, 1080, 1920, 720, 1280},
                                   {"1:1", 1, 1, 1080, 1080, 720, 720},
                                   {"16:9", 16, 9, 1920, 1080, 1280, 720}};
// A source whose shorter side has this many pixels is "1080p and up".
constexpr int kHdShortSide = 1080;
// The VBV cap at 1080x1920: what the platforms recommend uploading at
// (YouTube: 8 Mb/s for 1080p30 SDR) with headroom, so that a busy scene
// does not blow past what TikTok and Reels accept. Other sizes scale it by
// their pixels to the power 0.75 (720x1280 gets about 5.4 Mb/s), since
// bits needed grow slower than pixels; never under kMinMaxrateKbps.
constexpr double kHdMaxrateKbps = 10000;
constexpr double kHdPixels = 1080.0 * 1920.0;
constexpr int kMinMaxrateKbps = 1000;
constexpr int kDefaultCrf = 20;

int Even(double v) { return std::max(2, static_cast<int>(std::floor(v / 2.0)) * 2); }

struct Size {
  int w = 0, h = 0;
};

// media.width/height are the display size (probe applies rotation and
// sample aspect ratio), the space crops are given in.
Size DisplaySize(const db::MediaRow& m) {
  return {static_cast<int>(m.width.value_or(0)), static_cast<int>(m.height.value_or(0))};
}

Result<double> Number(const nlohmann::json& v, const std::string& what) {
  if (!v.is_number()) return Status::InvalidArgument(what + " must be a number");
  double d = v.get<double>();
  if (!std::isfinite(d)) return Status::InvalidArgument(what + " must be finite");
  return d;
}

Result<nlohmann::json> ParseRanges(const nlohmann::json& request, const db::MediaRow& media,
                                   const std::optional<db::ClipCandidateRow>& clip) {
  const double duration = media.duration_s.value_or(0);
  if (duration <= 0) return Status::InvalidArgument("video " + media.video_id + " has no known duration");
  nlohmann::json raw;
  if (clip) {
    if (request.contains("ranges")) return Status::InvalidArgument("give clip_id or ranges, not both");
    raw = nlohmann::json::array({nlohmann::json::array({clip->start_s, clip->end_s})});
  } else {
    if (!request.contains("ranges")) return Status::InvalidArgument("give clip_id or ranges ([[start_s, end_s], ...])");
    raw = request["ranges"];
  }
  if (!raw.is_array() || raw.empty() || raw.size() > kMaxRanges) {
    return Status::InvalidArgument("ranges must be a list of 1 to " + std::to_string(kMaxRanges) +
                                   " [start_s, end_s] pairs");
  }
  nlohmann::json out = nlohmann::json::array();
  double total = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    const auto& r = raw[i];
    std::string what = "ranges[" + std::to_string(i) + "]";
    nlohmann::json a, b, sp = 1.0;
    if (r.is_array() && (r.size() == 2 || r.size() == 3)) {
      a = r[0];
      b = r[1];
      if (r.size() == 3) sp = r[2];
    } else if (r.is_object() && r.contains("start_s") && r.contains("end_s")) {
      a = r["start_s"];
      b = r["end_s"];
      if (r.contains("speed")) sp = r["speed"];
    } else {
      return Status::InvalidArgument(what + " must be [start_s, end_s] or [start_s, end_s, speed]");
    }
    CUTROOM_ASSIGN_OR_RETURN(double start, Number(a, what + " start"));
    CUTROOM_ASSIGN_OR_RETURN(double end, Number(b, what + " end"));
    CUTROOM_ASSIGN_OR_RETURN(double speed, Number(sp, what + " speed"));
    if (speed < 0.5 || speed > 2.0) return Status::InvalidArgument(what + " speed must be 0.5 to 2.0");
    if (start < 0) return Status::InvalidArgument(what + " starts before the media (" + std::to_string(start) + " s)");
    if (end <= start) return Status::InvalidArgument(what + " is empty or reversed (end must be after start)");
    // A range may end a frame past the end (rounding); further is a mistake.
    if (end > duration + 0.05) {
      return Status::InvalidArgument(what + " ends at " + std::to_string(end) + " s, after the end of the media (" +
                                     std::to_string(duration) + " s)");
    }
    end = std::min(end, duration);
    if (end - start < 0.1) return Status::InvalidArgument(what + " is shorter than 0.1 s");
    total += end - start;
    // The old two-element shape stays for speed 1, so stored specs keep
    // their meaning.
    if (speed == 1.0) {
      out.push_back({start, end});
    } else {
      out.push_back({start, end, speed});
    }
  }
  if (total > kMaxEditSeconds) {
    return Status::InvalidArgument("the ranges add up to " + std::to_string(total) + " s; at most " +
                                   std::to_string(static_cast<int>(kMaxEditSeconds)) + " s");
  }
  return out;
}

Result<std::string> StringField(const nlohmann::json& request, const char* key, const std::string& fallback) {
  if (!request.contains(key) || request[key].is_null()) return fallback;
  if (!request[key].is_string()) return Status::InvalidArgument(std::string(key) + " must be a string");
  return request[key].get<std::string>();
}

}  // namespace

Result<nlohmann::json> BuildEditSpec(const nlohmann::json& request, const db::MediaRow& media,
                                     const std::optional<db::ClipCandidateRow>& clip, bool has_transcript) {
  if (!request.is_object()) return Status::InvalidArgument("the edit request must be a JSON object");
  static const char* const kKnown[] = {"video_id", "clip_id", "ranges", "aspect", "reframe",
                                       "captions", "output",  "title",  "audio"};
  for (const auto& [key, value] : request.items()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return Status::InvalidArgument("unknown field '" + key +
                                     "' (video_id, clip_id, ranges, aspect, reframe, captions, output, title, audio)");
    }
  }
  nlohmann::json spec;
  nlohmann::json notes = nlohmann::json::array();
  CUTROOM_ASSIGN_OR_RETURN(spec["ranges"], ParseRanges(request, media, clip));
  const bool has_video = media.media_type.value_or("video") != "audio";
  const bool has_audio = media.audio_codec.has_value();

  CUTROOM_ASSIGN_OR_RETURN(std::string aspect, StringField(request, "aspect", "9:16"));
  const AspectInfo* info = nullptr;
  for (const auto& a : kAspects) {
    if (aspect == a.name) info = &a;
  }
  if (!info && aspect != "source") return Status::InvalidArgument("aspect must be 9:16, 1:1, 16:9 or source");
  CUTROOM_ASSIGN_OR_RETURN(std::string reframe, StringField(request, "reframe", "auto"));
  if (reframe != "auto" && reframe != "face" && reframe != "center" && reframe != "fit") {
    return Status::InvalidArgument("reframe must be auto, face, center or fit");
  }
  spec["aspect"] = aspect;
  spec["reframe"] = reframe;

  // The crop: the widest window of the aspect inside the picture.
  Size src = DisplaySize(media);
  spec["crop"] = nullptr;
  Size frame = src;
  if (has_video && info && src.w > 0 && src.h > 0) {
    double a = static_cast<double>(info->num) / info->den;
    Size crop;
    if (static_cast<double>(src.w) / src.h > a) {
      crop = {Even(src.h * a), Even(src.h)};
    } else {
      crop = {Even(src.w), Even(src.w / a)};
    }
    crop.w = std::min(crop.w, src.w - src.w % 2);
    crop.h = std::min(crop.h, src.h - src.h % 2);
    if (std::abs(crop.w - src.w) > 2 || std::abs(crop.h - src.h) > 2) {
      spec["crop"] = {{"width", crop.w}, {"height", crop.h}};
      frame = crop;
    }
  }
  if (!has_video) notes.push_back("audio only: the clip is an audiogram (waveform) at the requested aspect");
  if (has_video && spec["crop"].is_null()) spec["reframe"] = "center";

  // Output: given, the aspect's platform size (enlarged when the crop is
  // smaller), or with size "native" the aspect's standard size never
  // enlarged.
  nlohmann::json output = request.value("output", nlohmann::json::object());
  if (!output.is_object()) return Status::InvalidArgument("output must be an object");
  for (const auto& [key, value] : output.items()) {
    if (key != "width" && key != "height" && key != "crf" && key != "fps" && key != "preset" && key != "size" &&
        key != "maxrate_kbps") {
      return Status::InvalidArgument("unknown output field '" + key +
                                     "' (width, height, size, crf, maxrate_kbps, fps, preset)");
    }
  }
  std::string size_mode = "platform";
  if (output.contains("size")) {
    if (!output["size"].is_string() || (output["size"] != "platform" && output["size"] != "native")) {
      return Status::InvalidArgument("output.size must be platform or native");
    }
    size_mode = output["size"].get<std::string>();
  }
  int out_w = 0, out_h = 0;
  if (output.contains("width") || output.contains("height")) {
    if (!output.contains("width") || !output.contains("height") || !output["width"].is_number_integer() ||
        !output["height"].is_number_integer()) {
      return Status::InvalidArgument("output.width and output.height go together, as integers");
    }
    out_w = output["width"].get<int>();
    out_h = output["height"].get<int>();
    if (out_w < kMinSide || out_h < kMinSide || out_w > kMaxSide || out_h > kMaxSide || out_w % 2 || out_h % 2) {
      return Status::InvalidArgument("output size must be even numbers from 16 to 4096, got " +
                                     std::to_string(out_w) + "x" + std::to_string(out_h));
    }
  } else if (info && (size_mode == "platform" || !has_video)) {
    // An audiogram has no pixels to enlarge: it takes the platform size too.
    const bool hd = has_video && std::min(src.w, src.h) >= kHdShortSide;
    out_w = hd ? info->hd_w : info->sd_w;
    out_h = hd ? info->hd_h : info->sd_h;
  } else {
    Size std_size = info ? Size{info->sd_w, info->sd_h} : frame;
    if (!info) {
      double shrink = std::min(1.0, 1920.0 / std::max(1, std::max(frame.w, frame.h)));
      std_size = {Even(frame.w * shrink), Even(frame.h * shrink)};
    }
    double scale = (has_video && frame.h > 0) ? std::min(1.0, static_cast<double>(frame.h) / std_size.h) : 1.0;
    out_w = std::max(kMinSide, Even(std_size.w * scale));
    out_h = std::max(kMinSide, Even(std_size.h * scale));
  }
  int maxrate = std::max(kMinMaxrateKbps, static_cast<int>(std::lround(kHdMaxrateKbps * std::pow(
                                                                      static_cast<double>(out_w) * out_h / kHdPixels, 0.75))));
  if (output.contains("maxrate_kbps")) {
    if (!output["maxrate_kbps"].is_number_integer() || output["maxrate_kbps"].get<int>() < 0 ||
        output["maxrate_kbps"].get<int>() > 100000) {
      return Status::InvalidArgument("output.maxrate_kbps must be an integer from 0 (no cap) to 100000");
    }
    maxrate = output["maxrate_kbps"].get<int>();
  }
  int crf = kDefaultCrf;
  if (output.contains("crf")) {
    if (!output["crf"].is_number_integer() || output["crf"].get<int>() < 0 || output["crf"].get<int>() > 51) {
      return Status::InvalidArgument("output.crf must be an integer from 0 to 51");
    }
    crf = output["crf"].get<int>();
  }
  double fps = 0;
  if (output.contains("fps")) {
    CUTROOM_ASSIGN_OR_RETURN(fps, Number(output["fps"], "output.fps"));
    if (fps < 0 || fps > 120) return Status::InvalidArgument("output.fps must be 0 (the source's) to 120");
  }
  std::string preset = output.value("preset", std::string("veryfast"));
  static const char* const kPresets[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                         "medium",    "slow",      "slower",   "veryslow"};
  if (std::find(std::begin(kPresets), std::end(kPresets), preset) == std::end(kPresets)) {
    return Status::InvalidArgument("output.preset must be an x264 preset (ultrafast ... veryslow)");
  }
  spec["output"] = {{"width", out_w}, {"height", out_h},    {"size", size_mode}, {"crf", crf},
                    {"maxrate_kbps", maxrate}, {"fps", fps}, {"preset", preset}};

  // Captions: on unless false; the style is checked now.
  nlohmann::json captions = request.contains("captions") ? request["captions"] : nlohmann::json::object();
  if (captions.is_boolean()) captions = captions.get<bool>() ? nlohmann::json::object() : nlohmann::json(false);
  if (!captions.is_object() && !(captions.is_boolean() && !captions.get<bool>())) {
    return Status::InvalidArgument("captions must be a style object, true or false");
  }
  if (captions.is_object()) {
    CUTROOM_RETURN_IF_ERROR(CaptionStyleFromJson(captions, out_w, out_h).status().WithContext("captions"));
    if (!has_audio) {
      notes.push_back("the media has no audio: captions off");
      captions = false;
    } else if (!has_transcript) {
      notes.push_back("no transcript yet: captions off (POST /process/transcription first)");
      captions = false;
    }
  }
  spec["captions"] = captions;

  // A title burned in over the first seconds, and loudness normalisation.
  spec["title"] = nullptr;
  if (request.contains("title") && !request["title"].is_null()) {
    const auto& t = request["title"];
    if (!t.is_object() || !t.contains("text") || !t["text"].is_string()) {
      return Status::InvalidArgument("title must be {\"text\": \"...\", \"duration_s\": 3}");
    }
    std::string text = t["text"].get<std::string>();
    if (text.empty() || text.size() > 200) return Status::InvalidArgument("title.text must be 1 to 200 characters");
    double duration = 3;
    if (t.contains("duration_s")) {
      CUTROOM_ASSIGN_OR_RETURN(duration, Number(t["duration_s"], "title.duration_s"));
    }
    if (duration < 0.5 || duration > 15) return Status::InvalidArgument("title.duration_s must be 0.5 to 15");
    spec["title"] = {{"text", text}, {"duration_s", duration}};
  }
  nlohmann::json audio = {{"normalize", false}, {"target_lufs", -14.0}};
  if (request.contains("audio") && !request["audio"].is_null()) {
    const auto& a = request["audio"];
    if (!a.is_object()) return Status::InvalidArgument("audio must be {\"normalize\": bool, \"target_lufs\": -14}");
    for (const auto& [key, value] : a.items()) {
      if (key != "normalize" && key != "target_lufs") {
        return Status::InvalidArgument("unknown audio field '" + key + "' (normalize, target_lufs)");
      }
    }
    if (a.contains("normalize")) {
      if (!a["normalize"].is_boolean()) return Status::InvalidArgument("audio.normalize must be true or false");
      audio["normalize"] = a["normalize"];
    }
    if (a.contains("target_lufs")) {
      CUTROOM_ASSIGN_OR_RETURN(double lufs, Number(a["target_lufs"], "audio.target_lufs"));
      if (lufs < -70 || lufs > -5) return Status::InvalidArgument("audio.target_lufs must be -70 to -5");
      audio["target_lufs"] = lufs;
    }
  }
  if (audio["normalize"].get<bool>() && !has_audio) {
    notes.push_back("the media has no audio: nothing to normalise");
    audio["normalize"] = false;
  }
  spec["audio"] = audio;
  spec["notes"] = notes;
  return spec;
}

Result<CreatedEdit> CreateEditJob(db::Database& db, Env* env, IdGenerator* ids, jobs::JobQueue& queue,
                                  const std::string& owner_id, const nlohmann::json& request) {
  if (!request.is_object()) return Status::InvalidArgument("the edit request must be a JSON object");
  db::Repositories repos(db, env, ids);
  std::optional<db::ClipCandidateRow> clip;
  std::string video_id = request.value("video_id", std::string());
  if (request.contains("clip_id")) {
    if (!request["clip_id"].is_string()) return Status::InvalidArgument("clip_id must be a string");
    std::string clip_id = request["clip_id"].get<std::string>();
    auto c = repos.clip_candidates.Get(clip_id);
    // Another owner's clip reads as a missing one (its video stays unnamed).
    auto clip_media = c.ok() ? repos.media.Get(c->video_id) : Result<db::MediaRow>(c.status());
    if (!c.ok() || !clip_media.ok() || clip_media->owner_id != owner_id) {
      return Status::NotFound("clip " + clip_id + " does not exist");
    }
    if (!video_id.empty() && c->video_id != video_id) {
      return Status::NotFound("clip " + clip_id + " is not a clip of video " + video_id);
    }
    video_id = c->video_id;
    clip = *c;
  }
  if (video_id.empty()) return Status::InvalidArgument("give video_id (with ranges) or clip_id");
  auto media = repos.media.Get(video_id);
  if (!media.ok() || media->owner_id != owner_id) return Status::NotFound("video " + video_id + " does not exist");
  if (media->status != "ready") return Status::FailedPrecondition("video " + video_id + " is " + media->status);
  bool has_transcript = analysis::LoadTranscript(db, env, ids, video_id).ok();
  CUTROOM_ASSIGN_OR_RETURN(nlohmann::json spec, BuildEditSpec(request, *media, clip, has_transcript));

  db::EditJobRow row;
  row.video_id = video_id;
  row.owner_id = owner_id;
  if (clip) row.clip_candidate_id = clip->clip_id;
  row.spec = spec;
  CUTROOM_ASSIGN_OR_RETURN(row, repos.edit_jobs.Insert(row));
  jobs::EnqueueRequest req;
  req.kind = "render";
  req.video_id = video_id;
  req.owner_id = owner_id;
  req.params = {{"edit_job_id", row.edit_job_id}};
  auto job = queue.Enqueue(req);
  if (!job.ok()) {
    repos.edit_jobs.Delete(row.edit_job_id).IgnoreError();
    return job.status();
  }
  row.job_id = job->job_id;
  CUTROOM_ASSIGN_OR_RETURN(row, repos.edit_jobs.Update(row));
  return CreatedEdit{row, *job};
}

namespace {

// One frame sampled in the ranges: its faces and, against the sample
// before it in the same range, how much changed and where.
struct FrameSample {
  double t_out = 0;  // output time
  double t_src = 0;  // source time
  size_t range = 0;
  std::vector<FaceBox> boxes;
  bool faces_measured = false;  // false: a settled faceless scene's sample nobody searched
  double motion = -1;           // mean absolute difference of the small copies, 0..1; -1: first of its range
  std::vector<double> columns;  // that difference summed per column of cells
  std::vector<double> rows;     // ... per row
};

// A gray frame shrunk to cells of kMotionCells columns by averaging.
struct Cells {
  int w = 0, h = 0;
  std::vector<float> v;
};

Cells ShrinkToCells(const media::VideoFrame& f) {
  Cells c;
  c.w = std::min(kMotionCells, std::max(1, f.width));
  c.h = std::max(1, static_cast<int>(std::lround(static_cast<double>(c.w) * f.height / std::max(1, f.width))));
  c.h = std::min(c.h, std::max(1, f.height));
  c.v.assign(static_cast<size_t>(c.w) * c.h, 0.0f);
  std::vector<int> count(c.v.size(), 0);
  for (int y = 0; y < f.height; ++y) {
    const int cy = std::min(c.h - 1, y * c.h / f.height);
    const uint8_t* row = f.pixels.data() + static_cast<size_t>(y) * f.width;
    for (int x = 0; x < f.width; ++x) {
      const size_t i = static_cast<size_t>(cy) * c.w + std::min(c.w - 1, x * c.w / f.width);
      c.v[i] += row[x];
      ++count[i];
    }
  }
  for (size_t i = 0; i < c.v.size(); ++i) c.v[i] /= static_cast<float>(std::max(1, count[i]));
  return c;
}

void MeasureMotion(const Cells& before, const Cells& now, FrameSample& s) {
  if (before.w != now.w || before.h != now.h || now.v.empty()) return;
  s.columns.assign(now.w, 0.0);
  s.rows.assign(now.h, 0.0);
  double sum = 0;
  for (int y = 0; y < now.h; ++y) {
    for (int x = 0; x < now.w; ++x) {
      const size_t i = static_cast<size_t>(y) * now.w + x;
      const double d = std::fabs(static_cast<double>(now.v[i]) - before.v[i]) / 255.0;
      s.columns[x] += d;
      s.rows[y] += d;
      sum += d;
    }
  }
  s.motion = sum / static_cast<double>(now.v.size());
}

// Which layout scene a sample lies in, for sampling that searches a
// scene in full only where probes found faces (kProbeEvery). Without it,
// every sample is searched.
struct FaceProbing {
  // The scene's key for a sample of range k at source time t; nullptr
  // outside every piece (such samples are always searched).
  std::function<const std::string*(size_t k, double t_src)> scene_of;
  // What the frames stage saw of a scene: frames and those with a face,
  // counted with the probes.
  struct Seen {
    int frames = 0, with_face = 0;
  };
  std::map<std::string, Seen> frames_stage;
};

// Frames sampled in every range along the output timeline, with their
// faces and motion.
Result<std::vector<FrameSample>> SampleFrames(jobs::JobContext& ctx, const std::string& path,
                                              const std::vector<TimeRange>& ranges, double total,
                                              const FaceProbing* probing = nullptr) {
  media::DecodeOptions opts;
  opts.format = media::PixelFormat::kGray8;
  CUTROOM_ASSIGN_OR_RETURN(auto probe, media::VideoDecoder::Open(path, opts));
  opts.width = std::min(kFaceAnalysisWidth, std::max(2, probe->info().display_width));
  probe.reset();
  CUTROOM_ASSIGN_OR_RETURN(auto decoder, media::VideoDecoder::Open(path, opts));
  // Every sample first (times only), so that searches running on the
  // pool's threads can write into their sample while this thread decodes.
  const double step = std::max(1.0 / kFaceSampleRate, total / kMaxFaceSamples);
  std::vector<FrameSample> samples;
  std::vector<const std::string*> scene_of_sample;
  {
    double offset = 0;
    for (size_t k = 0; k < ranges.size(); ++k) {
      const TimeRange& r = ranges[k];
      for (double t = r.start_s; t < r.end_s; t += step) {
        FrameSample s;
        s.t_out = offset + (t - r.start_s) / r.speed;
        s.t_src = t;
        s.range = k;
        samples.push_back(std::move(s));
        scene_of_sample.push_back(probing ? probing->scene_of(k, t) : nullptr);
      }
      offset += r.duration_s();
    }
  }
  analysis::FaceDetectorOptions face_options;
  face_options.analysis_width = std::max(face_options.analysis_width, opts.width);
  // Declared after samples: destroyed first, so no search outlives them.
  const int threads = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 4);
  CUTROOM_ASSIGN_OR_RETURN(auto searches, analysis::FaceSearchPool::Open(face_options, threads));
  // Queues the search of sample i's frame in regions (empty: the whole
  // frame); sample i is the pool's until the next Wait.
  auto search = [&](size_t i, media::VideoFrame frame, std::vector<analysis::FaceSearchRegion> regions = {}) {
    return searches->Submit(std::move(frame), std::move(regions), [&samples, i](std::vector<analysis::FaceBox> faces) {
      FrameSample& s = samples[i];
      for (const auto& f : faces) s.boxes.push_back({f.nx, f.ny, f.nwidth, f.nheight});
      s.faces_measured = true;
    });
  };
  struct Probes {
    int samples = 0, probes = 0, with_face = 0;
  };
  std::map<std::string, Probes> probes;
  std::vector<bool> probed(samples.size());
  // Pass 1: every sample's motion, and faces in the probes.
  Cells before;
  for (size_t i = 0; i < samples.size(); ++i) {
    CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
    FrameSample& s = samples[i];
    CUTROOM_ASSIGN_OR_RETURN(media::VideoFrame frame, decoder->FrameAt(s.t_src));
    if (i == 0 || samples[i - 1].range != s.range) before = Cells{};
    Cells now = ShrinkToCells(frame);
    MeasureMotion(before, now, s);
    before = std::move(now);
    ctx.SetProgress(0.02 + 0.09 * std::min(1.0, (s.t_out + step) / std::max(total, 1e-3)));
    const std::string* scene = scene_of_sample[i];
    bool probe = true;
    if (scene) {
      Probes& p = probes[*scene];
      probe = p.samples++ % kProbeEvery == 0;
      p.probes += probe;
    }
    probed[i] = probe;
    if (probe) CUTROOM_RETURN_IF_ERROR(search(i, std::move(frame)));
  }
  CUTROOM_RETURN_IF_ERROR(searches->Wait());
  for (size_t i = 0; i < samples.size(); ++i) {
    if (probed[i] && scene_of_sample[i]) probes[*scene_of_sample[i]].with_face += !samples[i].boxes.empty();
  }
  // Pass 2: the rest of every scene the probes did not settle as faceless.
  std::vector<size_t> rest;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (samples[i].faces_measured) continue;
    const Probes& p = probes[*scene_of_sample[i]];
    auto seen = probing->frames_stage.find(*scene_of_sample[i]);
    const FaceProbing::Seen stage = seen != probing->frames_stage.end() ? seen->second : FaceProbing::Seen{};
    const bool settled = p.probes >= kMinProbes &&
                         p.with_face + stage.with_face < kSettledFaceShare * (p.probes + stage.frames);
    if (!settled) rest.push_back(i);
  }
  // Between two probes at most kProbeEvery - 1 samples (a fraction of a
  // second) apart, a face lies near where the probes on either side saw
  // it, or on the way between the two: those samples are searched only
  // there (FaceDetector::DetectIn, a small share of a full search), the
  // others in full. A face that appears between two probes and is gone by
  // the next is missed; nothing holds the crop on it that briefly anyway.
  auto in_pixels = [](const FaceBox& b, const media::VideoFrame& frame) {
    analysis::FaceBox px;
    px.x = static_cast<int>(std::lround(b.x * frame.width));
    px.y = static_cast<int>(std::lround(b.y * frame.height));
    px.width = std::max(1, static_cast<int>(std::lround(b.w * frame.width)));
    px.height = std::max(1, static_cast<int>(std::lround(b.h * frame.height)));
    return px;
  };
  auto regions_near = [&](size_t i, const media::VideoFrame& frame) {
    // Neighbours in the same range and scene: across a cut the faces are
    // somebody else's.
    auto same_shot = [&](size_t j) {
      const std::string *a = scene_of_sample[j], *b = scene_of_sample[i];
      return samples[j].range == samples[i].range && (a && b ? *a == *b : a == b);
    };
    const FrameSample *before = nullptr, *after = nullptr;
    for (size_t j = i; j-- > 0 && same_shot(j);) {
      if (probed[j]) {
        before = &samples[j];
        break;
      }
    }
    for (size_t j = i + 1; j < samples.size() && same_shot(j); ++j) {
      if (probed[j]) {
        after = &samples[j];
        break;
      }
    }
    auto faces_of = [&](const FrameSample* probe) {
      std::vector<analysis::FaceBox> out;
      for (const FaceBox& b : probe ? probe->boxes : std::vector<FaceBox>{}) out.push_back(in_pixels(b, frame));
      return out;
    };
    return analysis::RegionsBetween(faces_of(before), faces_of(after));
  };
  int near_searches = 0;
  for (size_t n = 0; n < rest.size(); ++n) {
    CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
    CUTROOM_ASSIGN_OR_RETURN(media::VideoFrame frame, decoder->FrameAt(samples[rest[n]].t_src));
    std::vector<analysis::FaceSearchRegion> regions = regions_near(rest[n], frame);
    near_searches += !regions.empty();
    CUTROOM_RETURN_IF_ERROR(search(rest[n], std::move(frame), std::move(regions)));
    ctx.SetProgress(0.11 + 0.04 * static_cast<double>(n + 1) / static_cast<double>(rest.size()));
  }
  CUTROOM_RETURN_IF_ERROR(searches->Wait());
  const size_t probes_searched = std::count(probed.begin(), probed.end(), true);
  ctx.Log("info", "faces searched in " + std::to_string(probes_searched + rest.size()) + " of " +
                      std::to_string(samples.size()) + " samples (" + std::to_string(near_searches) +
                      " only near a neighbour's faces)",
          {{"samples", samples.size()},
           {"full_searches", static_cast<int64_t>(probes_searched + rest.size()) - near_searches},
           {"near_searches", near_searches}});
  return samples;
}

std::vector<FaceSample> FaceSamples(const std::vector<FrameSample>& samples, double from_out, double to_out) {
  std::vector<FaceSample> out;
  for (const auto& s : samples) {
    if (s.faces_measured && s.t_out >= from_out && s.t_out < to_out) out.push_back({s.t_out - from_out, s.boxes});
  }
  return out;
}

double Ms(double v) { return std::round(v * 1000) / 1000; }

// One stretch of the output that lies in one scene of the source.
struct LayoutPiece {
  double src_start = 0, src_end = 0, out_start = 0, out_end = 0;
  size_t range = 0;
  std::string scene;  // the scene's key: its id, or the range's when scenes are unknown
  LayoutChoice choice;
};

// reframe auto: cuts the ranges at the scene cuts, gathers what each
// scene shows (the frames stage's rows, this render's samples, and OCR of
// a few frames where the frames stage read none), chooses each scene's
// layout (reframe/layout.h), and turns the choices into the renderer's
// layout segments and crop path.
Result<std::vector<LayoutPiece>> PlanAutoLayout(jobs::JobContext& ctx, const db::MediaRow& media,
                                                const std::string& path, const std::vector<TimeRange>& ranges,
                                                double total, RenderSpec& rs) {
  const jobs::JobServices& s = ctx.services();
  CUTROOM_ASSIGN_OR_RETURN(EditIndex index, LoadEditIndex(*s.db, s.env, s.ids, media, {}));
  std::vector<LayoutPiece> pieces;
  double offset = 0;
  for (size_t k = 0; k < ranges.size(); ++k) {
    const TimeRange& r = ranges[k];
    std::vector<double> cuts = {r.start_s};
    for (const auto& scene : index.scenes) {
      if (scene.start_s - r.start_s >= kMinLayoutPieceS && r.end_s - scene.start_s >= kMinLayoutPieceS) {
        cuts.push_back(scene.start_s);
      }
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.push_back(r.end_s);
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      LayoutPiece p;
      p.range = k;
      p.src_start = cuts[i];
      p.src_end = cuts[i + 1];
      p.out_start = offset + (p.src_start - r.start_s) / r.speed;
      p.out_end = offset + (p.src_end - r.start_s) / r.speed;
      const double mid = (p.src_start + p.src_end) / 2;
      p.scene = "range " + std::to_string(k + 1);
      for (const auto& scene : index.scenes) {
        if (mid >= scene.start_s && mid < scene.end_s) p.scene = scene.id;
      }
      pieces.push_back(std::move(p));
    }
    offset += r.duration_s();
  }

  auto piece_at = [&](size_t range, double t_src) -> const LayoutPiece* {
    for (const auto& p : pieces) {
      if (p.range == range && t_src >= p.src_start && t_src < p.src_end) return &p;
    }
    return nullptr;
  };
  auto piece_of = [&](const FrameSample& x) { return piece_at(x.range, x.t_src); };
  FaceProbing probing;
  probing.scene_of = [&](size_t range, double t_src) -> const std::string* {
    const LayoutPiece* p = piece_at(range, t_src);
    return p ? &p->scene : nullptr;
  };
  for (const auto& scene : index.scenes) {
    if (scene.faces_measured) probing.frames_stage[scene.id] = {scene.frames, scene.frames_with_faces};
  }
  CUTROOM_ASSIGN_OR_RETURN(auto samples, SampleFrames(ctx, path, ranges, total, &probing));
  const Size src = DisplaySize(media);
  // The crop window slides along the axis where it is smaller than the frame.
  const bool columns = rs.crop_width < src.w;
  const double window = columns ? static_cast<double>(rs.crop_width) / src.w : static_cast<double>(rs.crop_height) / src.h;

  std::map<std::string, SceneEvidence> evidence;
  std::map<std::string, int> motion_samples;
  std::map<std::string, std::vector<double>> ocr_times;  // source times to read, per scene
  for (const auto& x : samples) {
    const LayoutPiece* p = piece_of(x);
    if (!p) continue;
    SceneEvidence& e = evidence[p->scene];
    // A settled faceless scene counts the probes it searched.
    e.face_frames += x.faces_measured;
    e.with_face += !x.boxes.empty();
    e.with_big_face += std::any_of(x.boxes.begin(), x.boxes.end(), [](const FaceBox& b) { return b.h >= kBigFaceHeight; });
    if (x.motion >= 0) {
      e.motion = std::max(0.0, e.motion) + x.motion;
      ++motion_samples[p->scene];
      const auto& profile = columns ? x.columns : x.rows;
      if (e.motion_profile.size() != profile.size()) e.motion_profile.assign(profile.size(), 0.0);
      for (size_t i = 0; i < profile.size(); ++i) e.motion_profile[i] += profile[i];
    }
    ocr_times[p->scene].push_back(x.t_src);
  }
  for (auto& [key, e] : evidence) {
    if (motion_samples[key] > 0) e.motion /= motion_samples[key];
  }
  // What the frames stage saw of the whole scene.
  for (const auto& scene : index.scenes) {
    auto it = evidence.find(scene.id);
    if (it == evidence.end() || scene.frames == 0) continue;
    SceneEvidence& e = it->second;
    if (scene.faces_measured) {
      e.face_frames += scene.frames;
      e.with_face += scene.frames_with_faces;
    }
    if (scene.ocr_measured) {
      e.text_frames = scene.frames;
      e.with_text = scene.frames_with_text;
      ocr_times.erase(scene.id);
    }
    if (e.motion < 0 && scene.frames >= 2) e.motion = scene.mean_motion;
  }
  // Text where the frames stage read none: a few frames per scene, spread
  // over its samples.
  int ocr_budget = kMaxOcrFrames;
  std::unique_ptr<analysis::OcrEngine> ocr;
  std::unique_ptr<media::VideoDecoder> decoder;
  for (auto& [key, times] : ocr_times) {
    if (times.empty() || ocr_budget <= 0) continue;
    if (!ocr) {
      auto engine = analysis::OcrEngine::Open();
      if (!engine.ok()) {
        ctx.Log("warning", "layout: no OCR (" + engine.status().ToString() + "); text on screen is not measured");
        break;
      }
      ocr = std::move(engine).value();
      media::DecodeOptions opts;
      opts.format = media::PixelFormat::kGray8;
      opts.width = std::min(kFaceAnalysisWidth, std::max(2, src.w));
      CUTROOM_ASSIGN_OR_RETURN(decoder, media::VideoDecoder::Open(path, opts));
    }
    const int n = std::min<int>({kOcrFramesPerScene, static_cast<int>(times.size()), ocr_budget});
    SceneEvidence& e = evidence[key];
    for (int i = 0; i < n; ++i) {
      CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
      const double t = times[static_cast<size_t>((2 * i + 1) * times.size() / (2 * n))];
      CUTROOM_ASSIGN_OR_RETURN(media::VideoFrame frame, decoder->FrameAt(t));
      CUTROOM_ASSIGN_OR_RETURN(analysis::OcrResult read, ocr->Recognize(frame));
      const auto letters = std::count_if(read.text.begin(), read.text.end(),
                                         [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
      ++e.text_frames;
      e.with_text += letters >= kTextChars;
      --ocr_budget;
    }
  }

  std::map<std::string, LayoutChoice> choices;
  for (const auto& [key, e] : evidence) choices[key] = ChooseSceneLayout(e, window);
  ReframeOptions ro;
  ro.source_width = src.w;
  ro.source_height = src.h;
  ro.crop_width = rs.crop_width;
  ro.crop_height = rs.crop_height;
  for (auto& p : pieces) {
    auto it = choices.find(p.scene);
    // A piece too short to hold a sample takes its scene's choice from
    // elsewhere in the clip, or, with none, the whole picture.
    p.choice = it != choices.end() ? it->second : LayoutChoice{SceneLayout::kFit, "no frame sampled in it", -1};
    const bool fit = p.choice.layout == SceneLayout::kFit;
    if (rs.layout.empty() || (rs.layout.back().mode == LayoutMode::kFit) != fit) {
      rs.layout.push_back({p.out_start, fit ? LayoutMode::kFit : LayoutMode::kCrop});
    }
    if (p.choice.layout == SceneLayout::kFace) {
      ro.duration_s = p.out_end - p.out_start;
      for (CropKey key : PlanCropPath(FaceSamples(samples, p.out_start, p.out_end), ro)) {
        key.t_s += p.out_start;
        rs.crop_path.push_back(key);
      }
    } else if (p.choice.layout == SceneLayout::kCenter) {
      CropKey key;
      key.x = (src.w - rs.crop_width) / 2;
      key.y = (src.h - rs.crop_height) / 2;
      if (columns) {
        key.x = std::clamp(static_cast<int>(std::lround(p.choice.center * src.w - rs.crop_width / 2.0)), 0,
                           src.w - rs.crop_width);
      } else {
        key.y = std::clamp(static_cast<int>(std::lround(p.choice.center * src.h - rs.crop_height / 2.0)), 0,
                           src.h - rs.crop_height);
      }
      key.t_s = p.out_start;
      rs.crop_path.push_back(key);
      key.t_s = p.out_end;
      rs.crop_path.push_back(key);
    }
  }
  if (!rs.layout.empty()) rs.layout.front().start_s = 0;
  return pieces;
}

nlohmann::json LayoutJson(const std::vector<LayoutPiece>& pieces) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : pieces) {
    out.push_back({{"start_s", Ms(p.out_start)},
                   {"end_s", Ms(p.out_end)},
                   {"source_start_s", Ms(p.src_start)},
                   {"source_end_s", Ms(p.src_end)},
                   {"mode", SceneLayoutName(p.choice.layout)},
                   {"why", p.choice.why}});
  }
  return out;
}

Status SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("cannot open " + path + " to sync it");
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Status::IOError("fsync " + path + " failed");
}

Status Render(jobs::JobContext& ctx, const db::EditJobRow& edit, const db::MediaRow& media,
              const std::string& path, const std::string& work_dir, db::VideoAssetRow* asset) {
  const jobs::JobServices& s = ctx.services();
  const nlohmann::json& spec = edit.spec;
  const bool has_video = media.media_type.value_or("video") != "audio";
  std::vector<TimeRange> ranges;
  double total = 0;
  for (const auto& r : spec.at("ranges")) {
    TimeRange range{r[0].get<double>(), r[1].get<double>(), r.size() > 2 ? r[2].get<double>() : 1.0};
    ranges.push_back(range);
    total += range.duration_s();
  }
  RenderSpec rs;
  rs.source_path = path;
  rs.ranges = ranges;
  const auto& out = spec.at("output");
  rs.out_width = out.at("width").get<int>();
  rs.out_height = out.at("height").get<int>();
  rs.crf = out.value("crf", kDefaultCrf);
  // Specs stored before the cap existed have none.
  rs.maxrate_kbps = out.value("maxrate_kbps", 0);
  rs.bufsize_kbps = 2 * rs.maxrate_kbps;
  rs.fps = out.value("fps", 0.0);
  rs.preset = out.value("preset", std::string("veryfast"));
  nlohmann::json layout = nlohmann::json::array();
  const std::string reframe = spec.value("reframe", std::string("center"));
  auto whole = [&](const char* mode, const std::string& why) {
    layout.push_back({{"start_s", 0.0}, {"end_s", Ms(total)}, {"mode", mode}, {"why", why}});
  };
  if (spec.contains("crop") && spec["crop"].is_object()) {
    rs.crop_width = spec["crop"].at("width").get<int>();
    rs.crop_height = spec["crop"].at("height").get<int>();
    if (reframe == "auto") {
      CUTROOM_ASSIGN_OR_RETURN(auto pieces, PlanAutoLayout(ctx, media, path, ranges, total, rs));
      layout = LayoutJson(pieces);
      ctx.Log("info", "layout: " + std::to_string(pieces.size()) + " scene piece(s)", {{"layout", layout}});
    } else if (reframe == "fit") {
      rs.layout = {{0, LayoutMode::kFit}};
      whole("fit", "reframe fit requested");
    } else if (reframe == "center") {
      whole("center", "reframe center requested");
    } else if (reframe == "face") {
      whole("face", "reframe face requested");
      // The whole edit is one "scene" to probe: a clip that shows no face
      // is settled early, one that does is followed sample by sample.
      const std::string whole_edit = "edit";
      FaceProbing probing;
      probing.scene_of = [&](size_t, double) { return &whole_edit; };
      CUTROOM_ASSIGN_OR_RETURN(auto frames, SampleFrames(ctx, path, ranges, total, &probing));
      std::vector<FaceSample> samples = FaceSamples(frames, 0, std::numeric_limits<double>::infinity());
      ReframeOptions ro;
      Size src = DisplaySize(media);
      ro.source_width = src.w;
      ro.source_height = src.h;
      ro.crop_width = rs.crop_width;
      ro.crop_height = rs.crop_height;
      ro.duration_s = total;
      rs.crop_path = PlanCropPath(samples, ro);
      size_t with_faces = std::count_if(samples.begin(), samples.end(), [](const auto& x) { return !x.boxes.empty(); });
      ctx.Log("info", "reframe: faces in " + std::to_string(with_faces) + " of " + std::to_string(samples.size()) +
                          " sampled frames",
              {{"samples", samples.size()}, {"with_faces", with_faces}, {"keys", rs.crop_path.size()}});
    }
  } else if (has_video) {
    whole("center", "the picture already has the output's shape");
  }
  const bool captions = spec.contains("captions") && spec["captions"].is_object();
  AssTitle title;
  if (spec.contains("title") && spec["title"].is_object()) {
    title.text = spec["title"].value("text", std::string());
    title.duration_s = spec["title"].value("duration_s", 3.0);
  }
  if (captions || !title.text.empty()) {
    // Words only when captions are on; a title alone is a document of its own.
    std::vector<analysis::TranscriptWord> words;
    CaptionStyle style = DefaultCaptionStyle(rs.out_width, rs.out_height);
    if (captions) {
      CUTROOM_ASSIGN_OR_RETURN(auto stored, analysis::LoadTranscript(*s.db, s.env, s.ids, media.video_id));
      for (const auto& seg : stored.transcript.segments) words.insert(words.end(), seg.words.begin(), seg.words.end());
      CUTROOM_ASSIGN_OR_RETURN(style, CaptionStyleFromJson(spec["captions"], rs.out_width, rs.out_height));
    }
    rs.ass_path = work_dir + "/captions.ass";
    std::ofstream f(rs.ass_path, std::ios::binary | std::ios::trunc);
    f << BuildAssCaptions(words, ranges, style, rs.out_width, rs.out_height, title);
    if (!f.flush()) return Status::IOError("cannot write " + rs.ass_path);
  }
  if (spec.contains("audio") && spec["audio"].is_object()) {
    rs.normalize_audio = spec["audio"].value("normalize", false);
    rs.target_lufs = spec["audio"].value("target_lufs", -14.0);
  }
  const std::string output = work_dir + "/render.mp4";
  const auto render_start = std::chrono::steady_clock::now();
  CUTROOM_ASSIGN_OR_RETURN(
      RenderResult result,
      edit::Render(rs, output, [&ctx](double f) { ctx.SetProgress(0.15 + 0.8 * f); }, [&ctx] { return ctx.cancelled(); }));
  // Encoder throughput for /metrics: rate(frames) / rate(seconds) is fps.
  Metrics::Global().Add("cutroom_encoded_frames_total", {}, static_cast<double>(result.video_frames));
  Metrics::Global().Add("cutroom_encode_seconds_total", {},
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - render_start).count());
  CUTROOM_RETURN_IF_ERROR(SyncFile(output));
  asset->asset_id = s.ids->Next(kAssetIdPrefix);
  asset->video_id = media.video_id;
  asset->kind = "render";
  asset->storage_key = storage::MakeKey("assets", media.video_id, asset->asset_id + ".mp4");
  asset->mime_type = "video/mp4";
  CUTROOM_ASSIGN_OR_RETURN(int64_t size, s.env->FileSize(output));
  asset->size_bytes = size;
  asset->width = result.width;
  asset->height = result.height;
  asset->duration_s = result.duration_s;
  asset->metadata = {{"edit_job_id", edit.edit_job_id},
                     {"has_audio", result.has_audio},
                     {"frames", result.video_frames},
                     {"captions", captions},
                     {"title", !title.text.empty()},
                     {"normalized_audio", rs.normalize_audio},
                     {"crop_keys", rs.crop_path.size()},
                     {"layout", layout}};
  return s.blobs->AdoptFile(output, asset->storage_key);
}

}  // namespace

Status RunRender(jobs::JobContext& ctx) {
  const jobs::JobServices& s = ctx.services();
  const auto& params = ctx.job().params;
  if (!params.contains("edit_job_id") || !params["edit_job_id"].is_string()) {
    return Status::InvalidArgument("the render job has no edit_job_id");
  }
  const std::string id = params["edit_job_id"].get<std::string>();
  db::Repositories repos(*s.db, s.env, s.ids);
  CUTROOM_ASSIGN_OR_RETURN(auto edit, repos.edit_jobs.Get(id));
  CUTROOM_ASSIGN_OR_RETURN(auto media, repos.media.Get(edit.video_id));
  CUTROOM_ASSIGN_OR_RETURN(analysis::SourceMedia source, analysis::SourceMedia::Open(s, media));
  const std::string& path = source.path();
  edit.status = "running";
  edit.error.reset();
  CUTROOM_ASSIGN_OR_RETURN(edit, repos.edit_jobs.Update(edit));

  std::string work_dir = s.config->GetString("storage.data_dir") + "/tmp/render-" + ctx.job().job_id;
  std::error_code ec;
  std::filesystem::create_directories(work_dir, ec);
  if (ec) return Status::IOError("cannot create " + work_dir + ": " + ec.message());
  db::VideoAssetRow asset;
  Status st = source.Explain(Render(ctx, edit, media, path, work_dir, &asset));
  analysis::LogRemoteReads(ctx, source);
  std::filesystem::remove_all(work_dir, ec);
  if (st.ok()) {
    st = s.db->Transaction([&](db::DbSession& tx) -> Status {
      db::Repositories t(tx, s.env, s.ids);
      CUTROOM_RETURN_IF_ERROR(t.video_assets.Insert(asset).status());
      CUTROOM_ASSIGN_OR_RETURN(auto row, t.edit_jobs.Get(id));
      row.status = "succeeded";
      row.output_asset_id = asset.asset_id;
      // The layout chosen per scene, for the caller to see beside what it asked for.
      if (asset.metadata.contains("layout")) row.spec["layout"] = asset.metadata["layout"];
      row.error.reset();
      CUTROOM_RETURN_IF_ERROR(t.edit_jobs.Update(row).status());
      if (row.clip_candidate_id) {
        CUTROOM_RETURN_IF_ERROR(
            tx.Execute("UPDATE clip_candidates SET status = 'rendered' WHERE clip_id = ?", {*row.clip_candidate_id})
                .status());
      }
      return Status::Ok();
    });
    if (!st.ok()) s.blobs->Delete(asset.storage_key).IgnoreError();
  }
  if (!st.ok()) {
    edit.status = st.code() == StatusCode::kCancelled ? "cancelled" : "failed";
    edit.error = st.ToString();
    repos.edit_jobs.Update(edit).status().IgnoreError();
    if (st.code() != StatusCode::kCancelled) ctx.Log("error", "render failed: " + st.ToString());
    return st;
  }
  ctx.Log("info", "rendered " + std::to_string(asset.width.value_or(0)) + "x" + std::to_string(asset.height.value_or(0)) +
                      ", " + std::to_string(asset.duration_s.value_or(0)) + " s",
          asset.metadata);
  ctx.set_result({{"edit_job_id", id}, {"asset_id", asset.asset_id}});
  return Status::Ok();
}

}  // namespace cutroom::edit
