#include "ai/chat_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string_view>

#include "core/base64.h"

namespace cutroom::ai {

// Request slots shared by a client and its copies. A counter under a
// mutex: waiters are few (one per job thread) and hold a slot for seconds.
class ChatClient::Slots {
 public:
  explicit Slots(int count) : free_(count) {}

  // Holds one slot for its lifetime, waiting for one to free first.
  class Hold {
   public:
    explicit Hold(Slots& slots) : slots_(slots) {
      std::unique_lock lock(slots_.mu_);
      slots_.freed_.wait(lock, [this] { return slots_.free_ > 0; });
      --slots_.free_;
    }
    ~Hold() {
      {
        std::lock_guard lock(slots_.mu_);
        ++slots_.free_;
      }
      slots_.freed_.notify_one();
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    Slots& slots_;
  };

 private:
  std::mutex mu_;
  std::condition_variable freed_;
  int free_;
};

namespace {

bool HasImages(const ChatRequest& request) {
  return std::any_of(request.messages.begin(), request.messages.end(),
                     [](const ChatMessage& m) { return !m.images.empty(); });
}

Result<nlohmann::json> MessageJson(const ChatMessage& m, size_t index) {
  std::string where = "chat message " + std::to_string(index);
  if (m.role.empty()) return Status::InvalidArgument(where + " has no role");
  // Text-only content stays a plain string: llama.cpp builds and some
  // proxies refuse content arrays for it.
  if (m.images.empty()) return nlohmann::json{{"role", m.role}, {"content", m.text}};
  nlohmann::json parts = nlohmann::json::array();
  if (!m.text.empty()) parts.push_back({{"type", "text"}, {"text", m.text}});
  for (size_t i = 0; i < m.images.size(); ++i) {
    const ChatImage& image = m.images[i];
    if (image.bytes.empty()) return Status::InvalidArgument(where + " image " + std::to_string(i) + " is empty");
    if (image.mime_type.empty() || image.mime_type.find_first_of(";, ") != std::string::npos) {
      return Status::InvalidArgument(where + " image " + std::to_string(i) + " has an unusable MIME type '" +
                                     image.mime_type + "'");
    }
    nlohmann::json url = {{"url", "data:" + image.mime_type + ";base64," + Base64Encode(image.bytes)}};
    if (!image.detail.empty()) url["detail"] = image.detail;
    parts.push_back({{"type", "image_url"}, {"image_url", std::move(url)}});
  }
  return nlohmann::json{{"role", m.role}, {"content", std::move(parts)}};
}

Result<nlohmann::json> RequestBody(const ChatRequest& request, const std::string& model) {
  if (request.messages.empty()) return Status::InvalidArgument("a chat request needs at least one message");
  nlohmann::json messages = nlohmann::json::array();
  for (size_t i = 0; i < request.messages.size(); ++i) {
    CUTROOM_ASSIGN_OR_RETURN(nlohmann::json message, MessageJson(request.messages[i], i));
    messages.push_back(std::move(message));
  }
  nlohmann::json body = {{"model", model}, {"messages", std::move(messages)}, {"stream", false}};
  if (request.temperature >= 0) body["temperature"] = request.temperature;
  if (request.max_tokens > 0) body["max_tokens"] = request.max_tokens;
  if (!request.response_format.is_null()) body["response_format"] = request.response_format;
  return body;
}

int64_t Count(const nlohmann::json& usage, const char* key) {
  auto it = usage.find(key);
  return it != usage.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string StringField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Content is a string from every server we target; an array of text parts
// is accepted too (the shape requests use), joined in order.
std::string ContentText(const nlohmann::json& message) {
  auto it = message.find("content");
  if (it == message.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  std::string text;
  if (it->is_array()) {
    for (const auto& part : *it) {
      if (part.is_object() && StringField(part, "type") == "text") text += StringField(part, "text");
    }
  }
  return text;
}

bool Blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

Result<ChatReply> ParseCompletion(const nlohmann::json& reply, const std::string& requested_model) {
  auto what_arrived = [&reply] {
    // A dump is valid UTF-8 already; cut only between characters.
    std::string s = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (s.size() <= 400) return s;
    size_t cut = 400;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return s.substr(0, cut) + "...";
  };
  auto choices = reply.find("choices");
  if (choices == reply.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object()) {
    return Status::Corruption("the chat service's reply has no choices: " + what_arrived());
  }
  const nlohmann::json& choice = (*choices)[0];
  auto message = choice.find("message");
  if (message == choice.end() || !message->is_object()) {
    return Status::Corruption("the chat service's reply has no message: " + what_arrived());
  }
  ChatReply out;
  out.text = ContentText(*message);
  out.finish_reason = StringField(choice, "finish_reason");
  if (Blank(out.text)) {
    // Say why when the service said: a refusal, or a reasoning model that
    // spent max_tokens thinking (finish_reason "length").
    std::string why = "finish_reason " + (out.finish_reason.empty() ? std::string("unknown") : out.finish_reason);
    std::string refusal = StringField(*message, "refusal");
    if (!refusal.empty()) why += ", refusal " + QuotedSnippet(refusal, 200);
    return Status::Corruption("the chat service's reply has empty content (" + why + "): " + what_arrived());
  }
  out.model = StringField(reply, "model");
  if (out.model.empty()) out.model = requested_model;
  if (auto usage = reply.find("usage"); usage != reply.end() && usage->is_object()) {
    out.usage.prompt_tokens = Count(*usage, "prompt_tokens");
    out.usage.completion_tokens = Count(*usage, "completion_tokens");
    out.usage.total_tokens = Count(*usage, "total_tokens");
    if (out.usage.total_tokens == 0) out.usage.total_tokens = out.usage.prompt_tokens + out.usage.completion_tokens;
  }
  return out;
}

Result<int> PositiveInt(const Config& config, const std::string& key) {
  int64_t v = config.GetInt(key);
  if (v < 1 || v > 1'000'000) {
    return Status::InvalidArgument(key + " must be between 1 and 1000000, not " + std::to_string(v));
  }
  return static_cast<int>(v);
}

// Reasoning models (DeepSeek-R1, QwQ through Ollama or llama.cpp) put their
// thinking inline; braces in it must not be taken for the answer. An
// unclosed block (cut off by max_tokens) hides everything after it.
std::string WithoutThinking(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("<think>", pos);
    if (open == std::string::npos) {
      out.append(text, pos);
      return out;
    }
    out.append(text, pos, open - pos);
    size_t close = text.find("</think>", open);
    if (close == std::string::npos) return out;
    pos = close + 8;
  }
}

std::optional<nlohmann::json> ObjectIn(std::string_view s) {
  auto j = nlohmann::json::parse(s.begin(), s.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// Index of the '}' closing the '{' at `open`, skipping braces inside JSON
// strings; npos when it never closes.
size_t ClosingBrace(std::string_view s, size_t open) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = open; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

ChatClient::ChatClient(ChatOptions options)
    : options_(std::move(options)), http_(options_.http) {
  options_.concurrency = std::max(1, options_.concurrency);
  slots_ = std::make_shared<Slots>(options_.concurrency);
}

bool ChatClient::Configured(const Config& config) {
  return !config.GetString("llm.base_url").empty() && !config.GetString("llm.model").empty();
}

Result<ChatClient> ChatClient::FromConfig(const Config& config) {
  if (!Configured(config)) {
    return Status::FailedPrecondition(
        "llm_not_configured: set llm.base_url and llm.model (any OpenAI-compatible service: OpenAI, Ollama's /v1, "
        "llama.cpp's server, vLLM)");
  }
  CUTROOM_ASSIGN_OR_RETURN(OpenAiClient http, OpenAiClient::FromConfig(config, "llm.base_url"));
  ChatOptions o;
  o.http = http.options();
  CUTROOM_ASSIGN_OR_RETURN(o.http.timeout_s, PositiveInt(config, "llm.timeout_s"));
  CUTROOM_ASSIGN_OR_RETURN(o.http.max_attempts, PositiveInt(config, "llm.max_attempts"));
  CUTROOM_ASSIGN_OR_RETURN(o.concurrency, PositiveInt(config, "llm.concurrency"));
  o.model = config.GetString("llm.model");
  o.vision_model = config.GetString("llm.vision_model");
  return ChatClient(std::move(o));
}

Result<ChatReply> ChatClient::Complete(const ChatRequest& request) const {
  std::string model = request.model;
  if (model.empty()) model = HasImages(request) && !options_.vision_model.empty() ? options_.vision_model : options_.model;
  if (model.empty()) return Status::InvalidArgument("a chat request needs a model and the client has no default");
  CUTROOM_ASSIGN_OR_RETURN(nlohmann::json body, RequestBody(request, model));

  nlohmann::json reply;
  {
    Slots::Hold hold(*slots_);
    CUTROOM_ASSIGN_OR_RETURN(reply, http_.PostJson("/chat/completions", body));
  }
  CUTROOM_ASSIGN_OR_RETURN(ChatReply out, ParseCompletion(reply, model));
  spdlog::debug("chat completion from {}: {} prompt + {} completion = {} tokens, finish_reason {}", out.model,
                out.usage.prompt_tokens, out.usage.completion_tokens, out.usage.total_tokens,
                out.finish_reason.empty() ? "unknown" : out.finish_reason);
  return out;
}

Result<nlohmann::json> ParseJsonReply(const std::string& text) {
  std::string t = WithoutThinking(text);
  if (auto whole = ObjectIn(t)) return *whole;

  // ``` fences, with or without an info string ("json"), on their own lines
  // or inline.
  for (size_t pos = t.find("```"); pos != std::string::npos;) {
    size_t start = pos + 3;
    while (start < t.size() && (std::isalnum(static_cast<unsigned char>(t[start])) || t[start] == '_' ||
                                t[start] == '-')) {
      ++start;
    }
    size_t close = t.find("```", start);
    std::string_view inside = std::string_view(t).substr(start, close == std::string::npos ? close : close - start);
    if (auto fenced = ObjectIn(inside)) return *fenced;
    if (close == std::string::npos) break;
    pos = t.find("```", close + 3);
  }

  std::string_view view(t);
  for (size_t open = view.find('{'); open != std::string_view::npos; open = view.find('{', open + 1)) {
    size_t close = ClosingBrace(view, open);
    if (close == std::string_view::npos) continue;
    if (auto embedded = ObjectIn(view.substr(open, close - open + 1))) return *embedded;
  }
  return Status::Corruption("no JSON object in the model's reply: " + QuotedSnippet(text, 300));
}

}  // namespace cutroom::ai
