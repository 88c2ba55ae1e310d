#include "analysis/frames/describe.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace cutroom::analysis {
namespace {

// Reasoning models (DeepSeek-R1, Qwen3) put their thinking in the reply.
std::string WithoutThinking(std::string text) {
  static constexpr std::string_view kOpen = "<think>", kClose = "</think>";
  for (size_t open = text.find(kOpen); open != std::string::npos; open = text.find(kOpen, open)) {
    size_t close = text.find(kClose, open);
    // An unclosed block (the reply was cut off mid-thought) holds no answer.
    text.erase(open, close == std::string::npos ? std::string::npos : close + kClose.size() - open);
  }
  return text;
}

std::string Trimmed(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace

Result<std::string> DescribeImages(const ai::ChatClient& client, const std::vector<std::string>& jpegs,
                                   const std::string& prompt, ai::ChatUsage* usage, std::string* model) {
  if (jpegs.empty()) return Status::InvalidArgument("no image to describe");
  ai::ChatMessage message;
  message.role = "user";
  message.text = prompt.empty() ? std::string(kDefaultFramePrompt) : prompt;
  for (size_t i = 0; i < jpegs.size(); ++i) {
    if (jpegs[i].empty()) return Status::InvalidArgument("image " + std::to_string(i) + " to describe is empty");
    ai::ChatImage image;
    image.mime_type = "image/jpeg";
    image.bytes = jpegs[i];
    message.images.push_back(std::move(image));
  }
  ai::ChatRequest request;
  request.messages.push_back(std::move(message));
  // Room for a few sentences per image plus a reasoning model's preamble.
  request.max_tokens = 400 + 150 * static_cast<int>(std::min<size_t>(jpegs.size(), 8));
  CUTROOM_ASSIGN_OR_RETURN(ai::ChatReply reply, client.Complete(request));
  if (usage) {
    usage->prompt_tokens += reply.usage.prompt_tokens;
    usage->completion_tokens += reply.usage.completion_tokens;
    usage->total_tokens += reply.usage.total_tokens;
  }
  if (model) *model = reply.model;
  std::string text = Trimmed(WithoutThinking(reply.text));
  if (text.empty()) {
    return Status::Unavailable("the model" + (reply.model.empty() ? std::string() : " " + reply.model) +
                               " returned no description (finish_reason " +
                               (reply.finish_reason.empty() ? std::string("unknown") : reply.finish_reason) + ")");
  }
  return text;
}

}  // namespace cutroom::analysis
