#include "analysis/retention/retention_stage.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <cstdio>
#include <map>
#include <set>

#include "analysis/source_media.h"
#include "analysis/clips/sentences.h"
#include "analysis/retention/chart.h"
#include "analysis/retention/import.h"
#include "analysis/transcribe/transcript_store.h"
#include "db/tables.h"

namespace cutroom::analysis {
namespace {

using nlohmann::json;

constexpr int64_t kMaxFrames = 20000;
constexpr double kLoudnessStepS = 0.1;
// A predicted drop point is confirmed when the real curve's hazard over
// it stands this far above the real curve's median hazard.
constexpr double kConfirmRatio = 1.5;


std::string Pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100 * v);
  return buf;
}

std::string Clock(double s) {
  char buf[32];
  int m = static_cast<int>(s / 60);
  std::snprintf(buf, sizeof buf, "%d:%04.1f", m, s - 60 * m);
  return buf;
}

json CurveJson(const RetentionCurve& c) {
  json out = json::array();
  for (double v : c.share) out.push_back(std::round(v * 10000) / 10000);
  return out;
}

RetentionCurve CurveFromRow(const db::RetentionAnalysisRow& row) {
  RetentionCurve c;
  c.duration_s = row.duration_s.value_or(0);
  for (const auto& v : row.curve) {
    if (v.is_number()) c.share.push_back(v.get<double>());
  }
  if (c.duration_s <= 0 && !c.share.empty()) c.duration_s = static_cast<double>(c.share.size() - 1);
  return c;
}

// The opening sentence of a stretch of transcript (for hook cues).
std::pair<std::string, char> OpeningOf(const SentenceSplit& split, double start_s) {
  for (const auto& s : split.sentences) {
    if (s.end_s > start_s + 0.05) return {s.text, s.terminal};
  }
  return {"", 0};
}

struct Stored {
  RetentionInputs inputs;
  SentenceSplit sentences;
};

Result<Stored> Load(db::Database& db, Env* env, IdGenerator* ids, const db::MediaRow& media, const std::string& path) {
  Stored st;
  RetentionInputs& in = st.inputs;
  in.duration_s = media.duration_s.value_or(0);
  auto stored = LoadTranscript(db, env, ids, media.video_id);
  if (stored.ok()) {
    in.has_transcript = true;
    for (const auto& seg : stored->transcript.segments) {
      for (const auto& w : seg.words) in.words.push_back({w.start_s, w.end_s});
    }
    std::sort(in.words.begin(), in.words.end(),
              [](const RetentionWord& x, const RetentionWord& y) { return x.start_s < y.start_s; });
    st.sentences = SplitSentences(stored->transcript);
    auto [text, terminal] = OpeningOf(st.sentences, 0);
    in.opening_text = text;
    in.opening_terminal = terminal;
  } else if (!stored.status().IsNotFound()) {
    return stored.status();
  }
  CUTROOM_ASSIGN_OR_RETURN(std::string scenes, db::NewestSucceededRun(db, media.video_id, "scenes"));
  if (!scenes.empty()) {
    in.scenes_known = true;
    CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT start_s FROM scene_index WHERE processing_id = ? AND "
                                                 "scene_no > 0 ORDER BY scene_no",
                                                 {scenes}));
    for (size_t i = 0; i < rows.size(); ++i) in.cuts_s.push_back(rows.Real(i, "start_s").value_or(0));
  }
  CUTROOM_ASSIGN_OR_RETURN(std::string frames, db::NewestSucceededRun(db, media.video_id, "frames"));
  if (!frames.empty()) {
    CUTROOM_ASSIGN_OR_RETURN(auto run, db.Query("SELECT params FROM video_processing WHERE processing_id = ?", {frames}));
    auto params = json::parse(run.empty() ? "{}" : run.Text(0, "params").value_or("{}"), nullptr, false);
    const bool ocr = params.is_object() && params.value("ocr", false);
    CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT ts_s, features, ocr_text FROM frames WHERE processing_id = ? "
                                                 "ORDER BY ts_s LIMIT ?",
                                                 {frames, kMaxFrames}));
    for (size_t i = 0; i < rows.size(); ++i) {
      RetentionFrame f;
      f.t_s = rows.Real(i, "ts_s").value_or(0);
      auto features = json::parse(rows.Text(i, "features").value_or("{}"), nullptr, false);
      if (features.is_object() && features.contains("faces") && features["faces"].is_object()) {
        f.faces_known = true;
        f.faces = features["faces"].value("count", 0);
      }
      if (ocr) {
        f.text_known = true;
        std::string text = rows.Text(i, "ocr_text").value_or("");
        f.text = std::count_if(text.begin(), text.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }) >= 12;
      }
      in.frames.push_back(f);
    }
  }
  if (!path.empty() && media.audio_codec) {
    auto curve = MeasureLoudness(path, kLoudnessStepS);
    if (curve.ok()) {
      in.loudness = std::move(*curve);
    } else if (!curve.status().IsNotFound()) {
      return curve.status();
    }
  }
  return st;
}

