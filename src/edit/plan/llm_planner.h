// The LLM planner: an instruction in plain language becomes an edit plan
// through any OpenAI-compatible chat model, held to the validator.
//
// The model sees the transcript as numbered segments (number, times,
// text), the scene list with what the frames show, the best clip
// candidates and the planner menu (planners.h), and answers with JSON
// (a json_schema response_format where the service supports it, JSON mode
// otherwise): per output, the segment runs to keep (by number, with a
// reason) and planner steps to apply to them, plus aspect, captions and a
// title. It never needs to send a timestamp; numbers become segment ids,
// and any time it sends anyway is checked like every other cut.
//
// The answer is validated (plan_validate.h), with the instruction's stated
// length as the bound. On any problem, including prose or truncated JSON,
// the model gets one repair round with every problem listed; a second
// failure is the outcome's error, with the problems. Transport errors
// (HTTP 5xx after the client's retries, timeouts) end the planning at
// once.
// Thread-safety: reentrant; the client is shared.
#pragma once

#include <string>
#include <vector>

#include "ai/chat_client.h"
#include "edit/plan/edit_index.h"
#include "edit/plan/plan.h"
#include "edit/plan/rules.h"

namespace cutroom::edit {

inline constexpr const char* kLlmPromptVersion = "ai-edit/1";

struct LlmPlanRequest {
  std::string instruction;
  size_t max_outputs = kMaxPlanOutputs;
  OutputSettings overrides;  // the request's own settings win over the model's
};

struct LlmPlanOutcome {
  EditPlan plan;          // valid when error is empty
  std::string model;
  int requests = 0;
  ai::ChatUsage usage;
  std::vector<std::string> notes;          // the validator's snaps
  std::vector<std::string> first_problems; // what the repair round was about, if there was one
};

// Ok with outcome.plan valid, or: the client's error (Unavailable,
// IOError, InvalidArgument from the service) as it is; InvalidArgument
// "the model's plan was refused twice: ..." listing the problems of the
// second answer (Corruption when that answer was not JSON at all).
Result<LlmPlanOutcome> PlanWithLlm(const ai::ChatClient& client, const EditIndex& index, const LlmPlanRequest& request);

// The user prompt for an index and instruction (exposed for tests and for
// looking at what a model is shown).
std::string LlmPlanPrompt(const EditIndex& index, const LlmPlanRequest& request);

}  // namespace cutroom::edit
