// ChatClient: chat completions from an OpenAI-compatible service (OpenAI,
// Ollama's /v1, llama.cpp's server, vLLM), text and images, chosen by
// configuration alone.
//
// Requests use the standard POST {base_url}/chat/completions body. A message
// without images is sent with plain string content (some servers refuse
// content arrays for text-only messages); a message with images is sent as
// a content array of a text part and image_url parts holding base64 data:
// URLs. Authorization: Bearer is sent only when a key is configured.
// Transport, retries and error codes are OpenAiClient's.
//
// At most ChatOptions::concurrency requests are in flight at once from one
// client and all its copies (they share the slots), so a local model
// server is not swamped by parallel jobs; callers beyond that block until a
// slot frees. Token usage is logged at debug level.
// Thread-safety: Complete() may be called from any number of threads; a
// client is otherwise immutable.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ai/openai_client.h"
#include "core/config.h"
#include "core/result.h"

namespace cutroom::ai {

struct ChatImage {
  std::string mime_type = "image/jpeg";
  std::string bytes;            // the encoded image (JPEG, PNG, WebP)
  std::string detail = "auto";  // OpenAI's "low" | "high" | "auto"; empty: not sent
};

struct ChatMessage {
  std::string role;  // system | user | assistant
  std::string text;
  std::vector<ChatImage> images;
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  // Empty: the client's default (vision_model when any message has images
  // and one is configured, else model).
  std::string model;
  double temperature = 0.2;  // negative: not sent (the server's default)
  int max_tokens = 512;      // 0 or less: not sent (the server's limit)
  // Null: free text; else sent as-is (e.g. {"type":"json_object"} or a
  // {"type":"json_schema",...} object).
  nlohmann::json response_format;
};

struct ChatUsage {
  int64_t prompt_tokens = 0, completion_tokens = 0, total_tokens = 0;
};

struct ChatReply {
  std::string text;
  std::string model;          // as the service names it; the requested one when it does not say
  std::string finish_reason;  // "stop", "length", ...; empty when the service does not say
  ChatUsage usage;            // zeros when the service does not report it
};

struct ChatOptions {
  OpenAiOptions http;
  std::string model;
  std::string vision_model;  // empty: model
  int concurrency = 2;       // below 1 is taken as 1
};

class ChatClient {
 public:
  explicit ChatClient(ChatOptions options);

  // From llm.base_url, llm.model, llm.vision_model, llm.api_key_env,
  // llm.timeout_s, llm.concurrency, llm.max_attempts.
  // FailedPrecondition whose message starts with "llm_not_configured:" when
  // llm.base_url or llm.model is empty; InvalidArgument naming the key when
  // a number is below 1.
  static Result<ChatClient> FromConfig(const Config& config);
  // Whether llm.base_url and llm.model are both set.
  static bool Configured(const Config& config);

  // Blocks for one of `concurrency` slots (shared by copies of this client),
  // then POSTs /chat/completions and returns the first choice.
  // Errors: InvalidArgument for a request that cannot be sent (no messages,
  // a message without role, an empty image, no model); otherwise as
  // OpenAiClient (Unavailable after retries, InvalidArgument with the
  // service's message on other 4xx, IOError on timeout, Corruption on
  // non-JSON); Corruption when the reply has no choices, no message or empty
  // content, with what arrived (truncated) in the message.
  Result<ChatReply> Complete(const ChatRequest& request) const;

  const ChatOptions& options() const { return options_; }

 private:
  class Slots;
  ChatOptions options_;
  OpenAiClient http_;
  std::shared_ptr<Slots> slots_;
};

// Parses a JSON object out of a model's text reply: the whole text, else the
// first ``` fenced block holding one, else the first balanced {...} in the
// prose that parses. <think>...</think> reasoning blocks are ignored.
// Corruption, quoting the start of the text, when no object is found.
Result<nlohmann::json> ParseJsonReply(const std::string& text);

}  // namespace cutroom::ai
