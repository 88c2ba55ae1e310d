// Transcriber: speech to a Transcript, behind one interface for every
// engine (pocketsphinx locally, any OpenAI-compatible service remotely).
// Engines stream the file's audio (never the whole track in memory) and
// report progress; returning false from the progress callback cancels.
// Thread-safety: an engine may serve several transcriptions at once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "analysis/transcribe/transcript.h"
#include "core/result.h"

namespace cutroom::analysis {

struct TranscribeOptions {
  std::string language = "en";
  double duration_s = 0;  // for progress; 0 when unknown
  // Keep hesitations ("um", "uh") as words, for filler removal. Whisper-
  // family services leave them out unless the prompt has some; the
  // openai engine sends such a prompt. pocketsphinx has no such switch
  // (its language model scores fillers below real words either way).
  bool verbatim = false;
  // Fraction done (0..1); returning false cancels (Cancelled).
  std::function<bool(double)> progress;
};

class Transcriber {
 public:
  virtual ~Transcriber() = default;
  virtual std::string engine() const = 0;
  virtual std::vector<std::string> languages() const = 0;
  // A media file with no audio stream gives an empty transcript with a note.
  virtual Result<Transcript> TranscribeFile(const std::string& path, const TranscribeOptions& options) = 0;
};

// The local engine: Debian's pocketsphinx with the en-us model. Decoders
// are made once per process (one per core) and reused.
// NotFound when the model files are not installed.
Result<Transcriber*> PocketsphinxTranscriber();

}  // namespace cutroom::analysis
