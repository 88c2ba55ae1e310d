// Frames for the frames tests: images read by OpenCV, flat frames, and
// frames decoded from the shared test media.
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <string>

#include "core/result.h"
#include "media/decoder.h"

namespace cutroom::analysis::testing {

inline constexpr const char* kOpenCvData = "/usr/share/doc/opencv-doc/examples/data/";

inline media::VideoFrame FrameFromMat(const cv::Mat& mat) {
  media::VideoFrame f;
  f.width = mat.cols;
  f.height = mat.rows;
  f.format = mat.channels() == 1 ? media::PixelFormat::kGray8 : media::PixelFormat::kBgr24;
  cv::Mat packed = mat.isContinuous() ? mat : mat.clone();
  f.pixels.assign(packed.data, packed.data + packed.total() * packed.elemSize());
  return f;
}

inline cv::Mat MatFromFrame(const media::VideoFrame& f) {
  int type = f.format == media::PixelFormat::kGray8 ? CV_8UC1 : CV_8UC3;
  return cv::Mat(f.height, f.width, type, const_cast<uint8_t*>(f.pixels.data())).clone();
}

// An image file as a BGR frame; an empty frame when it cannot be read.
inline media::VideoFrame LoadImageFrame(const std::string& path) {
  cv::Mat m = cv::imread(path, cv::IMREAD_COLOR);
  if (m.empty()) return {};
  return FrameFromMat(m);
}

inline media::VideoFrame FlatFrame(int width, int height, uint8_t value,
                                   media::PixelFormat format = media::PixelFormat::kRgb24) {
  media::VideoFrame f;
  f.width = width;
  f.height = height;
  f.format = format;
  f.pixels.assign(static_cast<size_t>(width) * height * media::ChannelsOf(format), value);
  return f;
}

// The frame of a media file at t_s, decoded by VideoDecoder.
inline Result<media::VideoFrame> DecodeFrameAt(const std::string& path, double t_s,
                                               media::PixelFormat format = media::PixelFormat::kRgb24,
                                               int width = 0) {
  media::DecodeOptions o;
  o.format = format;
  o.width = width;
  CUTROOM_ASSIGN_OR_RETURN(auto decoder, media::VideoDecoder::Open(path, o));
  return decoder->FrameAt(t_s);
}

}  // namespace cutroom::analysis::testing
