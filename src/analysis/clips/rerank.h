// LLM rerank of clip candidates: the heuristic finder proposes, a chat
// model (any OpenAI-compatible service) judges the top ones as an editor
// would and gives each a title, a hook line, a 0..1 score and a reason.
//
// All candidates go in one request so the model compares them with each
// other. The reply must be a JSON object {"clips": [...]} holding every
// candidate exactly once ({id, title, hook, score, reason}); it is asked
// for with a json_schema response format, and again with plain
// json_object mode when the service refuses the schema. A reply that does
// not validate changes nothing: the caller logs why and keeps the
// heuristic order.
// When applied, the reranked candidates are ordered by the model's score
// (which becomes their score); the heuristic score, reason and opening
// sentence stay in features. Candidates past the reranked top keep their
// order below it, their scores capped at the lowest reranked one.
// Thread-safety: reentrant (the client is thread-safe).
#pragma once

#include <string>
#include <vector>

#include "ai/chat_client.h"
#include "analysis/clips/candidates.h"

namespace cutroom::analysis {

struct LlmRerankOutcome {
  bool applied = false;
  std::string problem;  // why the reply was ignored, when it was
  std::string model;
  ai::ChatUsage usage;  // summed over the requests made
  int requests = 0;
};

// The largest number of candidates sent for reranking.
inline constexpr size_t kMaxRerank = 10;

// Reranks the first min(candidates.size(), kMaxRerank). Errors: the
// client's (the service unreachable after retries, a refused request);
// a reply that is not valid comes back as an outcome with applied = false
// and the problem, candidates untouched.
Result<LlmRerankOutcome> RerankWithLlm(const ai::ChatClient& client, std::vector<ClipCandidate>& candidates);

}  // namespace cutroom::analysis
