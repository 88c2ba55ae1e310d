// OpenAiClient: requests to an OpenAI-compatible HTTP API (OpenAI itself,
// whisper.cpp's server, faster-whisper servers, Ollama, llama.cpp, vLLM),
// configured by base URL, model and the name of the environment variable
// that holds the key.
//
// Requests are retried on 429 and 5xx (and on network errors) with
// exponential backoff, honouring Retry-After; other 4xx fail at once with
// the service's own error message. Replies must be JSON objects; anything
// else is an error that says what arrived.
// Thread-safety: a client is immutable; concurrent requests are fine.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"

namespace cutroom::ai {

struct OpenAiOptions {
  std::string base_url;  // "https://api.openai.com/v1" or "http://127.0.0.1:8080/v1"
  std::string api_key;   // may be empty (local servers)
  long timeout_s = 300;
  int max_attempts = 4;
  int64_t backoff_ms = 1000;
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

}  // namespace cutroom::ai
