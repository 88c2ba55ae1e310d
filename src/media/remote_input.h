// Remote inputs: media read through a RandomAccessSource (URL references,
// read with HTTP ranges; stored blobs without a local file, read with the
// blob store's ranged GETs) wherever the media functions take a file path.
//
// A ScopedRemoteInput registers a factory of sources under a pseudo-path
// ("cutroom-remote:N/NAME") for its lifetime; OpenMedia (media/av_util.h),
// and so the decoder, audio extraction, thumbnails, keyframes, probing and
// the renderer, read that path through a fresh source from the factory,
// with a custom AVIOContext. Each open gets its own source, because a
// decoder may open its input twice (a packet scan beside the decoding).
// Thread-safety: registration and lookup are thread-safe; a source is used
// by one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "media/probe.h"

namespace cutroom::media {

using SourceFactory = std::function<Result<std::unique_ptr<RandomAccessSource>>()>;

class ScopedRemoteInput {
 public:
  // name: for messages (a URL's file name, say).
  ScopedRemoteInput(const std::string& name, SourceFactory factory);
  ~ScopedRemoteInput();
  ScopedRemoteInput(const ScopedRemoteInput&) = delete;
  ScopedRemoteInput& operator=(const ScopedRemoteInput&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool IsRemoteInputPath(const std::string& path);

// A new source for a registered pseudo-path; NotFound once its
// ScopedRemoteInput is gone.
Result<std::unique_ptr<RandomAccessSource>> OpenRemoteInput(const std::string& path);

}  // namespace cutroom::media
