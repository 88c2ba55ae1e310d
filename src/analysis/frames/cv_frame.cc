#include "analysis/frames/cv_frame.h"

#include <opencv2/imgproc.hpp>

namespace cutroom::analysis::frames_internal {

Status CheckFrame(const media::VideoFrame& frame) {
  if (frame.width <= 0 || frame.height <= 0) return Status::InvalidArgument("empty frame");
  const size_t expected =
      static_cast<size_t>(frame.width) * static_cast<size_t>(frame.height) * media::ChannelsOf(frame.format);
  if (frame.pixels.size() != expected) {
    return Status::InvalidArgument("frame pixels do not match its size (" + std::to_string(frame.width) + "x" +
                                   std::to_string(frame.height) + ")");
  }
  return Status::Ok();
}

cv::Mat MatView(const media::VideoFrame& frame) {
  const int type = frame.format == media::PixelFormat::kGray8 ? CV_8UC1 : CV_8UC3;
  // cv::Mat's borrowing constructor takes a non-const pointer; nothing
  // here writes through it.
  return cv::Mat(frame.height, frame.width, type, const_cast<uint8_t*>(frame.pixels.data()));
}

Result<cv::Mat> GrayMat(const media::VideoFrame& frame) {
  CUTROOM_RETURN_IF_ERROR(CheckFrame(frame));
  cv::Mat gray;
  CUTROOM_RETURN_IF_ERROR(CatchCv("convert frame to gray", [&] {
    cv::Mat view = MatView(frame);
    switch (frame.format) {
      case media::PixelFormat::kGray8: gray = view.clone(); break;
      case media::PixelFormat::kRgb24: cv::cvtColor(view, gray, cv::COLOR_RGB2GRAY); break;
      case media::PixelFormat::kBgr24: cv::cvtColor(view, gray, cv::COLOR_BGR2GRAY); break;
    }
  }));
  return gray;
}

}  // namespace cutroom::analysis::frames_internal
