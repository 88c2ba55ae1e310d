// URL imports as durable jobs ("import"): the API queues one per import
// request; any worker (in `cutroom serve` or `cutroom worker`) downloads it
// through the SSRF-safe fetcher. A download cut short by a network error or
// a worker that died is retried like any job; the media row stays pending
// until the import succeeds or the queue gives up, then it is marked
// failed with the reason.
#pragma once

#include "api/server.h"
#include "jobs/worker_pool.h"

namespace cutroom::api {

// Registers the "import" handler on pool. Its objects live as long as the
// pool's handler does.
Status RegisterImportJobs(jobs::WorkerPool& pool, const ServerDeps& deps);

// After media becomes ready: queue the stages every new video gets.
void QueueFollowUpStages(jobs::JobQueue* queue, const db::MediaRow& media);

}  // namespace cutroom::api
