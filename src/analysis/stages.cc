#include "analysis/stages.h"

#include "analysis/thumbnails_stage.h"

namespace cutroom::analysis {

void RegisterStages(jobs::WorkerPool& pool) { pool.Register("thumbnails", RunThumbnails); }

}  // namespace cutroom::analysis
