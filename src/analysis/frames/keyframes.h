// Key frame times of a video: where its encoder placed intra frames, read
// from the packet flags by libavformat without decoding anything, so a
// long file is scanned in about the time it takes to read it.
//
// Thread-safety: reentrant.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/result.h"

namespace cutroom::analysis {

// Presentation times (seconds from the video stream's start, the same
// origin as media::VideoFrame::pts_s) of the key frames of the file's
// first video stream, ascending and distinct. Packets without a timestamp
// are skipped. InvalidArgument when the file is not media cutroom reads or
// has no video stream ("has no video stream"); NotFound when it is missing.
Result<std::vector<double>> KeyframeTimes(const std::string& path);

// At most max_count of times (sorted), spread evenly over the list and
// always including the first and the last; all of them when they fit.
std::vector<double> ThinEvenly(const std::vector<double>& times, size_t max_count);

}  // namespace cutroom::analysis
