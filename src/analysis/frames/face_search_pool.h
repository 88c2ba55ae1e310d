// Face searches on threads of their own, each with a FaceDetector of its
// own, while the caller decodes the next frames: a render's face sampling
// left a core idle while one thread decoded and searched in turn (the
// Haar cascade's own parallel loop kept the process at about 120% CPU).
//
// Results come back through a callback on a pool thread, in whatever order
// the searches finish; each search's result is the same as a FaceDetector
// in the caller's thread would give.
// Thread-safety: Submit and Wait from one thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "analysis/frames/faces.h"
#include "core/result.h"
#include "media/decoder.h"

namespace cutroom::analysis {

class FaceSearchPool {
 public:
  // Called on a pool thread with the faces of one frame, largest first.
  using Done = std::function<void(std::vector<FaceBox>)>;

  // threads 1..16 searches at once (each with its detector); errors as
  // FaceDetector::Open.
  static Result<std::unique_ptr<FaceSearchPool>> Open(const FaceDetectorOptions& options, int threads);

  // Stops the threads; searches still queued are dropped, their callbacks
  // never run.
  ~FaceSearchPool();
  FaceSearchPool(const FaceSearchPool&) = delete;
  FaceSearchPool& operator=(const FaceSearchPool&) = delete;

  // Queues a search of frame in regions (empty: the whole frame, as
  // FaceDetector::Detect; otherwise as DetectIn). Waits while two frames a
  // thread are already queued, so memory stays bounded. The failure of an
  // earlier search, if one failed (nothing is queued then).
  Status Submit(media::VideoFrame frame, std::vector<FaceSearchRegion> regions, Done done);

  // Waits until every queued search has finished and its callback has
  // run; the first failure since the last Wait.
  Status Wait();

  int threads() const;

 private:
  class Impl;
  explicit FaceSearchPool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cutroom::analysis
