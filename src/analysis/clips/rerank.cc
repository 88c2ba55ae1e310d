#include "analysis/clips/rerank.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace cutroom::analysis {
namespace {

using nlohmann::json;

constexpr size_t kMaxExcerptChars = 1500;
constexpr size_t kMaxHookCodePoints = 300;
constexpr size_t kMaxReasonCodePoints = 600;

size_t CodePoints(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string Trim(std::string s) {
  const char* space = " \t\r\n";
  size_t a = s.find_first_not_of(space);
  if (a == std::string::npos) return "";
  s = s.substr(a, s.find_last_not_of(space) - a + 1);
  // Models like to quote titles.
  while (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return s;
}

const char* kSystem =
    "You are an experienced short-form video editor. You judge candidate clips cut from one long video by how "
    "well each works on its own as a short social clip: a hook in the first seconds that makes people stay, one "
    "complete and self-contained idea, a clear payoff, no dangling references to things the clip does not show. "
    "Answer with JSON only.";

json ResponseSchema() {
  json item = {{"type", "object"},
               {"additionalProperties", false},
               {"required", {"id", "title", "hook", "score", "reason"}},
               {"properties",
                {{"id", {{"type", "integer"}, {"description", "the candidate's number in brackets"}}},
                 {"title", {{"type", "string"}, {"description", "at most 60 characters, no hashtags"}}},
                 {"hook", {{"type", "string"}, {"description", "the line that hooks the viewer, at most 120 characters"}}},
                 {"score", {{"type", "number"}, {"description", "0 to 1: how well it works as a standalone clip"}}},
                 {"reason", {{"type", "string"}, {"description", "one sentence"}}}}}};
  return {{"type", "json_schema"},
          {"json_schema",
           {{"name", "clip_rerank"},
            {"strict", true},
            {"schema",
             {{"type", "object"},
              {"additionalProperties", false},
              {"required", {"clips"}},
              {"properties", {{"clips", {{"type", "array"}, {"items", item}}}}}}}}}};
}

std::string Prompt(const std::vector<ClipCandidate>& cands, size_t n) {
  std::string p = "Candidates:\n";
  for (size_t i = 0; i < n; ++i) {
    const auto& c = cands[i];
    char head[128];
    std::snprintf(head, sizeof head, "\n[%zu] %.1f-%.1f s (%.0f s)\n", i + 1, c.start_s, c.end_s, c.end_s - c.start_s);
    p += head;
    std::string excerpt = c.transcript_excerpt;
    if (excerpt.size() > kMaxExcerptChars) {
      excerpt.resize(kMaxExcerptChars);
      while (!excerpt.empty() && (static_cast<unsigned char>(excerpt.back()) & 0xC0) == 0x80) excerpt.pop_back();
      if (!excerpt.empty() && static_cast<unsigned char>(excerpt.back()) >= 0xC0) excerpt.pop_back();
      excerpt += " ...";
    }
    p += "Transcript: \"" + excerpt + "\"\n";
  }
  p += "\nFor every candidate give: id (its number in brackets), title (at most 60 characters, no quotes or "
       "hashtags), hook (the line that hooks the viewer, at most 120 characters), score (0 to 1: how well it works "
       "as a standalone short clip; use the whole range) and reason (one sentence). Reply as {\"clips\": [...]} "
       "with each of the " +
       std::to_string(n) + " candidates exactly once.";
  return p;
}

struct Judgement {
  std::string title, hook, reason;
  double score = 0;
};

// The judgements by candidate index, or a problem.
Result<std::vector<Judgement>> Validate(const std::string& text, size_t n) {
  auto parsed = ai::ParseJsonReply(text);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  if (!j.contains("clips") || !j["clips"].is_array()) return Status::Corruption("the reply has no \"clips\" array");
  if (j["clips"].size() != n) {
    return Status::Corruption("the reply judges " + std::to_string(j["clips"].size()) + " clips, not " +
                              std::to_string(n));
  }
  std::vector<Judgement> out(n);
  std::set<int64_t> seen;
  for (const auto& item : j["clips"]) {
    if (!item.is_object()) return Status::Corruption("a judgement is not an object: " + item.dump());
    if (!item.contains("id") || !item["id"].is_number_integer()) {
      return Status::Corruption("a judgement has no integer id: " + item.dump());
    }
    int64_t id = item["id"].get<int64_t>();
    if (id < 1 || id > static_cast<int64_t>(n) || !seen.insert(id).second) {
      return Status::Corruption("judgement id " + std::to_string(id) + " is unknown or repeated");
    }
    Judgement& g = out[static_cast<size_t>(id - 1)];
    for (const char* key : {"title", "hook", "reason"}) {
      if (!item.contains(key) || !item[key].is_string() || Trim(item[key].get<std::string>()).empty()) {
        return Status::Corruption("judgement " + std::to_string(id) + " has no " + key);
      }
    }
    if (!item.contains("score") || !item["score"].is_number()) {
      return Status::Corruption("judgement " + std::to_string(id) + " has no numeric score");
    }
    g.score = item["score"].get<double>();
    if (!std::isfinite(g.score) || g.score < 0 || g.score > 1) {
      return Status::Corruption("judgement " + std::to_string(id) + " has score " + item["score"].dump() +
                                ", outside 0..1");
    }
    g.title = Trim(item["title"].get<std::string>());
    // A title a little too long is shortened the way ours are, not refused.
    if (CodePoints(g.title) > 60) g.title = TitleFromSentence(g.title);
    g.hook = Trim(item["hook"].get<std::string>());
    g.reason = Trim(item["reason"].get<std::string>());
    if (CodePoints(g.hook) > kMaxHookCodePoints || CodePoints(g.reason) > kMaxReasonCodePoints) {
      return Status::Corruption("judgement " + std::to_string(id) + " has a hook or reason far too long");
    }
  }
  return out;
}

}  // namespace

Result<LlmRerankOutcome> RerankWithLlm(const ai::ChatClient& client, std::vector<ClipCandidate>& candidates) {
  LlmRerankOutcome outcome;
  size_t n = std::min(candidates.size(), kMaxRerank);
  if (n == 0) return outcome;
  ai::ChatRequest req;
  req.messages = {{"system", kSystem, {}}, {"user", Prompt(candidates, n), {}}};
  req.temperature = 0.2;
  req.max_tokens = static_cast<int>(200 * n + 200);
  req.response_format = ResponseSchema();
  auto reply = client.Complete(req);
  ++outcome.requests;
  if (!reply.ok() && reply.status().IsInvalidArgument()) {
    // Services without structured outputs refuse json_schema with a 400;
    // plain JSON mode is the widely supported fallback.
    req.response_format = {{"type", "json_object"}};
    reply = client.Complete(req);
    ++outcome.requests;
  }
  CUTROOM_RETURN_IF_ERROR(reply.status());
  outcome.model = reply->model;
  outcome.usage = reply->usage;
  auto judged = Validate(reply->text, n);
  if (!judged.ok()) {
    outcome.problem = judged.status().message();
    if (reply->finish_reason == "length") outcome.problem += " (the reply was cut off at max_tokens)";
    return outcome;
  }
  double lowest = 1.0;
  for (size_t i = 0; i < n; ++i) {
    ClipCandidate& c = candidates[i];
    const Judgement& g = (*judged)[i];
    c.features["heuristic_score"] = c.score;
    c.features["heuristic_reason"] = c.reason;
    c.features["heuristic_title"] = c.title;
    c.features["opening_sentence"] = c.hook;
    c.features["llm"] = {{"score", g.score}, {"model", outcome.model}};
    c.score = g.score;
    c.title = g.title;
    c.hook = g.hook;
    c.reason = g.reason;
    lowest = std::min(lowest, g.score);
  }
  std::stable_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n),
                   [](const ClipCandidate& a, const ClipCandidate& b) { return a.score > b.score; });
  for (size_t i = n; i < candidates.size(); ++i) {
    candidates[i].features["heuristic_score"] = candidates[i].score;
    candidates[i].score = std::min(candidates[i].score, lowest);
  }
  outcome.applied = true;
  return outcome;
}

}  // namespace cutroom::analysis
