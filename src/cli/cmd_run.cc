// cutroom run FILE|--sample and cutroom ingest FILE.
//
// `run` is the main job without a server: ingest, then every analysis stage
// built into this binary (today: thumbnails and transcription); the scene,
// clip and render stages
// join it as their issues land.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/subprocess.h"
#include "db/rows.h"
#include "ingest/ingest_service.h"
#include "ingest/url_import.h"
#include "analysis/transcribe/transcript_store.h"
#include "jobs/pipeline.h"
#include "db/tables.h"

namespace cutroom::cli {
namespace {

constexpr const char* kSampleSpeech =
    "Welcome to cutroom. This short sample has three scenes and a few sentences of speech. "
    "Why do long videos hide their best moments? Because nobody has time to watch them twice. "
    "Cutroom finds the moments worth sharing and cuts them into clips.";

// Makes a short video with hard cuts between three synthetic scenes and
// synthetic speech, from ffmpeg's lavfi sources and espeak-ng: nothing is
// downloaded.
Result<std::string> MakeSampleVideo(const std::string& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return Status::IOError("cannot create " + out_dir + ": " + ec.message());
  std::string wav = out_dir + "/sample-speech.wav";
  std::string mp4 = out_dir + "/sample.mp4";
  CUTROOM_RETURN_IF_ERROR(RunProcess({"espeak-ng", "-v", "en-us", "-s", "160", "-w", wav, kSampleSpeech})
                              .WithContext("synthesising sample speech"));
  const std::string size = "640x360";
  CUTROOM_RETURN_IF_ERROR(
      RunProcess({"ffmpeg", "-y", "-hide_banner", "-loglevel", "error",
                  "-t", "7", "-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=25",
                  "-t", "7", "-f", "lavfi", "-i", "smptehdbars=size=" + size + ":rate=25",
                  "-t", "7", "-f", "lavfi", "-i", "mandelbrot=size=" + size + ":rate=25",
                  "-i", wav,
                  "-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1:a=0[v];[3:a]aresample=48000,apad[a]",
                  "-map", "[v]", "-map", "[a]", "-t", "21",
                  "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "50",
                  "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", mp4})
          .WithContext("encoding the sample video"));
  std::filesystem::remove(wav, ec);
  return mp4;
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
                                 static_cast<uint64_t>(rt.config.GetInt("ingest.max_upload_bytes"))});
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

}  // namespace

void AddRunCommand(CLI::App& app, CommandTable& table) {
  auto* sub = app.add_subcommand("run", "run the main job on a file or URL: ingest and probe it (more stages to come)");
  auto input = std::make_shared<std::string>();
  auto sample = std::make_shared<bool>(false);
  auto out_dir = std::make_shared<std::string>("./cutroom-out");
  sub->add_option("INPUT", *input, "a local media file or an http(s) URL");
  sub->add_flag("--sample", *sample, "make a short sample video first (ffmpeg + espeak-ng) and run on it");
  sub->add_option("--out", *out_dir, "output directory")->capture_default_str();
  table.Add(sub, [input, sample, out_dir](Runtime& rt) {
    if (*sample == !input->empty()) return ReportError(Status::InvalidArgument("give either INPUT or --sample"));
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
    for (const auto& s : skipped) std::printf("  %-12s %s\n", "not yet", s.c_str());
    return *failed == 0 ? 0 : 1;
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
