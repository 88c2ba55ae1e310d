// Frame features: simple measurements of one decoded frame that searches,
// clip scoring and reframing use to tell frames apart, computed with
// OpenCV on whatever size the caller decoded (the frames stage uses at
// most 640 px wide: the measures are about the picture, not its pixels).
//
//   brightness  mean luma, 0 (black) .. 1 (white)
//   contrast    standard deviation of luma / 255: 0 for a flat frame, at
//               most 0.5 (half the pixels black, half white)
//   sharpness   variance of the Laplacian of the luma (0..255 scale): 0 for
//               a flat frame, tens for soft or blurred pictures, hundreds
//               and more for crisp detail. Depends on the frame size, so
//               compare frames of one size.
//   phash       64-bit DCT perceptual hash (OpenCV img_hash PHash): frames
//               that look the same have hashes a few bits apart whatever
//               their size or encoding.
//   motion      mean absolute luma difference between small gray copies of
//               this frame and the previous sample, 0 (identical) .. 1.
//
// Thread-safety: all functions are reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "media/decoder.h"

namespace cutroom::analysis {

struct FrameFeatures {
  double brightness = 0;
  double contrast = 0;
  double sharpness = 0;
  uint64_t phash = 0;
  std::optional<double> motion;  // unset when there was no previous sample
};

// Features of frame; motion against previous when it is given (frames of
// different sizes are compared at one small size). InvalidArgument for an
// empty frame or a pixel buffer that does not match its size.
Result<FrameFeatures> ComputeFrameFeatures(const media::VideoFrame& frame,
                                           const media::VideoFrame* previous = nullptr);

// The perceptual hash alone. Errors as ComputeFrameFeatures.
Result<uint64_t> PerceptualHash(const media::VideoFrame& frame);

// Hamming distance between two hashes: 0 (same picture) .. 64.
int PerceptualHashDistance(uint64_t a, uint64_t b);

// 16 lowercase hex digits, most significant first ("8f3a00c1d2e4b567").
std::string PerceptualHashHex(uint64_t hash);
// The inverse of PerceptualHashHex (either case); InvalidArgument for
// anything but 16 hex digits.
Result<uint64_t> ParsePerceptualHash(std::string_view hex);

// Motion between two frames as above: 0 (identical) .. 1 (black against
// white). Errors as ComputeFrameFeatures.
Result<double> FrameMotion(const media::VideoFrame& previous, const media::VideoFrame& current);

}  // namespace cutroom::analysis
