// Internal to analysis/frames: media::VideoFrame as OpenCV matrices, and
// the one place OpenCV exceptions become Status.
//
// Ownership: MatView borrows the frame's pixels (the frame must outlive
// it); GrayMat returns a matrix that owns its pixels.
// Thread-safety: reentrant.
#pragma once

#include <opencv2/core.hpp>
#include <string>

#include "core/result.h"
#include "media/decoder.h"

namespace cutroom::analysis::frames_internal {

// InvalidArgument for an empty frame or one whose buffer does not match
// its size and format.
Status CheckFrame(const media::VideoFrame& frame);

// A header over the frame's packed pixels (CV_8UC1 or CV_8UC3, in the
// frame's channel order), without copying.
// REQUIRES: CheckFrame(frame).ok().
cv::Mat MatView(const media::VideoFrame& frame);

// An 8-bit single-channel luma copy (BT.601 weights, the same as libav's
// gray conversion). Errors as CheckFrame.
Result<cv::Mat> GrayMat(const media::VideoFrame& frame);

// Runs fn, turning a cv::Exception (or std::exception) into Internal with
// context; OpenCV reports bad arguments and allocation failures by
// throwing, and exceptions must not cross module boundaries.
template <typename Fn>
Status CatchCv(const std::string& context, Fn&& fn) {
  try {
    fn();
    return Status::Ok();
  } catch (const cv::Exception& e) {
    return Status::Internal(context + ": " + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(context + ": " + e.what());
  }
}

}  // namespace cutroom::analysis::frames_internal