db::RetentionAnalysisRow PredictionRow(const db::MediaRow& media, const std::string& processing_id,
                                       const RetentionModel& model, const RetentionPrediction& p) {
  db::RetentionAnalysisRow row;
  row.video_id = media.video_id;
  row.owner_id = media.owner_id;
  row.processing_id = processing_id;
  row.source = "predicted";
  row.duration_s = p.curve.duration_s;
  row.curve = CurveJson(p.curve);
  row.drop_points = DropPointsJson(p.drops);
  row.summary = db::JsonText(SummaryJson(p.summary));
  row.model = model.ToJson();
  return row;
}

}  // namespace

Result<RetentionInputs> LoadRetentionInputs(db::Database& db, Env* env, IdGenerator* ids, const db::MediaRow& media,
                                            const std::string& path) {
  CUTROOM_ASSIGN_OR_RETURN(Stored st, Load(db, env, ids, media, path));
  return st.inputs;
}

Result<RetentionModel> OwnerRetentionModel(db::Database& db, const std::string& owner_id) {
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT model FROM retention_models WHERE owner_id = ? ORDER BY "
                                               "model_id DESC LIMIT 1",
                                               {owner_id}));
  if (rows.empty()) return RetentionModel::Defaults();
  auto j = json::parse(rows.Text(0, "model").value_or("{}"), nullptr, false);
  auto m = RetentionModel::FromJson(j);
  if (!m.ok()) return Status::Corruption("the stored retention model of " + owner_id + " is unreadable: " + m.status().message());
  return m;
}

