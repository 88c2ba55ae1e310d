// render_bench: renders one clip with edit::Render, the cutroom side of
// bench/render/run.sh (which runs the equivalent ffmpeg command in the same
// run). Prints one JSON line: wall-clock seconds (opening the source and
// writing the whole file included) and what RenderResult reports.
//
// With --make-ass TRUTH.json it instead writes the captions both sides
// burn in: the spoken sentences of a make_test_video.py truth file, each
// word given a share of its sentence's time by its length, retimed onto
// the ranges with edit::BuildAssCaptions at the output size.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "edit/render/ass_captions.h"
#include "edit/render/renderer.h"

namespace {

namespace edit = cutroom::edit;

// "WxH" -> width, height.
bool ParseSize(const std::string& s, int& w, int& h) { return std::sscanf(s.c_str(), "%dx%d", &w, &h) == 2; }

// Words of the truth's sentences with times spread by length.
std::vector<cutroom::analysis::TranscriptWord> WordsFromTruth(const nlohmann::json& truth) {
  std::vector<cutroom::analysis::TranscriptWord> words;
  for (const auto& sentence : truth.at("speech")) {
    const double start = sentence.at("start_s").get<double>(), end = sentence.at("end_s").get<double>();
    std::istringstream in(sentence.at("text").get<std::string>());
    std::vector<std::string> tokens;
    size_t chars = 0;
    for (std::string w; in >> w;) {
      chars += w.size() + 1;
      tokens.push_back(w);
    }
    double t = start;
    for (const auto& w : tokens) {
      const double d = (end - start) * static_cast<double>(w.size() + 1) / static_cast<double>(chars);
      words.push_back({w, t, t + d, 1.0});
      t += d;
    }
  }
  return words;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Render a clip with cutroom's in-process renderer"};
  edit::RenderSpec spec;
  std::string output, crop, out_size;
  std::vector<std::string> ranges;
  std::vector<std::string> keys;
  app.add_option("--input", spec.source_path, "source media")->required();
  app.add_option("--output", output, "output MP4")->required();
  app.add_option("--range", ranges, "START:END in source seconds; repeat to join ranges in order")->required();
  app.add_option("--crop", crop, "crop WxH in display pixels (default: whole frame)");
  app.add_option("--crop-key", keys, "T:X:Y crop corner at output time T; repeat (default: centred)");
  app.add_option("--size", out_size, "output WxH (default: the crop size)");
  std::vector<std::string> layouts;
  app.add_option("--layout", layouts, "T:crop|fit layout from output time T; repeat (default: crop throughout)");
  app.add_option("--maxrate", spec.maxrate_kbps, "x264 VBV maxrate in kbit/s (bufsize twice that; 0: none)")
      ->check(CLI::Range(0, 100000));
  app.add_option("--ass", spec.ass_path, "ASS captions in output time");
  app.add_option("--crf", spec.crf, "x264 CRF")->check(CLI::Range(0, 51));
  app.add_option("--preset", spec.preset, "x264 preset");
  app.add_option("--fps", spec.fps, "output frame rate (default: the source's)");
  app.add_option("--threads", spec.threads, "decoder and encoder threads (0: auto)")->check(CLI::Range(0, 64));
  std::string truth_path;
  app.add_option("--make-ass", truth_path,
                 "write captions for the ranges and --size from this truth file to --ass (--input, --output unused)");
  CLI11_PARSE(app, argc, argv);

  for (const auto& r : ranges) {
    edit::TimeRange range;
    if (std::sscanf(r.c_str(), "%lf:%lf", &range.start_s, &range.end_s) != 2) {
      std::fprintf(stderr, "render_bench: --range wants START:END, got %s\n", r.c_str());
      return 2;
    }
    spec.ranges.push_back(range);
  }
  if (!crop.empty() && !ParseSize(crop, spec.crop_width, spec.crop_height)) {
    std::fprintf(stderr, "render_bench: --crop wants WxH\n");
    return 2;
  }
  if (!out_size.empty() && !ParseSize(out_size, spec.out_width, spec.out_height)) {
    std::fprintf(stderr, "render_bench: --size wants WxH\n");
    return 2;
  }
  for (const auto& k : keys) {
    edit::CropKey key;
    if (std::sscanf(k.c_str(), "%lf:%d:%d", &key.t_s, &key.x, &key.y) != 3) {
      std::fprintf(stderr, "render_bench: --crop-key wants T:X:Y\n");
      return 2;
    }
    spec.crop_path.push_back(key);
  }

  for (const auto& l : layouts) {
    edit::LayoutSegment seg;
    char mode[8] = {};
    if (std::sscanf(l.c_str(), "%lf:%7s", &seg.start_s, mode) != 2 ||
        (std::string(mode) != "crop" && std::string(mode) != "fit")) {
      std::fprintf(stderr, "render_bench: --layout wants T:crop or T:fit\n");
      return 2;
    }
    seg.mode = std::string(mode) == "fit" ? edit::LayoutMode::kFit : edit::LayoutMode::kCrop;
    spec.layout.push_back(seg);
  }
  spec.bufsize_kbps = 2 * spec.maxrate_kbps;

  if (!truth_path.empty()) {
    if (spec.ass_path.empty() || spec.out_width == 0) {
      std::fprintf(stderr, "render_bench: --make-ass needs --ass and --size\n");
      return 2;
    }
    try {
      std::ifstream in(truth_path);
      const auto words = WordsFromTruth(nlohmann::json::parse(in));
      const auto style = edit::DefaultCaptionStyle(spec.out_width, spec.out_height);
      std::ofstream out(spec.ass_path);
      out << edit::BuildAssCaptions(words, spec.ranges, style, spec.out_width, spec.out_height);
      out.close();
      if (!out) throw std::runtime_error("cannot write " + spec.ass_path);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "render_bench: %s\n", e.what());
      return 1;
    }
    return 0;
  }

  const auto start = std::chrono::steady_clock::now();
  auto result = edit::Render(spec, output);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) {
    std::fprintf(stderr, "render_bench: %s\n", result.status().ToString().c_str());
    return 1;
  }
  std::printf("{\"seconds\": %.3f, \"duration_s\": %.3f, \"width\": %d, \"height\": %d, \"has_audio\": %s, "
              "\"video_frames\": %lld}\n",
              seconds, result->duration_s, result->width, result->height, result->has_audio ? "true" : "false",
              static_cast<long long>(result->video_frames));
  return 0;
}
