// The hosted (or self-hosted) engine: an OpenAI-compatible
// /audio/transcriptions endpoint with verbose_json and word timestamps.
#pragma once

#include <memory>

#include "ai/openai_client.h"
#include "analysis/transcribe/transcriber.h"

namespace cutroom::analysis {

struct OpenAiTranscribeOptions {
  std::string model = "whisper-1";
  // Longest piece sent in one request. 16 kHz mono WAV is 32 kB a second,
  // so 600 s is about 19 MB, under OpenAI's 25 MB limit.
  double max_piece_s = 600;
};

// Not thread-safe: one transcription at a time per engine object.
std::unique_ptr<Transcriber> MakeOpenAiTranscriber(ai::OpenAiClient client, OpenAiTranscribeOptions options);

}  // namespace cutroom::analysis
