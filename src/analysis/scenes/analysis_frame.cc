#include "analysis/scenes/analysis_frame.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace cutroom::analysis::scenes {
namespace {

// Comparing frames needs their large shapes and colours only; this width
// also averages away per-pixel noise and fine moving patterns.
constexpr int kTargetWidth = 128;

struct HueSatTables {
  std::array<uint8_t, 256 * 256> hue;
  std::array<uint8_t, 256 * 256> sat;
  HueSatTables() {
    for (int u = 0; u < 256; ++u) {
      for (int v = 0; v < 256; ++v) {
        double du = u - 128.0, dv = v - 128.0;
        double angle = std::atan2(dv, du);  // -pi..pi
        int h = static_cast<int>(std::lround((angle + M_PI) / (2 * M_PI) * 256.0)) & 255;
        double r = std::hypot(du, dv) * (255.0 / 181.0);
        hue[u * 256 + v] = static_cast<uint8_t>(h);
        sat[u * 256 + v] = static_cast<uint8_t>(std::min(255.0, std::round(r)));
      }
    }
  }
};

const HueSatTables& Tables() {
  static const HueSatTables tables;
  return tables;
}

// MPEG levels (luma 16..235, chroma 16..240 around 128) to full range.
struct LevelTables {
  std::array<uint8_t, 256> luma;
  std::array<uint8_t, 256> chroma;
  LevelTables() {
    for (int i = 0; i < 256; ++i) {
      luma[i] = static_cast<uint8_t>(std::clamp(std::lround((i - 16) * 255.0 / 219.0), 0L, 255L));
      chroma[i] = static_cast<uint8_t>(std::clamp(std::lround((i - 128) * 255.0 / 224.0 + 128.0), 0L, 255L));
    }
  }
};

const LevelTables& Levels() {
  static const LevelTables tables;
  return tables;
}

// One component of a planar or semi-planar 8-bit picture.
struct Component {
  const uint8_t* base;
  int linesize;
  int step;    // bytes between horizontally adjacent samples
  int offset;  // byte offset of the first sample
  int log2_w;  // subsampling of this component
  int log2_h;
};

// Box-averages `c` onto an out_w x out_h grid whose cells cover `f` x `f`
// luma pixels. Cells taller than kRowsPerCell rows average evenly spaced
// rows only: the mean of a 15x15 block barely moves when 4 of its rows
// stand for all 15, and reading a 1080p frame is most of the cost.
constexpr int kRowsPerCell = 4;

void Reduce(const Component& c, int src_w, int src_h, int f, int out_w, int out_h, uint8_t* dst) {
  const int cw = -((-src_w) >> c.log2_w), ch = -((-src_h) >> c.log2_h);
  auto range = [f](int i, int log2, int limit) {
    int lo = std::min((i * f) >> log2, limit - 1);
    int hi = std::clamp(((i + 1) * f) >> log2, lo + 1, limit);
    return std::pair<int, int>(lo, hi);
  };
  thread_local std::vector<int> x0s, x1s;
  thread_local std::vector<uint16_t> sums;
  x0s.resize(out_w);
  x1s.resize(out_w);
  for (int x = 0; x < out_w; ++x) std::tie(x0s[x], x1s[x]) = range(x, c.log2_w, cw);
  // The bytes of a row that the cells read (with a semi-planar picture's
  // other component in between), summed down the rows of a cell first: a
  // straight loop the compiler vectorises, then a short sum across.
  const size_t span = static_cast<size_t>(x1s[out_w - 1] - 1) * c.step + 1;
  sums.resize(span);
  uint16_t* sum = sums.data();
  for (int y = 0; y < out_h; ++y) {
    auto [y0, y1] = range(y, c.log2_h, ch);
    const int rows = y1 - y0;
    const int step = rows > kRowsPerCell ? rows / kRowsPerCell : 1;
    int used = 0;  // at most 2 * kRowsPerCell - 1, so 16 bits hold the sums
    for (int sy = y0 + (rows - 1 - (rows - 1) / step * step) / 2; sy < y1; sy += step, ++used) {
      const uint8_t* row = c.base + static_cast<ptrdiff_t>(sy) * c.linesize + c.offset;
      if (used == 0) {
        for (size_t i = 0; i < span; ++i) sum[i] = row[i];
      } else {
        for (size_t i = 0; i < span; ++i) sum[i] = static_cast<uint16_t>(sum[i] + row[i]);
      }
    }
    uint8_t* out = dst + static_cast<size_t>(y) * out_w;
    for (int x = 0; x < out_w; ++x) {
      uint32_t total = 0;
      for (int sx = x0s[x]; sx < x1s[x]; ++sx) total += sum[static_cast<size_t>(sx) * c.step];
      uint32_t n = static_cast<uint32_t>((x1s[x] - x0s[x]) * used);
      out[x] = static_cast<uint8_t>((total + n / 2) / n);
    }
  }
}

// Planar or semi-planar 8-bit YUV (or grey) that Reduce can read.
bool Readable(const AVPixFmtDescriptor* d) {
  if (!d || (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM |
                         AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BE | AV_PIX_FMT_FLAG_FLOAT))) {
    return false;
  }
  int colour = d->nb_components - ((d->flags & AV_PIX_FMT_FLAG_ALPHA) ? 1 : 0);
  if (colour != 1 && colour != 3) return false;
  for (int i = 0; i < colour; ++i) {
    if (d->comp[i].depth != 8 || d->comp[i].shift != 0) return false;
  }
  return d->comp[0].step == 1;
}

