// cutroom run FILE|--sample and cutroom ingest FILE.
//
// `run` is the main job without a server: ingest, index (thumbnails,
// scenes, frames, transcript), propose clips, render the best ones as
// vertical clips with captions into the output directory with a
// report.json, and print a summary table.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/sample_video.h"
#include "core/json_numbers.h"
#include "core/subprocess.h"
#include "db/rows.h"
#include "ingest/ingest_service.h"
#include "ingest/url_import.h"
#include "analysis/retention/retention_stage.h"
#include "analysis/transcribe/transcript_store.h"
#include "edit/edit_jobs.h"
#include "jobs/pipeline.h"
#include "db/tables.h"

namespace cutroom::cli {
namespace {

// Creates dir and its parents, and checks that files can be written there.
Status MakeOutputDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create the output directory " + dir + ": " + ec.message());
  if (!std::filesystem::is_directory(dir, ec)) return Status::InvalidArgument("--out " + dir + " is not a directory");
  if (::access(dir.c_str(), W_OK) != 0) return Status::PermissionDenied("cannot write to the output directory " + dir);
  return Status::Ok();
}

// A one-line progress display on a terminal; silent otherwise.
class ProgressLine {
 public:
  ProgressLine(std::string label, uint64_t total) : label_(std::move(label)), total_(total) {
    tty_ = ::isatty(STDERR_FILENO);
  }
  void Update(uint64_t done) {
    if (!tty_ || total_ == 0) return;
    int pct = static_cast<int>(done * 100 / total_);
    if (pct == last_pct_) return;
    last_pct_ = pct;
    int filled = pct / 4;
    std::fprintf(stderr, "\r%-8s [%s%s] %3d%%", label_.c_str(), std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(25 - filled), '.').c_str(), pct);
    if (pct == 100) std::fprintf(stderr, "\n");
  }

 private:
  std::string label_;
  uint64_t total_;
  bool tty_;
  int last_pct_ = -1;
};

