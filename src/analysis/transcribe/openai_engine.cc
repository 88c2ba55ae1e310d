// The "openai" engine: any OpenAI-compatible POST /audio/transcriptions
// (OpenAI, whisper.cpp's server, faster-whisper servers). The audio is sent
// as 16 kHz mono WAV in pieces under the service's size limit, cut in the
// middle of pauses found by the voice activity segmenter, and the pieces'
// times are shifted back onto the media's timeline.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "analysis/transcribe/openai_engine.h"
#include "analysis/transcribe/vad.h"
#include "media/audio.h"

namespace cutroom::analysis {
namespace {

constexpr const char* kVerbatimPrompt = "Umm, let me think like, hmm... Okay, here's what I'm, like, thinking. Uh, so, um.";

constexpr int kRate = 16000;

std::string Wav(const int16_t* samples, size_t count) {
  auto le32 = [](uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; };
  auto le16 = [](uint16_t v) { return std::string{char(v), char(v >> 8)}; };
  uint32_t bytes = static_cast<uint32_t>(count * 2);
  std::string out = "RIFF" + le32(36 + bytes) + "WAVEfmt " + le32(16) + le16(1) + le16(1) + le32(kRate) +
                    le32(kRate * 2) + le16(2) + le16(16) + "data" + le32(bytes);
  out.append(reinterpret_cast<const char*>(samples), bytes);
  return out;
}

double Number(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return std::nan("");
  return j[key].get<double>();
}

// Parses one verbose_json reply, shifting times by offset_s.
Result<std::vector<TranscriptSegment>> ParseReply(const nlohmann::json& reply, double offset_s, double piece_s) {
  if (!reply.contains("text") || !reply["text"].is_string()) {
    return Status::Corruption("the transcription service's reply has no 'text' (was response_format verbose_json "
                              "honoured?)");
  }
  std::vector<TranscriptWord> words;
  if (reply.contains("words") && reply["words"].is_array()) {
    for (const auto& w : reply["words"]) {
      double start = Number(w, "start"), end = Number(w, "end");
      if (!w.contains("word") || !w["word"].is_string() || std::isnan(start) || std::isnan(end) || end < start) {
        return Status::Corruption("the transcription service's reply has a malformed word: " + w.dump());
      }
      std::string text = w["word"];
      text.erase(0, text.find_first_not_of(' '));
      if (text.empty()) continue;
      words.push_back({text, offset_s + start, offset_s + end, 0});
    }
  }
  std::vector<TranscriptSegment> segments;
  if (reply.contains("segments") && reply["segments"].is_array()) {
    for (const auto& s : reply["segments"]) {
      double start = Number(s, "start"), end = Number(s, "end");
      if (!s.contains("text") || !s["text"].is_string() || std::isnan(start) || std::isnan(end)) {
        return Status::Corruption("the transcription service's reply has a malformed segment: " + s.dump());
      }
      TranscriptSegment seg;
      seg.start_s = offset_s + start;
      seg.end_s = offset_s + end;
      seg.text = s["text"];
      seg.text.erase(0, seg.text.find_first_not_of(' '));
      double logprob = Number(s, "avg_logprob");
      seg.confidence = std::isnan(logprob) ? 0 : std::clamp(std::exp(logprob), 0.0, 1.0);
      if (!seg.text.empty()) segments.push_back(std::move(seg));
    }
  }
  std::string text = reply["text"];
  if (segments.empty() && text.find_first_not_of(' ') != std::string::npos) {
    TranscriptSegment seg;  // a service without segments: one per piece
    seg.start_s = words.empty() ? offset_s : words.front().start_s;
    seg.end_s = words.empty() ? offset_s + piece_s : words.back().end_s;
    seg.text = text.substr(text.find_first_not_of(' '));
    segments.push_back(std::move(seg));
  }
  // Words belong to the segment whose span holds their middle.
  for (auto& w : words) {
    double mid = (w.start_s + w.end_s) / 2;
    TranscriptSegment* best = nullptr;
    for (auto& s : segments) {
      if (mid >= s.start_s - 0.05 && mid <= s.end_s + 0.05) {
        best = &s;
        break;
      }
    }
    if (!best && !segments.empty()) best = &segments.back();
    if (best) {
      w.confidence = best->confidence;
      best->words.push_back(w);
    }
  }
  return segments;
}

class OpenAiEngine : public Transcriber {
 public:
  OpenAiEngine(ai::OpenAiClient client, OpenAiTranscribeOptions options)
      : client_(std::move(client)), options_(std::move(options)) {}

