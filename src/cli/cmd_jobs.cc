// cutroom process, cutroom jobs, cutroom logs.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "db/tables.h"
#include "analysis/search/search.h"
#include "analysis/transcribe/subtitles.h"
#include "analysis/transcribe/transcript_store.h"
#include "jobs/pipeline.h"

namespace cutroom::cli {
namespace {

Result<db::MediaRow> LocalMedia(Runtime& rt, const std::string& video_id) {
  db::Repositories repos(*rt.db, rt.env, rt.ids.get());
  return repos.media.Get(video_id);
}

}  // namespace

void AddJobCommands(CLI::App& app, CommandTable& table) {
  auto* process = app.add_subcommand("process", "run analysis stages on a stored video and wait for them");
  auto video = std::make_shared<std::string>();
  auto stage = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  auto no_wait = std::make_shared<bool>(false);
  process->add_option("VIDEO_ID", *video, "the video (vid_...)")->required();
  auto* stage_opt = process->add_option("--stage", *stage, "one stage (thumbnails, frames, scenes, ...)");
  process->add_flag("--all", *all, "every stage, in dependency order")->excludes(stage_opt);
  process->add_flag("--no-wait", *no_wait, "only queue the jobs (a running server or worker takes them)");
  table.Add(process, [video, stage, all, no_wait](Runtime& rt) {
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    auto media = LocalMedia(rt, *video);
    if (!media.ok()) return ReportError(media.status());
    std::vector<std::string> only;
    if (!*all) {
      if (stage->empty()) return ReportError(Status::InvalidArgument("give --all or --stage NAME"));
      const jobs::Stage* s = jobs::FindStage(*stage);
      if (!s) return ReportError(Status::InvalidArgument("no stage '" + *stage + "'"));
      if (!s->available) return ReportError(Status::NotSupported(s->note));
      only.push_back(*stage);
    }
    auto plan = jobs::EnqueuePipeline(*rt.queue, *video, media->owner_id, only, nlohmann::json::object(),
                                      jobs::PipelineMedia{media->media_type.value_or("video") != "audio"});
    if (!plan.ok()) return ReportError(plan.status());
    std::vector<std::string> job_ids;
    for (const auto& p : *plan) {
      if (p.skipped.empty()) {
        std::printf("%-14s queued as %s\n", p.stage.c_str(), p.job_id.c_str());
        job_ids.push_back(p.job_id);
      } else {
        std::printf("%-14s skipped: %s\n", p.stage.c_str(), p.skipped.c_str());
      }
    }
    if (*no_wait) return 0;
    auto failed = RunJobsToCompletion(rt, job_ids);
    if (!failed.ok()) return ReportError(failed.status());
    return *failed == 0 ? 0 : 1;
  });

  auto* list = app.add_subcommand("jobs", "list recent jobs");
  auto video_filter = std::make_shared<std::string>();
  auto status_filter = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(30);
  list->add_option("--video", *video_filter, "only jobs of this video");
  list->add_option("--status", *status_filter, "queued, running, succeeded, failed or cancelled");
  list->add_option("--limit", *limit, "how many (newest first)")->check(CLI::Range(1, 1000));
  table.Add(list, [video_filter, status_filter, limit](Runtime& rt) {
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    db::Repositories repos(*rt.db, rt.env, rt.ids.get());
    db::ListQuery q{.limit = *limit, .newest_first = true};
    if (!video_filter->empty()) q.where.push_back({"video_id", *video_filter});
    if (!status_filter->empty()) q.where.push_back({"status", *status_filter});
    auto page = repos.jobs.List(q);
    if (!page.ok()) return ReportError(page.status());
    std::printf("%-30s %-14s %-30s %-10s %5s %4s  %s\n", "JOB", "KIND", "VIDEO", "STATUS", "PROG", "TRY", "ERROR");
    for (const auto& j : page->items) {
      std::printf("%-30s %-14s %-30s %-10s %4.0f%% %2lld/%lld  %s\n", j.job_id.c_str(), j.kind.c_str(),
                  j.video_id.value_or("-").c_str(), j.status.c_str(), j.progress * 100,
                  static_cast<long long>(j.attempts), static_cast<long long>(j.max_attempts),
                  j.error.value_or("").c_str());
    }
    return 0;
  });

  auto* search = app.add_subcommand("search", "full-text search over transcripts, scenes and frame text");
  auto query = std::make_shared<std::string>();
  auto search_video = std::make_shared<std::string>();
  auto search_limit = std::make_shared<int>(20);
  search->add_option("QUERY", *query, "words, \"a phrase\", prefix*, AND/OR/NOT")->required();
  search->add_option("--video", *search_video, "only this video");
  search->add_option("--limit", *search_limit, "most hits")->check(CLI::Range(1, 100));
  table.Add(search, [query, search_video, search_limit](Runtime& rt) {
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    analysis::SearchRequest req{*query, db::kLocalOwnerId, *search_video, *search_limit};
    auto hits = analysis::Search(*rt.db, req);
    if (!hits.ok()) return ReportError(hits.status());
    if (hits->empty()) std::printf("no hits for %s\n", query->c_str());
    for (const auto& h : *hits) {
      std::printf("%s  %s-%s  %-10s %s\n", h.video_id.c_str(), analysis::SubtitleTime(h.start_s, '.').c_str(),
                  analysis::SubtitleTime(h.end_s, '.').c_str(), h.source.c_str(), h.snippet.c_str());
    }
    return 0;
  });

  auto* transcript = app.add_subcommand("transcript", "print a video's transcript");
  auto t_video = std::make_shared<std::string>();
  auto t_format = std::make_shared<std::string>("txt");
  transcript->add_option("VIDEO_ID", *t_video, "the video (vid_...)")->required();
  transcript->add_option("--format", *t_format, "txt, srt or vtt")->check(CLI::IsMember({"txt", "srt", "vtt"}));
  table.Add(transcript, [t_video, t_format](Runtime& rt) {
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    auto stored = analysis::LoadTranscript(*rt.db, rt.env, rt.ids.get(), *t_video);
    if (!stored.ok()) return ReportError(stored.status());
    if (*t_format == "srt") {
      std::fputs(analysis::FormatSrt(analysis::BuildCues(stored->transcript)).c_str(), stdout);
    } else if (*t_format == "vtt") {
      std::fputs(analysis::FormatVtt(analysis::BuildCues(stored->transcript)).c_str(), stdout);
    } else {
      std::fputs(analysis::FormatText(stored->transcript).c_str(), stdout);
    }
    return 0;
  });

  auto* logs = app.add_subcommand("logs", "print a video's processing logs");
  auto log_video = std::make_shared<std::string>();
  logs->add_option("VIDEO_ID", *log_video, "the video (vid_...)")->required();
  table.Add(logs, [log_video](Runtime& rt) {
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    auto media = LocalMedia(rt, *log_video);
    if (!media.ok()) return ReportError(media.status());
    db::Repositories repos(*rt.db, rt.env, rt.ids.get());
    db::ListQuery q{.limit = db::kMaxPageSize};
    q.where.push_back({"video_id", *log_video});
    while (true) {
      auto page = repos.processing_logs.List(q);
      if (!page.ok()) return ReportError(page.status());
      for (const auto& l : page->items) {
        std::string data = l.data.empty() ? "" : " " + l.data.dump();
        std::printf("%s %-7s %-14s %s%s\n", l.ts.c_str(), l.level.c_str(), l.stage.c_str(), l.message.c_str(),
                    data.c_str());
      }
      if (page->next_cursor.empty()) break;
      q.after = page->next_cursor;
    }
    return 0;
  });
}

}  // namespace cutroom::cli