void FinishMean(AnalysisFrame& out) {
  uint64_t sum = 0;
  for (uint8_t y : out.luma) sum += y;
  out.mean_luma = out.luma.empty() ? 0.0 : static_cast<double>(sum) / static_cast<double>(out.luma.size());
}

int PickDownscale(int width, int requested) {
  if (requested > 0) return requested;
  return std::max(1, static_cast<int>(std::lround(static_cast<double>(width) / kTargetWidth)));
}

}  // namespace

int AnalysisDownscale(const media::VideoStreamInfo& info, int requested) {
  const bool quarter = info.rotation == 90 || info.rotation == 270;
  return PickDownscale(quarter ? info.display_height : info.display_width, requested);
}

bool CanShrinkPlanar(int pixel_format) {
  return Readable(av_pix_fmt_desc_get(static_cast<AVPixelFormat>(pixel_format)));
}

void ChromaToHueSat(const uint8_t* u, const uint8_t* v, size_t n, uint8_t* hue, uint8_t* sat) {
  const HueSatTables& t = Tables();
  for (size_t i = 0; i < n; ++i) {
    size_t k = static_cast<size_t>(u[i]) * 256 + v[i];
    hue[i] = t.hue[k];
    sat[i] = t.sat[k];
  }
}

Result<std::unique_ptr<AnalysisFrameSource>> AnalysisFrameSource::Open(const std::string& path,
                                                                       const FrameSourceOptions& options) {
  if (options.downscale < 0 || options.downscale > 64) {
    return Status::InvalidArgument("downscale must be 0 (automatic) to 64");
  }
  std::unique_ptr<AnalysisFrameSource> src(new AnalysisFrameSource());
  src->path_ = path;
  src->options_ = options;
  media::DecodeOptions opts;
  opts.threads = options.threads;
  opts.skip_loop_filter = true;
  opts.apply_rotation = false;  // differences between frames do not depend on which way is up
  CUTROOM_ASSIGN_OR_RETURN(src->raw_, media::VideoDecoder::Open(path, opts));
  src->downscale_ = AnalysisDownscale(src->raw_->info(), options.downscale);
  return src;
}

AnalysisFrameSource::~AnalysisFrameSource() = default;

const media::VideoStreamInfo& AnalysisFrameSource::info() const { return (raw_ ? raw_ : rgb_)->info(); }

