#include "analysis/frames/features.h"

#include <opencv2/img_hash.hpp>
#include <opencv2/imgproc.hpp>

#include <bit>
#include <cmath>

#include "analysis/frames/cv_frame.h"

namespace cutroom::analysis {
namespace {

using frames_internal::CatchCv;
using frames_internal::GrayMat;

// The size motion is measured at: small enough that noise, compression
// artefacts and a pixel of camera shake average out, large enough that a
// person moving across the frame shows.
constexpr int kMotionWidth = 64;
constexpr int kMotionHeight = 36;

Result<uint64_t> HashOfGray(const cv::Mat& gray) {
  uint64_t hash = 0;
  CUTROOM_RETURN_IF_ERROR(CatchCv("perceptual hash", [&] {
    cv::Mat bytes;
    cv::img_hash::pHash(gray, bytes);
    // PHash packs 64 bits into 8 bytes; the first byte holds the
    // lowest-frequency coefficients, so it becomes the most significant.
    CV_Assert(bytes.total() == 8 && bytes.type() == CV_8U);
    for (int i = 0; i < 8; ++i) hash = (hash << 8) | bytes.at<uint8_t>(i);
  }));
  return hash;
}

Result<cv::Mat> MotionThumb(const media::VideoFrame& frame) {
  CUTROOM_ASSIGN_OR_RETURN(cv::Mat gray, GrayMat(frame));
  cv::Mat small;
  CUTROOM_RETURN_IF_ERROR(CatchCv("shrink frame", [&] {
    cv::resize(gray, small, cv::Size(kMotionWidth, kMotionHeight), 0, 0, cv::INTER_AREA);
  }));
  return small;
}

Result<double> MotionBetween(const cv::Mat& a, const cv::Mat& b) {
  double motion = 0;
  CUTROOM_RETURN_IF_ERROR(CatchCv("frame difference", [&] {
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    motion = cv::mean(diff)[0] / 255.0;
  }));
  return motion;
}

}  // namespace

Result<FrameFeatures> ComputeFrameFeatures(const media::VideoFrame& frame, const media::VideoFrame* previous) {
  CUTROOM_ASSIGN_OR_RETURN(cv::Mat gray, GrayMat(frame));
  FrameFeatures f;
  CUTROOM_RETURN_IF_ERROR(CatchCv("frame statistics", [&] {
    cv::Scalar mean, stddev;
    cv::meanStdDev(gray, mean, stddev);
    f.brightness = mean[0] / 255.0;
    f.contrast = stddev[0] / 255.0;
    cv::Mat lap;
    cv::Laplacian(gray, lap, CV_64F);
    cv::meanStdDev(lap, mean, stddev);
    f.sharpness = stddev[0] * stddev[0];
  }));
  CUTROOM_ASSIGN_OR_RETURN(f.phash, HashOfGray(gray));
  if (previous) {
    CUTROOM_ASSIGN_OR_RETURN(f.motion, FrameMotion(*previous, frame));
  }
  return f;
}

Result<uint64_t> PerceptualHash(const media::VideoFrame& frame) {
  CUTROOM_ASSIGN_OR_RETURN(cv::Mat gray, GrayMat(frame));
  return HashOfGray(gray);
}

int PerceptualHashDistance(uint64_t a, uint64_t b) { return std::popcount(a ^ b); }

std::string PerceptualHashHex(uint64_t hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) out[static_cast<size_t>(i)] = kDigits[hash & 0xf];
  return out;
}

Result<uint64_t> ParsePerceptualHash(std::string_view hex) {
  if (hex.size() != 16) return Status::InvalidArgument("a perceptual hash is 16 hex digits, got '" + std::string(hex) + "'");
  uint64_t hash = 0;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      return Status::InvalidArgument("a perceptual hash is 16 hex digits, got '" + std::string(hex) + "'");
    }
    hash = (hash << 4) | static_cast<uint64_t>(v);
  }
  return hash;
}

Result<double> FrameMotion(const media::VideoFrame& previous, const media::VideoFrame& current) {
  CUTROOM_ASSIGN_OR_RETURN(cv::Mat a, MotionThumb(previous));
  CUTROOM_ASSIGN_OR_RETURN(cv::Mat b, MotionThumb(current));
  return MotionBetween(a, b);
}

}  // namespace cutroom::analysis
