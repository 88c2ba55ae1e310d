// frames_bench: samples one frame every --every seconds of a video through
// VideoDecoder::FrameAt (seek to the keyframe before each time, decode
// forward skipping non-reference frames) and writes each as JPEG or raw
// RGB, like `ffmpeg -vf fps=1/N OUT/%04d.jpg` does by decoding everything.
// With --jobs N, N decoders on N threads share the samples (a VideoDecoder
// is single-threaded; separate ones run in parallel).
// Prints one JSON line: frames written and wall-clock seconds (open, the
// packet index and every frame included). run.sh compares it with ffmpeg.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "media/decoder.h"
#include "media/thumbnails.h"

namespace {

using cutroom::Status;
namespace media = cutroom::media;

Status WriteBytes(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) return Status::IOError("cannot write " + path);
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sample frames with VideoDecoder::FrameAt"};
  std::string input, out_dir, format = "jpg";
  double every = 10, offset = -1;
  int quality = 97, threads = 0, width = 0, jobs = 1;
  app.add_option("--input", input, "video file")->required();
  app.add_option("--out", out_dir, "directory for 0001.jpg, 0002.jpg, ... (must exist)")->required();
  app.add_option("--every", every, "seconds between samples")->check(CLI::PositiveNumber);
  app.add_option("--offset", offset,
                 "time of the first sample; default every/2 - 1 ms, the frames ffmpeg's fps filter picks");
  app.add_option("--format", format, "jpg or raw (packed RGB24)")->check(CLI::IsMember({"jpg", "raw"}));
  app.add_option("--quality", quality, "JPEG quality 1..100 (97 matches ffmpeg -q:v 3)")->check(CLI::Range(1, 100));
  app.add_option("--threads", threads, "decoder threads (0: auto)")->check(CLI::Range(0, 64));
  app.add_option("--jobs", jobs, "decoders working in parallel, each with --threads threads")->check(CLI::Range(1, 64));
  app.add_option("--width", width, "output width (0: display size)")->check(CLI::Range(0, 16384));
  CLI11_PARSE(app, argc, argv);
  // ffmpeg's fps filter rounds timestamps to the nearest output slot, so slot
  // k shows the last frame before (k + 0.5) * every.
  if (offset < 0) offset = every / 2 - 0.001;

  const auto start = std::chrono::steady_clock::now();
  media::DecodeOptions options;
  options.threads = threads;
  options.width = width;
  auto probe = media::VideoDecoder::Open(input, options);
  if (!probe.ok()) {
    std::fprintf(stderr, "frames_bench: %s\n", probe.status().ToString().c_str());
    return 1;
  }
  const double duration = (*probe)->info().duration_s;
  std::vector<double> times;
  for (double t = offset; t < duration; t += every) times.push_back(t);

  // Worker j takes samples j, j + jobs, ...: each decoder moves forward.
  auto work = [&](int j, media::VideoDecoder& decoder) -> Status {
    for (size_t k = static_cast<size_t>(j); k < times.size(); k += static_cast<size_t>(jobs)) {
      auto frame = decoder.FrameAt(times[k]);
      if (!frame.ok()) return frame.status().WithContext("frame at " + std::to_string(times[k]) + " s");
      char name[32];
      std::snprintf(name, sizeof name, "/%04zu.%s", k + 1, format.c_str());
      if (format == "jpg") {
        auto jpeg = media::EncodeJpeg(*frame, quality);
        if (!jpeg.ok()) return jpeg.status();
        CUTROOM_RETURN_IF_ERROR(WriteBytes(out_dir + name, jpeg->data(), jpeg->size()));
      } else {
        CUTROOM_RETURN_IF_ERROR(WriteBytes(out_dir + name, frame->pixels.data(), frame->pixels.size()));
      }
    }
    return Status::Ok();
  };
  std::vector<Status> results(static_cast<size_t>(jobs));
  std::vector<std::thread> workers;
  for (int j = 1; j < jobs; ++j) {
    workers.emplace_back([&, j] {
      auto decoder = media::VideoDecoder::Open(input, options);
      results[static_cast<size_t>(j)] = decoder.ok() ? work(j, **decoder) : decoder.status();
    });
  }
  results[0] = work(0, **probe);
  for (auto& w : workers) w.join();
  for (const Status& st : results) {
    if (!st.ok()) {
      std::fprintf(stderr, "frames_bench: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  const int written = static_cast<int>(times.size());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"frames\": %d, \"seconds\": %.3f, \"duration_s\": %.3f}\n", written, seconds, duration);
  return 0;
}
