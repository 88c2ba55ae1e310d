// cutroom retention VIDEO_ID: the predicted (and imported) retention curve
// as a terminal sparkline with its drop points; cutroom retention fit:
// refit the owner's model from imported curves.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "analysis/retention/chart.h"
#include "analysis/retention/retention_stage.h"
#include "cli/commands.h"
#include "db/tables.h"
#include "jobs/pipeline.h"

namespace cutroom::cli {
namespace {

std::string Clock(double s) {
  char buf[32];
  int m = static_cast<int>(s / 60);
  std::snprintf(buf, sizeof buf, "%d:%04.1f", m, s - 60 * m);
  return buf;
}

std::string Pct(const nlohmann::json& v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100 * (v.is_number() ? v.get<double>() : 0.0));
  return buf;
}

int Show(Runtime& rt, const std::string& video_id, bool predict, const std::string& import_path,
         const std::string& svg_path) {
  Status st = OpenRuntime(rt);
  if (!st.ok()) return ReportError(st);
  db::Repositories repos(*rt.db, rt.env, rt.ids.get());
  auto media = repos.media.Get(video_id);
  if (!media.ok()) return ReportError(Status::NotFound("video " + video_id + " does not exist"));
  if (!import_path.empty()) {
    std::ifstream f(import_path, std::ios::binary);
    if (!f) return ReportError(Status::NotFound("cannot read " + import_path));
    std::stringstream body;
    body << f.rdbuf();
    auto row = analysis::ImportRetention(*rt.db, rt.env, rt.ids.get(), *rt.blobs, *media, body.str());
    if (!row.ok()) return ReportError(row.status());
    std::printf("imported %s (%s)\n", row->retention_id.c_str(), row->format.value_or("").c_str());
  }
  if (predict) {
    auto plan = jobs::EnqueuePipeline(*rt.queue, video_id, media->owner_id, {"retention"}, nlohmann::json::object(),
                                      jobs::PipelineMedia{media->media_type.value_or("video") != "audio"});
    if (!plan.ok()) return ReportError(plan.status());
    auto failed = RunJobsToCompletion(rt, {plan->front().job_id});
    if (!failed.ok()) return ReportError(failed.status());
    if (*failed) return ReportError(Status::Internal("the retention job failed (cutroom logs " + video_id + ")"));
  }
  auto r = analysis::RetentionJson(*rt.db, rt.env, rt.ids.get(), *media);
  if (!r.ok()) return ReportError(r.status());
  const auto predicted = analysis::PredictedCurveOf(*r);
  const auto imported = analysis::ImportedCurveOf(*r);
  const double duration = media->duration_s.value_or(0);
  if (predicted) {
    const auto& p = (*r)["predicted"];
    std::printf("predicted  %s  %s kept to the end, %s at 3 s, average view %.1f s (model %s)\n",
                analysis::Sparkline(*predicted).c_str(), Pct(p["summary"]["at_end"]).c_str(),
                Pct(p["summary"]["at_3s"]).c_str(), p["summary"].value("average_view_s", 0.0),
                p["model"].value("version", std::string("?")).c_str());
    std::vector<double> times;
    for (const auto& d : p["drop_points"]) times.push_back(d.value("t_s", 0.0));
    std::printf("           %s\n", analysis::DropMarkers(times, duration).c_str());
  }
  if (imported) {
    std::printf("imported   %s  %s at the end\n", analysis::Sparkline(*imported).c_str(),
                Pct((*r)["imported"]["summary"]["at_end"]).c_str());
  }
  if ((*r)["agreement"].is_object()) {
    std::printf("agreement: Spearman %.2f (where viewers leave), mean error %.3f\n",
                (*r)["agreement"].value("spearman", 0.0), (*r)["agreement"].value("mean_abs_error", 0.0));
  }
  if (predicted) {
    std::printf("\ndrop points:\n");
    for (const auto& d : (*r)["predicted"]["drop_points"]) {
      std::string reasons;
      for (const auto& x : d["reasons"]) reasons += (reasons.empty() ? "" : "; ") + x.get<std::string>();
      std::printf("  %-8s -%4.1f%%  %s\n", Clock(d.value("t_s", 0.0)).c_str(), 100 * d.value("lost", 0.0),
                  reasons.c_str());
    }
    if ((*r)["predicted"]["drop_points"].empty()) std::printf("  none stands out\n");
  }
  if (!svg_path.empty()) {
    std::ofstream f(svg_path, std::ios::binary | std::ios::trunc);
    f << analysis::RetentionSvgOf(*r, "Audience retention: " + media->original_filename.value_or(video_id));
    if (!f.flush()) return ReportError(Status::IOError("cannot write " + svg_path));
    std::printf("\nwrote %s\n", svg_path.c_str());
  }
  return 0;
}

}  // namespace

void AddRetentionCommands(CLI::App& app, CommandTable& table) {
  auto* sub = app.add_subcommand("retention", "predicted audience retention of a video, imports of real curves, refits");
  auto video = std::make_shared<std::string>();
  auto predict = std::make_shared<bool>(false);
  auto import_path = std::make_shared<std::string>();
  auto svg = std::make_shared<std::string>();
  sub->add_option("VIDEO_ID", *video, "the video (vid_...)");
  sub->add_flag("--predict", *predict, "run the retention stage first (otherwise show the stored analysis)");
  sub->add_option("--import", *import_path, "import a real curve first (YouTube Analytics JSON, Studio CSV, points JSON)");
  sub->add_option("--svg", *svg, "also draw the curves into this SVG file");
  auto* fit = sub->add_subcommand("fit", "refit the local owner's retention model from imported curves");
  auto min_videos = std::make_shared<int>(0);
  fit->add_option("--min-videos", *min_videos, "videos with imported curves needed (default retention.min_fit_videos)")
      ->check(CLI::Range(2, 10000));
  table.Add(fit, [min_videos](Runtime& rt) {
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    int n = *min_videos > 0 ? *min_videos : static_cast<int>(rt.config.GetInt("retention.min_fit_videos"));
    auto out = analysis::FitOwnerRetention(*rt.db, rt.env, rt.ids.get(), db::kLocalOwnerId, n);
    if (!out.ok()) return ReportError(out.status());
    std::printf("fitted %s on %d videos: held-out Spearman %.2f -> %.2f, share error %.4f -> %.4f\n",
                (*out)["version"].get<std::string>().c_str(), (*out)["videos"].get<int>(),
                (*out)["spearman_before"].get<double>(), (*out)["spearman_after"].get<double>(),
                (*out)["mse_before"].get<double>(), (*out)["mse_after"].get<double>());
    return 0;
  });
  table.Add(sub, [video, predict, import_path, svg](Runtime& rt) {
    if (video->empty()) return ReportError(Status::InvalidArgument("give a VIDEO_ID (or use `cutroom retention fit`)"));
    return Show(rt, *video, *predict, *import_path, *svg);
  });
}

}  // namespace cutroom::cli