Status RunRetention(jobs::JobContext& ctx) {
  const jobs::JobServices& s = ctx.services();
  if (!ctx.job().video_id) return Status::InvalidArgument("the retention job has no video_id");
  db::Repositories repos(*s.db, s.env, s.ids);
  CUTROOM_ASSIGN_OR_RETURN(auto media, repos.media.Get(*ctx.job().video_id));
  // Loudness needs the media; without it the prediction uses the index alone.
  std::optional<SourceMedia> source;
  if (auto opened = SourceMedia::Open(s, media); opened.ok()) source.emplace(std::move(*opened));
  const std::string path = source ? source->path() : "";
  if (media.duration_s.value_or(0) <= 0) {
    return Status::FailedPrecondition("video " + media.video_id + " has no known duration");
  }
  ctx.SetProgress(0.05);
  auto loaded = Load(*s.db, s.env, s.ids, media, path);
  if (source) LogRemoteReads(ctx, *source);
  if (!loaded.ok()) return source ? source->Explain(loaded.status()) : loaded.status();
  Stored st = std::move(*loaded);
  CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
  ctx.SetProgress(0.6);
  CUTROOM_ASSIGN_OR_RETURN(RetentionModel model, OwnerRetentionModel(*s.db, media.owner_id));
  RetentionPrediction whole = Predict(model, ComputeFeatures(st.inputs));
  std::vector<db::RetentionAnalysisRow> rows = {PredictionRow(media, ctx.processing_id(), model, whole)};

  // Clips: each predicted as a video of its own.
  CUTROOM_ASSIGN_OR_RETURN(auto clip_rows, s.db->Query("SELECT clip_id FROM clip_candidates WHERE video_id = ? AND "
                                                        "status != 'rejected' ORDER BY score DESC",
                                                        {media.video_id}));
  std::vector<db::ClipCandidateRow> clips;
  for (size_t i = 0; i < clip_rows.size(); ++i) {
    CUTROOM_ASSIGN_OR_RETURN(auto clip, repos.clip_candidates.Get(*clip_rows.Text(i, "clip_id")));
    auto [text, terminal] = OpeningOf(st.sentences, clip.start_s);
    RetentionInputs slice = SliceInputs(st.inputs, clip.start_s, clip.end_s, text, terminal);
    RetentionPrediction p = Predict(model, ComputeFeatures(slice));
    db::RetentionAnalysisRow row = PredictionRow(media, ctx.processing_id(), model, p);
    row.scope = "clip";
    row.clip_id = clip.clip_id;
    rows.push_back(std::move(row));
    // The clip's score blends in the share predicted to stay to its end.
    json& f = clip.features;
    double base = f.contains("score_before_retention") ? f["score_before_retention"].get<double>() : clip.score;
    std::string base_reason = f.contains("reason_before_retention") ? f["reason_before_retention"].get<std::string>()
                                                                     : clip.reason.value_or("");
    f["score_before_retention"] = base;
    f["reason_before_retention"] = base_reason;
    f["predicted_retention"] = {{"at_3s", p.summary.at_3s},
                                {"at_end", p.summary.at_end},
                                {"average_view_share", p.summary.average_view_share},
                                {"model_version", model.version},
                                {"weight", kClipRetentionWeight}};
    clip.score = (1 - kClipRetentionWeight) * base + kClipRetentionWeight * p.summary.at_end;
    std::string said = " Predicted to keep " + Pct(p.summary.at_end) + " of viewers to the end (" +
                       Pct(p.summary.at_3s) + " at 3 s)";
    if (!p.drops.empty() && !p.drops.front().reasons.empty()) {
      said += "; watch out for " + p.drops.front().reasons.front() + " at " + Clock(p.drops.front().t_s);
    }
    std::string lead = base_reason;
    while (!lead.empty() && (lead.back() == ' ' || lead.back() == '.')) lead.pop_back();
    clip.reason = (lead.empty() ? said.substr(1) : lead + "." + said) + ".";
    clips.push_back(std::move(clip));
  }
  CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
  CUTROOM_RETURN_IF_ERROR(s.db->Transaction([&](db::DbSession& tx) -> Status {
    db::Repositories t(tx, s.env, s.ids);
    CUTROOM_RETURN_IF_ERROR(
        tx.Execute("DELETE FROM retention_analyses WHERE video_id = ? AND source = 'predicted'", {media.video_id})
            .status());
    for (const auto& row : rows) CUTROOM_RETURN_IF_ERROR(t.retention_analyses.Insert(row).status());
    for (const auto& clip : clips) CUTROOM_RETURN_IF_ERROR(t.clip_candidates.Update(clip).status());
    return Status::Ok();
  }));
  json result = {{"model_version", model.version},
                 {"summary", SummaryJson(whole.summary)},
                 {"drop_points", whole.drops.size()},
                 {"clips", clips.size()}};
  ctx.Log("info",
          "predicted retention: " + Pct(whole.summary.at_end) + " to the end, " + std::to_string(whole.drops.size()) +
              " drop point(s), " + std::to_string(clips.size()) + " clip(s)",
          result);
  ctx.set_result(result);
  return Status::Ok();
}

