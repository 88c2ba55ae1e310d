// Registers the handler of every analysis stage built into this binary on
// a worker pool (the set jobs/pipeline.cc marks available).
#pragma once

#include "jobs/worker_pool.h"

namespace cutroom::analysis {

void RegisterStages(jobs::WorkerPool& pool);

}  // namespace cutroom::analysis