Result<bool> AnalysisFrameSource::Next(AnalysisFrame& out) {
  if (rgb_) {
    CUTROOM_RETURN_IF_ERROR(FromRgb(out));
    return !out.luma.empty();
  }
  media::RawPicture pic;
  CUTROOM_ASSIGN_OR_RETURN(bool got, raw_->NextRaw(pic));
  if (!got) return false;
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(pic.pixel_format));
  if (!Readable(d)) {
    if (pic.index != 0) return Status::InvalidArgument("the pixel format of " + path_ + " changed mid-stream");
    // A pixel format the plane reader does not know (RGB, 10-bit,
    // palettes): decode again from the start, converted to small RGB.
    media::DecodeOptions opts;
    opts.threads = options_.threads;
    opts.skip_loop_filter = true;
    opts.apply_rotation = false;
    opts.format = media::PixelFormat::kRgb24;
    opts.width = std::max(1, pic.width / downscale_);
    opts.height = std::max(1, pic.height / downscale_);
    raw_.reset();
    CUTROOM_ASSIGN_OR_RETURN(rgb_, media::VideoDecoder::Open(path_, opts));
    CUTROOM_RETURN_IF_ERROR(FromRgb(out));
    return !out.luma.empty();
  }
  ShrinkPlanar(pic, downscale_, out);
  return true;
}

void ShrinkPlanar(const media::RawPicture& pic, int downscale, AnalysisFrame& out) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(pic.pixel_format));
  const int f = downscale;
  out.index = pic.index;
  out.pts_s = pic.pts_s;
  out.width = std::max(1, pic.width / f);
  out.height = std::max(1, pic.height / f);
  const size_t n = static_cast<size_t>(out.width) * out.height;
  out.luma.resize(n);
  out.hue.resize(n);
  out.sat.resize(n);
  auto component = [&](int i) {
    const AVComponentDescriptor& c = d->comp[i];
    bool chroma = i > 0;
    return Component{pic.planes[c.plane], pic.linesize[c.plane], c.step, c.offset,
                     chroma ? d->log2_chroma_w : 0, chroma ? d->log2_chroma_h : 0};
  };
  Reduce(component(0), pic.width, pic.height, f, out.width, out.height, out.luma.data());
  if (!pic.full_range) {
    const auto& lv = Levels().luma;
    for (auto& y : out.luma) y = lv[y];
  }
  int colour = d->nb_components - ((d->flags & AV_PIX_FMT_FLAG_ALPHA) ? 1 : 0);
  if (colour == 1) {
    std::fill(out.hue.begin(), out.hue.end(), 0);
    std::fill(out.sat.begin(), out.sat.end(), 0);
  } else {
    // hue and sat double as scratch space for the reduced U and V.
    Reduce(component(1), pic.width, pic.height, f, out.width, out.height, out.hue.data());
    Reduce(component(2), pic.width, pic.height, f, out.width, out.height, out.sat.data());
    if (!pic.full_range) {
      const auto& lv = Levels().chroma;
      for (size_t i = 0; i < n; ++i) {
        out.hue[i] = lv[out.hue[i]];
        out.sat[i] = lv[out.sat[i]];
      }
    }
    ChromaToHueSat(out.hue.data(), out.sat.data(), n, out.hue.data(), out.sat.data());
  }
  FinishMean(out);
}

Status AnalysisFrameSource::FromRgb(AnalysisFrame& out) {
  media::VideoFrame frame;
  CUTROOM_ASSIGN_OR_RETURN(bool got, rgb_->Next(frame));
  if (!got) {
    out.luma.clear();
    return Status::Ok();
  }
  out.index = frame.index;
  out.pts_s = frame.pts_s;
  out.width = frame.width;
  out.height = frame.height;
  const size_t n = static_cast<size_t>(frame.width) * frame.height;
  out.luma.resize(n);
  out.hue.resize(n);
  out.sat.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = &frame.pixels[i * 3];
    double r = p[0], g = p[1], b = p[2];
    // BT.601 full range, the levels the planar path produces.
    double y = 0.299 * r + 0.587 * g + 0.114 * b;
    double u = 128.0 + 0.564 * (b - y), v = 128.0 + 0.713 * (r - y);
    out.luma[i] = static_cast<uint8_t>(std::clamp(std::lround(y), 0L, 255L));
    out.hue[i] = static_cast<uint8_t>(std::clamp(std::lround(u), 0L, 255L));
    out.sat[i] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
  }
  ChromaToHueSat(out.hue.data(), out.sat.data(), n, out.hue.data(), out.sat.data());
  FinishMean(out);
  return Status::Ok();
}

}  // namespace cutroom::analysis::scenes
