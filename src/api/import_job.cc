#include "api/import_job.h"

#include <spdlog/spdlog.h>

namespace cutroom::api {
namespace {

// What the handler needs, kept alive by the handler itself.
struct ImportServices {
  std::unique_ptr<ingest::IngestService> ingest;
  std::unique_ptr<ingest::UrlFetcher> fetcher;
  std::unique_ptr<ingest::UrlImporter> importer;
};

}  // namespace

void QueueFollowUpStages(jobs::JobQueue* queue, const db::MediaRow& media) {
  if (!queue) return;
  jobs::EnqueueRequest req;
  req.kind = "thumbnails";
  req.video_id = media.video_id;
  req.owner_id = media.owner_id;
  req.processing_kind = "thumbnails";
  auto job = queue->Enqueue(req);
  if (!job.ok()) spdlog::warn("could not queue thumbnails for {}: {}", media.video_id, job.status().ToString());
}

Status RegisterImportJobs(jobs::WorkerPool& pool, const ServerDeps& deps) {
  CUTROOM_ASSIGN_OR_RETURN(auto policy, ingest::AddressPolicy::FromConfig(*deps.config));
  auto services = std::make_shared<ImportServices>();
  jobs::JobQueue* queue = deps.queue;
  services->ingest = std::make_unique<ingest::IngestService>(
      ingest::IngestDeps{deps.env, deps.db, deps.blobs, deps.ids,
                         static_cast<uint64_t>(deps.config->GetInt("ingest.max_upload_bytes")),
                         [queue](const db::MediaRow& media) { QueueFollowUpStages(queue, media); },
                         ingest::MediaLimits::FromConfig(*deps.config)});
  services->fetcher = std::make_unique<ingest::UrlFetcher>(std::move(policy));
  services->importer = std::make_unique<ingest::UrlImporter>(services->ingest.get(), services->fetcher.get());
  int concurrency = static_cast<int>(std::max<int64_t>(1, deps.config->GetInt("ingest.import_workers")));
  pool.Register(
      "import",
      [services](jobs::JobContext& ctx) -> Status {
        const auto& job = ctx.job();
        if (!job.video_id || !job.params.contains("url") || !job.params["url"].is_string()) {
          return Status::InvalidArgument("an import job needs a video_id and params.url");
        }
        ingest::IngestRequest request;
        request.owner_id = job.owner_id.value_or("");
        request.existing_video_id = *job.video_id;
        request.title = job.params.value("title", "");
        ingest::ImportControl control;
        control.should_stop = [&ctx] { return ctx.cancelled(); };
        control.progress = [&ctx](uint64_t done, uint64_t total) {
          if (total) ctx.SetProgress(static_cast<double>(done) / static_cast<double>(total));
        };
        control.mark_failed = false;
        std::string url = job.params["url"];
        auto media = services->importer->Import(url, request, control);
        if (media.ok()) {
          ctx.set_result({{"video_id", media->video_id}, {"size_bytes", media->size_bytes.value_or(0)}});
          return Status::Ok();
        }
        // The row stays pending while the queue may retry; it fails for
        // good on bad input, on cancellation or on the last attempt.
        bool final = !jobs::IsRetryable(media.status()) || job.attempts >= job.max_attempts || ctx.cancelled();
        if (final) services->ingest->MarkFailed(*job.video_id, media.status().message()).IgnoreError();
        return media.status();
      },
      concurrency);
  return Status::Ok();
}

}  // namespace cutroom::api
