// OpenAiClient: requests to an OpenAI-compatible HTTP API (OpenAI itself,
// whisper.cpp's server, faster-whisper servers, Ollama, llama.cpp, vLLM),
// configured by base URL, model and the name of the environment variable
// that holds the key.
//
// Requests are retried on 429 and 5xx (and on network errors, connect
// timeouts included) with exponential backoff, honouring Retry-After; other
// 4xx fail at once with the service's own error message (InvalidArgument).
// A request the service accepted but did not answer within timeout_s fails
// at once with IOError: retrying would multiply a wait already too long.
// Replies must be JSON objects; anything else is Corruption saying what
// arrived.
// Thread-safety: a client is immutable; concurrent requests are fine.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/result.h"

namespace cutroom::ai {

struct OpenAiOptions {
  std::string base_url;  // "https://api.openai.com/v1" or "http://127.0.0.1:8080/v1"
  std::string api_key;   // may be empty (local servers)
  long timeout_s = 300;     // whole request, upload and reply included
  int max_attempts = 4;     // tries in all, the first included
  int64_t backoff_ms = 1000;  // wait before the 2nd try; doubles after each
};

struct MultipartField {
  std::string name;
  std::string value;
  std::string filename;      // set for file parts
  std::string content_type;  // for file parts
};

class OpenAiClient {
 public:
  explicit OpenAiClient(OpenAiOptions options) : options_(std::move(options)) {}

  // From llm.base_url and the variable named by llm.api_key_env.
  // FailedPrecondition when no base URL is configured.
  static Result<OpenAiClient> FromConfig(const Config& config, const std::string& base_url_key = "llm.base_url");

  // POST {base_url}{path} as multipart/form-data; the parsed JSON reply.
  Result<nlohmann::json> PostMultipart(const std::string& path, const std::vector<MultipartField>& fields) const;
  // POST {base_url}{path} with a JSON body.
  Result<nlohmann::json> PostJson(const std::string& path, const nlohmann::json& body) const;

  const OpenAiOptions& options() const { return options_; }

 private:
  Result<nlohmann::json> Send(const std::string& path, const std::vector<MultipartField>* fields,
                              const nlohmann::json* body) const;
  OpenAiOptions options_;
};

// At most max_bytes of `text` as a JSON string literal, for error messages
// that quote what a service sent: control characters are escaped and
// invalid UTF-8 (a binary reply, a cut multi-byte character) is replaced,
// so the message can be logged and returned as JSON safely.
std::string QuotedSnippet(std::string_view text, size_t max_bytes = 300);

}  // namespace cutroom::ai
