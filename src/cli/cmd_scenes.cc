// cutroom scenes VIDEO_ID|FILE: scene detection with a listing like
// PySceneDetect's list-scenes. A file is analysed directly (nothing is
// stored); a stored video gets a scenes job whose result is printed.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "analysis/scenes/scene_detection.h"
#include "cli/commands.h"
#include "db/tables.h"

namespace cutroom::cli {
namespace {

struct ScenesFlags {
  std::string target;
  std::string detector = "content";
  double threshold = -1;
  std::string min_scene_len;
  int downscale = 0;
  bool no_gradual = false;
  std::string format = "table";
  std::string output;
};

Result<nlohmann::json> ParamsJson(const ScenesFlags& f) {
  nlohmann::json p = {{"detector", f.detector}, {"downscale", f.downscale}, {"gradual", !f.no_gradual}};
  if (f.threshold >= 0) p["threshold"] = f.threshold;
  if (!f.min_scene_len.empty()) {
    if (f.min_scene_len.back() == 's') {
      p["min_scene_len"] = f.min_scene_len;
    } else {
      char* end = nullptr;
      long long frames = std::strtoll(f.min_scene_len.c_str(), &end, 10);
      if (!end || *end) return Status::InvalidArgument("--min-scene-len takes frames (15) or seconds (0.6s)");
      p["min_scene_len"] = frames;
    }
  }
  return p;
}

// The stored result of a video's newest scenes run, as a SceneList.
Result<analysis::scenes::SceneList> StoredScenes(Runtime& rt, const std::string& processing_id) {
  db::Repositories repos(*rt.db, rt.env, rt.ids.get());
  CUTROOM_ASSIGN_OR_RETURN(auto run, repos.video_processing.Get(processing_id));
  analysis::scenes::SceneList list;
  list.detector = run.result.value("detector", "content");
  list.fps = run.result.value("fps", 0.0);
  list.frames = run.result.value("frames", int64_t{0});
  list.duration_s = run.result.value("duration_s", 0.0);
  for (const auto& t : run.result.value("transitions", nlohmann::json::array())) {
    list.transitions.push_back({t.value("type", "cut"), t.value("start_frame", int64_t{0}),
                                t.value("end_frame", int64_t{0}), t.value("start_s", 0.0), t.value("end_s", 0.0),
                                t.value("score", 0.0)});
  }
  CUTROOM_ASSIGN_OR_RETURN(auto rows, rt.db->Query("SELECT scene_no, start_frame, end_frame, start_s, end_s, "
                                                   "transition, score FROM scene_index WHERE processing_id = ? "
                                                   "ORDER BY scene_no",
                                                   {processing_id}));
  for (size_t i = 0; i < rows.size(); ++i) {
    list.scenes.push_back({rows.Int(i, "scene_no").value_or(0), rows.Int(i, "start_frame").value_or(0),
                           rows.Int(i, "end_frame").value_or(0), rows.Real(i, "start_s").value_or(0),
                           rows.Real(i, "end_s").value_or(0), rows.Text(i, "transition").value_or("cut"),
                           rows.Real(i, "score").value_or(0)});
  }
  return list;
}

int Print(const std::string& text, const std::string& output) {
  if (output.empty() || output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) return ReportError(Status::IOError("cannot write " + output));
  std::fprintf(stderr, "wrote %s\n", output.c_str());
  return 0;
}

}  // namespace

void AddScenesCommand(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("scenes", "detect scenes in a file or a stored video and list them");
  auto f = std::make_shared<ScenesFlags>();
  cmd->add_option("TARGET", f->target, "a video file, or a stored video's id (vid_...)")->required();
  cmd->add_option("--detector", f->detector, "content, adaptive, threshold or hash")
      ->check(CLI::IsMember({"content", "adaptive", "threshold", "hash"}));
  cmd->add_option("--threshold", f->threshold, "the detector's threshold (default: its own)");
  cmd->add_option("--min-scene-len", f->min_scene_len, "shortest scene: frames (15) or seconds (0.6s)");
  cmd->add_option("--downscale", f->downscale, "shrink factor before comparing (0: automatic)")
      ->check(CLI::Range(0, 64));
  cmd->add_flag("--no-gradual", f->no_gradual, "hard cuts only (no fades or dissolves)");
  cmd->add_option("--format", f->format, "table, json, csv or edl")
      ->check(CLI::IsMember({"table", "json", "csv", "edl"}));
  cmd->add_option("-o,--output", f->output, "write to this file instead of stdout");
  table.Add(cmd, [f](Runtime& rt) {
    auto params = ParamsJson(*f);
    if (!params.ok()) return ReportError(params.status());
    auto parsed = analysis::scenes::ParseSceneParams(*params);
    if (!parsed.ok()) return ReportError(parsed.status());
    std::error_code ec;
    if (std::filesystem::is_regular_file(f->target, ec)) {
      std::fprintf(stderr, "detecting scenes in %s ...\n", f->target.c_str());
      auto list = analysis::scenes::DetectScenes(f->target, *parsed);
      if (!list.ok()) return ReportError(list.status().WithContext(f->target));
      auto text = analysis::scenes::FormatSceneList(*list, f->format,
                                                     std::filesystem::path(f->target).filename().string());
      if (!text.ok()) return ReportError(text.status());
      return Print(*text, f->output);
    }
    if (f->target.rfind("vid_", 0) != 0) {
      return ReportError(Status::NotFound(f->target + " is neither a file nor a video id (vid_...)"));
    }
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    db::Repositories repos(*rt.db, rt.env, rt.ids.get());
    auto media = repos.media.Get(f->target);
    if (!media.ok()) return ReportError(media.status());
    jobs::EnqueueRequest req;
    req.kind = "scenes";
    req.video_id = media->video_id;
    req.owner_id = media->owner_id;
    req.processing_kind = "scenes";
    req.params = *params;
    auto job = rt.queue->Enqueue(req);
    if (!job.ok()) return ReportError(job.status());
    auto failed = RunJobsToCompletion(rt, {job->job_id});
    if (!failed.ok()) return ReportError(failed.status());
    if (*failed) return 1;
    auto list = StoredScenes(rt, job->processing_id.value_or(""));
    if (!list.ok()) return ReportError(list.status());
    auto text = analysis::scenes::FormatSceneList(*list, f->format, media->original_filename.value_or(media->video_id));
    if (!text.ok()) return ReportError(text.status());
    return Print(*text, f->output);
  });
}

}  // namespace cutroom::cli