Result<json> RetentionJson(db::Database& db, Env* env, IdGenerator* ids, const db::MediaRow& media) {
  auto newest = [&](const std::string& extra, const std::vector<db::DbValue>& args) -> Result<std::optional<std::string>> {
    CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT retention_id FROM retention_analyses WHERE video_id = ? " +
                                                     extra + " ORDER BY retention_id DESC LIMIT 1",
                                                 args));
    if (rows.empty()) return std::optional<std::string>();
    return std::optional<std::string>(rows.Text(0, "retention_id"));
  };
  CUTROOM_ASSIGN_OR_RETURN(auto pred_id, newest("AND source = 'predicted' AND scope = 'video'", {media.video_id}));
  CUTROOM_ASSIGN_OR_RETURN(auto imp_id, newest("AND source = 'imported'", {media.video_id}));
  if (!pred_id && !imp_id) {
    return Status::NotFound("video " + media.video_id +
                            " has no retention analysis: POST /process/retention, or /retention/import a real curve");
  }
  db::Repositories repos(db, env, ids);
  auto row_json = [](const db::RetentionAnalysisRow& r) {
    json summary = r.summary ? json::parse(*r.summary, nullptr, false) : json(nullptr);
    return json{{"retention_id", r.retention_id}, {"source", r.source},      {"duration_s", r.duration_s.value_or(0)},
                {"curve", r.curve},               {"drop_points", r.drop_points}, {"summary", summary},
                {"model", r.model},               {"format", r.format ? json(*r.format) : json(nullptr)},
                {"created_at", r.created_at}};
  };
  json out = {{"video_id", media.video_id}, {"predicted", nullptr}, {"imported", nullptr}, {"agreement", nullptr}};
  std::optional<db::RetentionAnalysisRow> pred, imp;
  if (pred_id) {
    CUTROOM_ASSIGN_OR_RETURN(auto r, repos.retention_analyses.Get(*pred_id));
    pred = r;
    out["predicted"] = row_json(r);
  }
  if (imp_id) {
    CUTROOM_ASSIGN_OR_RETURN(auto r, repos.retention_analyses.Get(*imp_id));
    imp = r;
    out["imported"] = row_json(r);
  }
  if (pred && imp) {
    RetentionCurve a = CurveFromRow(*pred), b = CurveFromRow(*imp);
    auto agree = CompareCurves(a, b);
    if (agree.ok()) {
      json confirmed = json::array();
      std::vector<double> hb = CurveHazards(b);
      std::vector<double> sorted = hb;
      std::sort(sorted.begin(), sorted.end());
      double median = sorted.empty() ? 0 : sorted[sorted.size() / 2];
      for (const auto& d : pred->drop_points) {
        double t = d.value("t_s", 0.0), end = std::max(d.value("end_s", t), t + 1);
        double sum = 0;
        int n = 0;
        for (size_t i = static_cast<size_t>(std::max(0.0, t)); i < hb.size() && static_cast<double>(i) < end + 2; ++i) {
          sum += hb[i];
          ++n;
        }
        bool yes = n > 0 && sum / n >= kConfirmRatio * std::max(median, 1e-6);
        confirmed.push_back({{"t_s", t}, {"confirmed", yes}, {"real_hazard", n > 0 ? sum / n : 0.0}});
      }
      out["agreement"] = {{"spearman", agree->spearman},
                          {"spearman_share", agree->spearman_share},
                          {"mean_abs_error", agree->mean_abs_error},
                          {"seconds", agree->seconds},
                          {"drop_points", confirmed}};
    }
  }
  CUTROOM_ASSIGN_OR_RETURN(auto clip_rows, db.Query("SELECT retention_id FROM retention_analyses WHERE video_id = ? AND "
                                                    "scope = 'clip' ORDER BY retention_id",
                                                    {media.video_id}));
  json clips = json::array();
  for (size_t i = 0; i < clip_rows.size(); ++i) {
    CUTROOM_ASSIGN_OR_RETURN(auto r, repos.retention_analyses.Get(*clip_rows.Text(i, "retention_id")));
    json summary = r.summary ? json::parse(*r.summary, nullptr, false) : json(nullptr);
    clips.push_back({{"clip_id", r.clip_id ? json(*r.clip_id) : json(nullptr)},
                     {"summary", summary},
                     {"drop_points", r.drop_points},
                     {"curve", r.curve}});
  }
  out["clips"] = clips;
  return out;
}

namespace {

std::optional<RetentionCurve> CurveOf(const json& side) {
  if (!side.is_object() || !side.contains("curve") || !side["curve"].is_array()) return std::nullopt;
  RetentionCurve c;
  c.duration_s = side.value("duration_s", 0.0);
  for (const auto& v : side["curve"]) {
    if (v.is_number()) c.share.push_back(v.get<double>());
  }
  if (c.share.empty()) return std::nullopt;
  if (c.duration_s <= 0) c.duration_s = static_cast<double>(c.share.size() - 1);
  return c;
}

}  // namespace

std::optional<RetentionCurve> PredictedCurveOf(const json& r) { return CurveOf(r.value("predicted", json())); }
std::optional<RetentionCurve> ImportedCurveOf(const json& r) { return CurveOf(r.value("imported", json())); }

std::string RetentionSvgOf(const json& r, const std::string& title) {
  RetentionChartInput in;
  in.title = title;
  in.predicted = PredictedCurveOf(r);
  in.imported = ImportedCurveOf(r);
  if (r.contains("predicted") && r["predicted"].is_object()) {
    for (const auto& d : r["predicted"].value("drop_points", json::array())) {
      std::string label;
      if (d.contains("reasons") && d["reasons"].is_array() && !d["reasons"].empty()) {
        label = d["reasons"][0].get<std::string>();
      }
      in.drops.push_back({d.value("t_s", 0.0), label});
    }
  }
  return RetentionSvg(in);
}

