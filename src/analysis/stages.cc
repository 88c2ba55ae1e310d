#include "analysis/stages.h"

#include "analysis/thumbnails_stage.h"
#include "analysis/transcription_stage.h"

namespace cutroom::analysis {

void RegisterStages(jobs::WorkerPool& pool) {
  pool.Register("thumbnails", RunThumbnails);
  // The decoders use every core already: one transcription at a time.
  pool.Register("transcription", RunTranscription, 1);
}

}  // namespace cutroom::analysis