std::string FormatBytes(int64_t n) {
  char buf[32];
  if (n >= (1LL << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", n / double(1LL << 30));
  else if (n >= (1LL << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", n / double(1LL << 20));
  else if (n >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", n / 1024.0);
  else std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(n));
  return buf;
}

void PrintMediaSummary(const db::MediaRow& m) {
  auto line = [](const char* k, const std::string& v) { std::printf("  %-12s %s\n", k, v.c_str()); };
  std::printf("%s\n", m.video_id.c_str());
  line("title", m.title.value_or("-"));
  line("type", m.media_type.value_or("-") + " (" + m.mime_type.value_or("-") + ", " + m.container.value_or("-") + ")");
  if (m.duration_s) {
    char d[32];
    std::snprintf(d, sizeof d, "%.3f s", *m.duration_s);
    line("duration", d);
  }
  if (m.width && m.height) {
    char v[96];
    std::snprintf(v, sizeof v, "%lldx%lld @ %.3f fps, rotation %lld", static_cast<long long>(*m.width),
                  static_cast<long long>(*m.height), m.fps.value_or(0), static_cast<long long>(m.rotation.value_or(0)));
    line("video", m.video_codec.value_or("-") + " " + v);
  }
  line("audio", m.audio_codec.value_or("none"));
  line("size", m.size_bytes ? FormatBytes(*m.size_bytes) : "-");
  line("sha256", m.sha256.value_or("-"));
  line("status", m.status);
}

bool IsUrl(const std::string& input) {
  return input.rfind("http://", 0) == 0 || input.rfind("https://", 0) == 0 || input.find("://") != std::string::npos;
}

// Ingests a local file or a URL through the same service the API uses.
Result<db::MediaRow> Ingest(Runtime& rt, const std::string& input, const std::string& title, bool reference) {
  ingest::IngestService service({rt.env, rt.db.get(), rt.blobs.get(), rt.ids.get(),
                                 static_cast<uint64_t>(rt.config.GetInt("ingest.max_upload_bytes")), {},
                                 ingest::MediaLimits::FromConfig(rt.config)});
  ingest::IngestRequest req;
  req.owner_id = db::kLocalOwnerId;
  req.title = title;
  if (!IsUrl(input)) {
    if (reference) return Status::InvalidArgument("--reference needs a URL");
    auto size = rt.env->FileSize(input);
    auto progress = std::make_shared<ProgressLine>("ingest", size.ok() ? *size : 0);
    req.on_progress = [progress](uint64_t done) { progress->Update(done); };
    return service.IngestLocalFile(input, req);
  }
  CUTROOM_ASSIGN_OR_RETURN(auto policy, ingest::AddressPolicy::FromConfig(rt.config));
  ingest::UrlFetcher fetcher(std::move(policy));
  ingest::UrlImporter importer(&service, &fetcher);
  CUTROOM_RETURN_IF_ERROR(importer.Preflight(input));
  req.source_url = input;
  if (reference) return importer.Reference(input, req);
  req.source_type = "url";
  req.original_filename = ingest::FilenameFromUrl(input);
  CUTROOM_ASSIGN_OR_RETURN(auto pending, service.CreatePending(req));
  req.existing_video_id = pending.video_id;
  std::shared_ptr<ProgressLine> bar;
  ingest::ImportControl control;
  control.progress = [&bar](uint64_t done, uint64_t total) {
    if (!bar && total) bar = std::make_shared<ProgressLine>("download", total);
    if (bar) bar->Update(done);
  };
  return importer.Import(input, req, control);
}

std::string ClockRange(double a, double b) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d:%04.1f-%02d:%04.1f", static_cast<int>(a / 60), std::fmod(a, 60.0),
                static_cast<int>(b / 60), std::fmod(b, 60.0));
  return buf;
}

std::string Shorten(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  size_t cut = n - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 sequence
  return s.substr(0, cut) + "...";
}

// Renders the best `count` clip candidates into out_dir and writes
// report.json there; prints the summary table. Returns the number of
// renders that failed.
Result<int> RenderBestClips(Runtime& rt, const db::MediaRow& media, const std::vector<jobs::PlannedStage>& plan,
                            int count, const std::string& aspect, const std::string& out_dir) {
  db::Repositories repos(*rt.db, rt.env, rt.ids.get());
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& p : plan) {
    nlohmann::json st = {{"stage", p.stage}};
    if (!p.skipped.empty()) {
      st["status"] = "skipped";
      st["reason"] = p.skipped;
    } else if (auto job = rt.queue->Get(p.job_id); job.ok()) {
      st["job_id"] = p.job_id;
      st["status"] = job->status;
      if (job->error) st["error"] = *job->error;
      // Wall time from claim to finish (stages overlap on several workers).
      if (job->started_at && job->finished_at) {
        auto started = ParseTimestamp(*job->started_at);
        auto finished = ParseTimestamp(*job->finished_at);
        if (started.ok() && finished.ok()) st["run_s"] = static_cast<double>(*finished - *started) / 1000.0;
      }
    }
    stages.push_back(st);
  }
  CUTROOM_ASSIGN_OR_RETURN(auto top, rt.db->Query("SELECT clip_id FROM clip_candidates WHERE video_id = ? AND "
                                                  "status = 'proposed' ORDER BY score DESC, clip_id LIMIT ?",
                                                  {media.video_id, static_cast<int64_t>(count)}));
  struct Planned {
    db::ClipCandidateRow clip;
    std::string edit_job_id;
    std::string job_id;
    std::string error;
  };
  std::vector<Planned> renders;
  std::vector<std::string> job_ids;
  for (size_t i = 0; i < top.size(); ++i) {
    CUTROOM_ASSIGN_OR_RETURN(auto clip, repos.clip_candidates.Get(*top.Text(i, "clip_id")));
    Planned p{clip, "", "", ""};
    auto created = edit::CreateEditJob(*rt.db, rt.env, rt.ids.get(), *rt.queue, media.owner_id,
                                       {{"clip_id", clip.clip_id}, {"aspect", aspect}});
    if (created.ok()) {
      p.edit_job_id = created->edit.edit_job_id;
      p.job_id = created->job.job_id;
      job_ids.push_back(p.job_id);
    } else {
      p.error = created.status().ToString();
    }
    renders.push_back(std::move(p));
  }
  if (!job_ids.empty()) std::fprintf(stderr, "rendering %zu clip(s) ...\n", job_ids.size());
  CUTROOM_ASSIGN_OR_RETURN(int failed, RunJobsToCompletion(rt, job_ids));

  nlohmann::json clips = nlohmann::json::array();
  std::printf("\n%-3s %-17s %-6s %-5s %-40s %s\n", "#", "range", "score", "keep", "title", "output");
  for (size_t i = 0; i < renders.size(); ++i) {
    Planned& p = renders[i];
    nlohmann::json c = {{"rank", i + 1},
                        {"clip_id", p.clip.clip_id},
                        {"start_s", p.clip.start_s},
                        {"end_s", p.clip.end_s},
                        {"score", p.clip.score},
                        {"title", p.clip.title.value_or("")},
                        {"hook", p.clip.hook.value_or("")},
                        {"reason", p.clip.reason.value_or("")},
                        {"features", p.clip.features},
                        {"edit_job_id", p.edit_job_id}};
    std::string output = "-";
    if (!p.edit_job_id.empty()) {
      CUTROOM_ASSIGN_OR_RETURN(auto edit, repos.edit_jobs.Get(p.edit_job_id));
      c["spec"] = edit.spec;
      if (edit.output_asset_id) {
        CUTROOM_ASSIGN_OR_RETURN(auto asset, repos.video_assets.Get(*edit.output_asset_id));
        output = out_dir + "/clip-" + std::to_string(i + 1) + ".mp4";
        // Through the store's reader, so renders kept in S3 come out too.
        CUTROOM_RETURN_IF_ERROR(storage::CopyBlobToFile(*rt.blobs, asset.storage_key, output, rt.env)
                                    .WithContext("copying the render to " + output));
        std::error_code ec;
        // Blobs are private to the service; the user's copy is an ordinary file.
        std::filesystem::permissions(output,
                                     std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                         std::filesystem::perms::group_read | std::filesystem::perms::others_read,
                                     ec);
        c["output"] = output;
        c["width"] = asset.width.value_or(0);
        c["height"] = asset.height.value_or(0);
        c["duration_s"] = asset.duration_s.value_or(0);
      } else {
        p.error = edit.error.value_or("render " + edit.status);
      }
    }
    if (!p.error.empty()) c["error"] = p.error;
    clips.push_back(c);
    // The share predicted to watch to the clip's end (retention stage).
    std::string keep = "-";
    if (p.clip.features.contains("predicted_retention")) {
      const auto& pr = p.clip.features["predicted_retention"];
      c["predicted_retention"] = pr;
      char buf[16];
      std::snprintf(buf, sizeof buf, "%.0f%%", 100 * pr.value("at_end", 0.0));
      keep = buf;
    }
    std::printf("%-3zu %-17s %-6.2f %-5s %-40s %s\n", i + 1, ClockRange(p.clip.start_s, p.clip.end_s).c_str(),
                p.clip.score, keep.c_str(), Shorten(p.clip.title.value_or("-"), 40).c_str(),
                p.error.empty() ? output.c_str() : ("failed: " + p.error).c_str());
    if (p.clip.reason) std::printf("    %s\n", Shorten(*p.clip.reason, 100).c_str());
  }
  if (renders.empty()) std::printf("    no clip candidates (see the stages in report.json)\n");

  int64_t scene_count = 0;
  if (auto n = rt.db->Query("SELECT COUNT(*) AS n FROM scene_index WHERE video_id = ?", {media.video_id}); n.ok()) {
    scene_count = n->Int(0, "n").value_or(0);
  }
  nlohmann::json report = {{"video", {{"video_id", media.video_id},
                                      {"title", media.title.value_or("")},
                                      {"duration_s", media.duration_s.value_or(0)},
                                      {"width", media.width.value_or(0)},
                                      {"height", media.height.value_or(0)},
                                      {"media_type", media.media_type.value_or("")}}},
                           {"stages", stages},
                           {"scenes", scene_count},
                           {"clips", clips}};
  if (auto r = analysis::RetentionJson(*rt.db, rt.env, rt.ids.get(), media); r.ok() && (*r)["predicted"].is_object()) {
    report["retention"] = {{"summary", (*r)["predicted"]["summary"]},
                           {"drop_points", (*r)["predicted"]["drop_points"]},
                           {"model", (*r)["predicted"]["model"]["version"]}};
  }
  if (auto t = analysis::LoadTranscript(*rt.db, rt.env, rt.ids.get(), media.video_id); t.ok()) {
    size_t words = 0;
    for (const auto& seg : t->transcript.segments) words += seg.words.size();
    report["transcript"] = {{"engine", t->row.engine}, {"segments", t->transcript.segments.size()}, {"words", words}};
  }
  TidyJsonNumbers(report);
  CUTROOM_RETURN_IF_ERROR(rt.env->WriteFileAtomic(out_dir + "/report.json", report.dump(2) + "\n"));
  std::printf("\nreport: %s/report.json\n", out_dir.c_str());
  return failed + static_cast<int>(std::count_if(renders.begin(), renders.end(),
                                                 [](const Planned& p) { return p.job_id.empty(); }));
}

}  // namespace

