// Transcribes audio files with cutroom's pocketsphinx engine and reports
// the real-time factor, excluding the one-time model load (as a server
// pays it once per process). Hypotheses go to stdout as "id text" lines,
// one per file, for scoring.
//   transcribe_bench FILE...
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "analysis/transcribe/transcriber.h"
#include "core/log.h"
#include "media/probe.h"

using namespace cutroom;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: transcribe_bench FILE...\n");
    return 2;
  }
  InitLogging("human", "warn").IgnoreError();  // stdout carries the hypotheses
  auto t0 = std::chrono::steady_clock::now();
  auto engine = analysis::PocketsphinxTranscriber();
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    return 1;
  }
  double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double audio_s = 0, wall_s = 0;
  for (int i = 1; i < argc; ++i) {
    auto probe = media::ProbeMedia(argv[i]);
    if (!probe.ok()) {
      std::fprintf(stderr, "%s: %s\n", argv[i], probe.status().ToString().c_str());
      return 1;
    }
    auto start = std::chrono::steady_clock::now();
    auto t = (*engine)->TranscribeFile(argv[i], {});
    wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!t.ok()) {
      std::fprintf(stderr, "%s: %s\n", argv[i], t.status().ToString().c_str());
      return 1;
    }
    audio_s += probe->duration_s.value_or(0);
    std::printf("%s %s\n", std::filesystem::path(argv[i]).stem().c_str(), t->Text().c_str());
  }
  std::fprintf(stderr, "cutroom: %.2f s of audio in %.2f s: %.3f xRT (model load %.2f s, not counted)\n", audio_s,
               wall_s, wall_s / audio_s, load_s);
  return 0;
}