Result<db::RetentionAnalysisRow> ImportRetention(db::Database& db, Env* env, IdGenerator* ids,
                                                 storage::BlobStore& blobs, const db::MediaRow& media,
                                                 const std::string& body) {
  const double duration = media.duration_s.value_or(0);
  if (duration <= 0) return Status::FailedPrecondition("video " + media.video_id + " has no known duration");
  CUTROOM_ASSIGN_OR_RETURN(RetentionImport parsed, ParseRetentionImport(body, duration));
  RetentionCurve curve = ResampleRatioPoints(parsed.points, duration);
  db::RetentionAnalysisRow row;
  row.retention_id = ids->Next(kRetentionIdPrefix);
  row.video_id = media.video_id;
  row.owner_id = media.owner_id;
  row.source = "imported";
  row.duration_s = duration;
  row.curve = CurveJson(curve);
  row.format = parsed.format;
  row.summary = db::JsonText(SummaryJson(Summarize(curve)));
  row.model = {{"notes", parsed.notes}, {"points", parsed.points.size()}};
  const std::string ext = parsed.format == "studio_csv" ? ".csv" : ".json";
  row.raw_key = storage::MakeKey("assets", media.video_id, row.retention_id + ext);
  CUTROOM_RETURN_IF_ERROR(blobs.Put(*row.raw_key, body));
  db::Repositories repos(db, env, ids);
  auto stored = repos.retention_analyses.Insert(row);
  if (!stored.ok()) {
    blobs.Delete(*row.raw_key).IgnoreError();
    return stored.status();
  }
  return stored;
}

Result<json> FitOwnerRetention(db::Database& db, Env* env, IdGenerator* ids, const std::string& owner_id,
                               int min_videos) {
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT r.retention_id, r.video_id FROM retention_analyses r JOIN media m "
                                               "ON m.video_id = r.video_id WHERE m.owner_id = ? AND r.source = "
                                               "'imported' ORDER BY r.retention_id DESC",
                                               {owner_id}));
  db::Repositories repos(db, env, ids);
  std::vector<FitSample> samples;
  std::set<std::string> seen;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string video = rows.Text(i, "video_id").value_or("");
    if (!seen.insert(video).second) continue;  // the newest import per video
    CUTROOM_ASSIGN_OR_RETURN(auto imp, repos.retention_analyses.Get(*rows.Text(i, "retention_id")));
    CUTROOM_ASSIGN_OR_RETURN(auto media, repos.media.Get(video));
    CUTROOM_ASSIGN_OR_RETURN(Stored st, Load(db, env, ids, media, ""));
    samples.push_back({video, ComputeFeatures(st.inputs), CurveFromRow(imp)});
  }
  if (static_cast<int>(samples.size()) < min_videos) {
    return Status::FailedPrecondition("fitting needs imported curves of at least " + std::to_string(min_videos) +
                                      " videos; " + owner_id + " has " + std::to_string(samples.size()));
  }
  CUTROOM_ASSIGN_OR_RETURN(RetentionModel prior, OwnerRetentionModel(db, owner_id));
  RetentionModel defaults = RetentionModel::Defaults();
  // Regularise toward the built-in model, not an earlier fit, so that
  // refits do not drift on their own output.
  CUTROOM_ASSIGN_OR_RETURN(FitReport report, FitRetentionModel(samples, defaults));
  CUTROOM_ASSIGN_OR_RETURN(auto count, db.Query("SELECT COUNT(*) AS n FROM retention_models WHERE owner_id = ?", {owner_id}));
  const std::string version = "owner/" + std::to_string(count.Int(0, "n").value_or(0) + 1);
  report.model.version = version;
  json out = {{"version", version},
              {"previous_version", prior.version},
              {"videos", report.videos},
              {"spearman_before", report.spearman_before},
              {"spearman_after", report.spearman_after},
              {"mse_before", report.mse_before},
              {"mse_after", report.mse_after},
              {"model", report.model.ToJson()}};
  const std::string now = FormatTimestamp(env->NowMs());
  CUTROOM_RETURN_IF_ERROR(db.Execute("INSERT INTO retention_models (model_id, owner_id, version, model, report, videos, "
                                     "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                     {ids->Next("rtm"), owner_id, version, db::JsonText(report.model.ToJson()), db::JsonText(out),
                                      static_cast<int64_t>(report.videos), now, now})
                              .status());
  return out;
}

}  // namespace cutroom::analysis