  std::string engine() const override { return "openai"; }
  // The service decides; these are the ones Whisper models know well.
  std::vector<std::string> languages() const override { return {}; }

  Result<Transcript> TranscribeFile(const std::string& path, const TranscribeOptions& options) override {
    Transcript out;
    out.engine = "openai";
    out.model = options_.model;
    out.language = options.language;

    // The current piece's audio and the pause midpoints inside it where a
    // cut may fall.
    std::vector<int16_t> piece;
    int64_t piece_start = 0;
    std::vector<int64_t> cuts;  // absolute sample positions
    int64_t last_utt_end = -1;
    const int64_t max_samples = static_cast<int64_t>(options_.max_piece_s * kRate);
    Status failure;
    int64_t total = 0;

    auto send = [&](int64_t end) -> Status {
      size_t n = static_cast<size_t>(end - piece_start);
      if (n == 0) return Status::Ok();
      std::vector<ai::MultipartField> fields = {
          {"model", options_.model, "", ""},
          {"response_format", "verbose_json", "", ""},
          {"timestamp_granularities[]", "word", "", ""},
          {"timestamp_granularities[]", "segment", "", ""},
          {"file", Wav(piece.data(), n), "audio.wav", "audio/wav"},
      };
      if (!options.language.empty()) fields.push_back({"language", options.language.substr(0, 2), "", ""});
      // Whisper writes in the style of its prompt: disfluent text in,
      // hesitations kept (OpenAI's speech-to-text prompting guide).
      if (options.verbatim) fields.push_back({"prompt", kVerbatimPrompt, "", ""});
      CUTROOM_ASSIGN_OR_RETURN(auto reply, client_.PostMultipart("/audio/transcriptions", fields));
      CUTROOM_ASSIGN_OR_RETURN(auto segs, ParseReply(reply, static_cast<double>(piece_start) / kRate,
                                                     static_cast<double>(n) / kRate));
      for (auto& s : segs) out.segments.push_back(std::move(s));
      ++pieces_;
      piece.erase(piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(n));
      piece_start = end;
      cuts.erase(std::remove_if(cuts.begin(), cuts.end(), [&](int64_t c) { return c <= end; }), cuts.end());
      return Status::Ok();
    };

    VoiceActivitySegmenter vad(VadOptions{}, [&](Utterance u) {
      int64_t start = u.start_sample;
      if (last_utt_end >= 0 && start > last_utt_end) cuts.push_back((last_utt_end + start) / 2);
      last_utt_end = start + static_cast<int64_t>(u.samples.size());
    });
    pieces_ = 0;
    Status extracted = media::ExtractAudio(path, kRate, [&](const int16_t* s, size_t n) -> Status {
      piece.insert(piece.end(), s, s + n);
      total += static_cast<int64_t>(n);
      vad.Push(s, n);
      while (static_cast<int64_t>(piece.size()) > max_samples) {
        // Cut at the last pause inside the limit, or hard at the limit.
        int64_t limit = piece_start + max_samples;
        int64_t cut = limit;
        for (int64_t c : cuts) {
          if (c > piece_start && c <= limit) cut = c;
        }
        CUTROOM_RETURN_IF_ERROR(send(cut));
      }
      if (options.progress && options.duration_s > 0 &&
          !options.progress(std::min(0.99, static_cast<double>(total) / (options.duration_s * kRate)))) {
        return Status::Cancelled("transcription cancelled");
      }
      return Status::Ok();
    });
    if (extracted.IsNotFound() && total == 0) {
      out.note = "the media has no audio track: nothing to transcribe";
      return out;
    }
    CUTROOM_RETURN_IF_ERROR(extracted);
    CUTROOM_RETURN_IF_ERROR(send(piece_start + static_cast<int64_t>(piece.size())));
    if (out.segments.empty()) out.note = "no speech was found";
    spdlog::info("transcribed {} piece(s) with {}", pieces_, options_.model);
    return out;
  }

 private:
  ai::OpenAiClient client_;
  OpenAiTranscribeOptions options_;
  int pieces_ = 0;
};

}  // namespace

std::unique_ptr<Transcriber> MakeOpenAiTranscriber(ai::OpenAiClient client, OpenAiTranscribeOptions options) {
  return std::make_unique<OpenAiEngine>(std::move(client), std::move(options));
}

}  // namespace cutroom::analysis
