// What the width faces are searched at costs and changes: the render's
// face sampling (edit_jobs.cc) searches copies up to 1920 px wide; this
// compares that with a candidate width on the same frames, for time per
// detection and for agreement (faces found at the reference width that the
// candidate finds too, IoU >= 0.4, and faces only the candidate finds).
// Prints one line per file and width.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "analysis/frames/faces.h"
#include "media/decoder.h"

namespace {

using cutroom::analysis::FaceBox;

double Iou(const FaceBox& a, const FaceBox& b) {
  double x0 = std::max(a.nx, b.nx), y0 = std::max(a.ny, b.ny);
  double x1 = std::min(a.nx + a.nwidth, b.nx + b.nwidth), y1 = std::min(a.ny + a.nheight, b.ny + b.nheight);
  double inter = std::max(0.0, x1 - x0) * std::max(0.0, y1 - y0);
  double uni = a.nwidth * a.nheight + b.nwidth * b.nheight - inter;
  return uni > 0 ? inter / uni : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"face detection at two analysis widths on the same frames"};
  std::string file;
  int candidate = 0;
  double every_s = 1.0;
  app.add_option("file", file)->required();
  app.add_option("--width", candidate, "candidate analysis width (the reference is min(1920, display width))")
      ->required();
  app.add_option("--every", every_s, "seconds between sampled frames");
  CLI11_PARSE(app, argc, argv);

  cutroom::media::DecodeOptions opts;
  opts.format = cutroom::media::PixelFormat::kGray8;
  auto probe = cutroom::media::VideoDecoder::Open(file, opts);
  if (!probe.ok()) {
    std::fprintf(stderr, "%s\n", probe.status().ToString().c_str());
    return 1;
  }
  const int reference = std::min(1920, (*probe)->info().display_width);
  const double duration = (*probe)->info().duration_s;
  opts.width = reference;
  probe->reset();
  auto decoder = cutroom::media::VideoDecoder::Open(file, opts);
  cutroom::analysis::FaceDetectorOptions ro, co;
  ro.analysis_width = reference;
  co.analysis_width = candidate;
  auto ref = cutroom::analysis::FaceDetector::Open(ro);
  auto cand = cutroom::analysis::FaceDetector::Open(co);
  if (!decoder.ok() || !ref.ok() || !cand.ok()) return 1;
  int frames = 0, ref_faces = 0, matched = 0, extra = 0;
  double ref_s = 0, cand_s = 0;
  for (double t = 0; t < duration; t += every_s) {
    auto frame = (*decoder)->FrameAt(t);
    if (!frame.ok()) break;
    auto a0 = std::chrono::steady_clock::now();
    auto rf = (*ref)->Detect(*frame);
    auto a1 = std::chrono::steady_clock::now();
    auto cf = (*cand)->Detect(*frame);
    auto a2 = std::chrono::steady_clock::now();
    if (!rf.ok() || !cf.ok()) return 1;
    ref_s += std::chrono::duration<double>(a1 - a0).count();
    cand_s += std::chrono::duration<double>(a2 - a1).count();
    ++frames;
    std::vector<bool> used(cf->size(), false);
    for (const auto& r : *rf) {
      ++ref_faces;
      for (size_t i = 0; i < cf->size(); ++i) {
        if (!used[i] && Iou(r, (*cf)[i]) >= 0.4) {
          used[i] = true;
          ++matched;
          break;
        }
      }
    }
    extra += static_cast<int>(std::count(used.begin(), used.end(), false));
  }
  std::printf("%-40s frames %4d  ref width %4d: %6.1f ms/frame, %4d faces | width %4d: %6.1f ms/frame, found %4d "
              "(%.1f%%), extra %d\n",
              file.substr(file.rfind('/') + 1).c_str(), frames, reference, 1000 * ref_s / std::max(1, frames), ref_faces,
              candidate, 1000 * cand_s / std::max(1, frames), matched,
              ref_faces ? 100.0 * matched / ref_faces : 100.0, extra);
  return 0;
}
