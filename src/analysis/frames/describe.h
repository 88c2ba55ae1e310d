// Image descriptions by a vision-capable chat model (ai::ChatClient): one
// request carrying one or several JPEGs and an instruction, answered in
// plain text. The frames stage describes each kept frame with it; the
// scenes stage describes a scene from a few of its frames.
//
// Thread-safety: reentrant (the client limits how many requests run).
#pragma once

#include <string>
#include <vector>

#include "ai/chat_client.h"
#include "core/result.h"

namespace cutroom::analysis {

// The instruction used when a job gives none.
inline constexpr const char* kDefaultFramePrompt =
    "Describe this video frame in one or two sentences for a search index: the setting, the people and what "
    "they are doing, notable objects, and any visible text. Plain text only, no preamble.";

// Sends prompt and the JPEGs (in order) as one user message and returns the
// reply's text, trimmed, with any <think>...</think> reasoning removed.
// usage, when given, receives the request's token counts (added to what
// it holds, so one ChatUsage can total a job); model, when given, the
// model that answered. InvalidArgument when there is no image or an image
// is empty; Unavailable when the reply holds no text; otherwise the
// client's errors.
Result<std::string> DescribeImages(const ai::ChatClient& client, const std::vector<std::string>& jpegs,
                                   const std::string& prompt, ai::ChatUsage* usage, std::string* model = nullptr);

}  // namespace cutroom::analysis
