// Shrunken frames for scene detection: luma, hue and chroma saturation
// planes at 1/downscale of the coded size, read straight from the codec's
// planar YUV (box-averaged, no colour conversion), with the deblocking
// filter skipped. Detection compares frames a few hundred pixels wide, so
// full-size RGB would be wasted work.
//
// Thread-safety: an AnalysisFrameSource is used by one thread; the decoder
// under it runs its own frame threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "media/decoder.h"

namespace cutroom::analysis::scenes {

struct AnalysisFrame {
  int64_t index = 0;  // 0-based, presentation order
  double pts_s = 0;
  int width = 0;      // of each plane
  int height = 0;
  std::vector<uint8_t> luma;  // 0..255 (MPEG levels stretched to full range)
  std::vector<uint8_t> hue;   // angle of (U, V) around grey, 0..255 for 0..360 degrees
  std::vector<uint8_t> sat;   // distance of (U, V) from grey, 0..255
  double mean_luma = 0;       // 0..255
};

struct FrameSourceOptions {
  // Integer shrink factor; 0 picks one that makes frames about 128 px wide.
  int downscale = 0;
  int threads = 0;  // decoder threads, 0: one per core
};

class AnalysisFrameSource {
 public:
  // Errors as media::VideoDecoder::Open (NotFound: no video stream).
  static Result<std::unique_ptr<AnalysisFrameSource>> Open(const std::string& path,
                                                           const FrameSourceOptions& options);
  ~AnalysisFrameSource();
  AnalysisFrameSource(const AnalysisFrameSource&) = delete;
  AnalysisFrameSource& operator=(const AnalysisFrameSource&) = delete;

  const media::VideoStreamInfo& info() const;
  int downscale() const { return downscale_; }

  // The next frame in presentation order into `out` (buffers reused); false
  // at the end. Errors as VideoDecoder::Next.
  Result<bool> Next(AnalysisFrame& out);

 private:
  AnalysisFrameSource() = default;
  Status FromRgb(AnalysisFrame& out);

  std::unique_ptr<media::VideoDecoder> raw_;  // planar YUV path
  std::unique_ptr<media::VideoDecoder> rgb_;  // any other pixel format: small RGB
  int downscale_ = 1;
  std::string path_;
  FrameSourceOptions options_;
};

// Fills hue and sat from the chroma planes (or luma/hue/sat from RGB).
void ChromaToHueSat(const uint8_t* u, const uint8_t* v, size_t n, uint8_t* hue, uint8_t* sat);

// The shrink factor AnalysisFrameSource uses for a stream (`requested` > 0
// is taken as is; 0 makes frames about 128 px wide).
int AnalysisDownscale(const media::VideoStreamInfo& info, int requested);
// Whether ShrinkPlanar reads pictures of this AVPixelFormat (planar or
// semi-planar 8-bit YUV or grey).
bool CanShrinkPlanar(int pixel_format);
// One decoded picture shrunk by `downscale` into `out` (buffers reused), as
// AnalysisFrameSource::Next makes it. REQUIRES: CanShrinkPlanar(pic.pixel_format).
void ShrinkPlanar(const media::RawPicture& pic, int downscale, AnalysisFrame& out);

}  // namespace cutroom::analysis::scenes