void AddRunCommand(CLI::App& app, CommandTable& table) {
  auto* sub = app.add_subcommand(
      "run", "the main job on a file or URL: ingest, index, propose clips, render the best ones to --out");
  auto input = std::make_shared<std::string>();
  auto sample = std::make_shared<bool>(false);
  auto out_dir = std::make_shared<std::string>("./cutroom-out");
  auto clip_count = std::make_shared<int>(3);
  auto aspect = std::make_shared<std::string>("9:16");
  sub->add_option("INPUT", *input, "a local media file or an http(s) URL");
  sub->add_flag("--sample", *sample, "make a short sample video first (ffmpeg + flite) and run on it");
  sub->add_option("--out", *out_dir, "output directory")->capture_default_str();
  sub->add_option("--clips", *clip_count, "how many of the best clips to render (0: none)")
      ->check(CLI::Range(0, 20))
      ->capture_default_str();
  sub->add_option("--aspect", *aspect, "9:16, 1:1, 16:9 or source")
      ->check(CLI::IsMember({"9:16", "1:1", "16:9", "source"}))
      ->capture_default_str();
  table.Add(sub, [input, sample, out_dir, clip_count, aspect](Runtime& rt) {
    if (*sample == !input->empty()) return ReportError(Status::InvalidArgument("give either INPUT or --sample"));
    // The output directory first: a typo found after minutes of work wastes them.
    if (Status made = MakeOutputDir(*out_dir); !made.ok()) return ReportError(made);
    std::string path = *input;
    if (*sample) {
      std::cerr << "making a sample video in " << *out_dir << " ...\n";
      auto made = MakeSampleVideo(*out_dir);
      if (!made.ok()) return ReportError(made.status());
      path = *made;
    }
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    auto media = Ingest(rt, path, *sample ? "cutroom sample" : "", false);
    if (!media.ok()) return ReportError(media.status().WithContext(path));
    // Index: every analysis stage built into this binary, run here.
    auto plan = jobs::EnqueuePipeline(*rt.queue, media->video_id, media->owner_id, {}, nlohmann::json::object(),
                                      jobs::PipelineMedia{media->media_type.value_or("video") != "audio"});
    if (!plan.ok()) return ReportError(plan.status());
    std::vector<std::string> job_ids;
    std::vector<std::string> skipped;
    for (const auto& p : *plan) {
      if (p.skipped.empty()) {
        job_ids.push_back(p.job_id);
      } else {
        skipped.push_back(p.stage + " (" + p.skipped + ")");
      }
    }
    auto failed = RunJobsToCompletion(rt, job_ids);
    if (!failed.ok()) return ReportError(failed.status());
    PrintMediaSummary(*media);
    db::Repositories repos(*rt.db, rt.env, rt.ids.get());
    auto assets = repos.video_assets.List({.where = {{"video_id", media->video_id}}, .limit = 100});
    if (assets.ok()) {
      for (const auto& a : assets->items) {
        auto file = rt.blobs->LocalPath(a.storage_key);
        std::printf("  %-12s %s\n", a.kind.c_str(), file.ok() ? file->c_str() : a.storage_key.c_str());
      }
    }
    if (auto t = analysis::LoadTranscript(*rt.db, rt.env, rt.ids.get(), media->video_id); t.ok()) {
      size_t words = 0;
      for (const auto& seg : t->transcript.segments) words += seg.words.size();
      std::printf("  %-12s %zu segments, %zu words (%s)\n", "transcript", t->transcript.segments.size(), words,
                  t->row.engine.c_str());
      for (size_t i = 0; i < t->transcript.segments.size() && i < 5; ++i) {
        const auto& seg = t->transcript.segments[i];
        std::printf("    %7.2f-%7.2f  %s\n", seg.start_s, seg.end_s, seg.text.c_str());
      }
    }
    for (const auto& s : skipped) std::printf("  %-12s %s\n", "skipped", s.c_str());
    auto render_failed = RenderBestClips(rt, *media, *plan, *clip_count, *aspect, *out_dir);
    if (!render_failed.ok()) return ReportError(render_failed.status());
    return *failed == 0 && *render_failed == 0 ? 0 : 1;
  });
}

void AddIngestCommand(CLI::App& app, CommandTable& table) {
  auto* sub = app.add_subcommand("ingest", "store a media file or URL and probe it");
  auto input = std::make_shared<std::string>();
  auto title = std::make_shared<std::string>();
  auto reference = std::make_shared<bool>(false);
  sub->add_option("INPUT", *input, "a local media file or an http(s) URL")->required();
  sub->add_option("--title", *title, "title (default: the file name)");
  sub->add_flag("--reference", *reference, "store only the URL (probed remotely); processing reads from it");
  table.Add(sub, [input, title, reference](Runtime& rt) {
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    auto media = Ingest(rt, *input, *title, *reference);
    if (!media.ok()) return ReportError(media.status().WithContext(*input));
    PrintMediaSummary(*media);
    return 0;
  });
}

}  // namespace cutroom::cli
