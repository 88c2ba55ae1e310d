// What the words of a sentence say about it as the opening or the ending
// of a clip: hooks (a question, a number, a strong claim, "here's",
// an imperative, talking to the viewer) and loose ends (a sentence that
// starts with "and" continues a thought the clip does not show; one that
// ends on "because" leaves it unfinished).
//
// English only, by word lists: cheap, explainable, and right often enough
// to rank windows that the LLM rerank (when configured) then refines.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

namespace cutroom::analysis {

// Hook kinds, strongest first, as named in features JSON and reasons.
inline constexpr const char* kCueQuestion = "question";
inline constexpr const char* kCueTeaser = "teaser";          // "here's", "the secret", "let me show you"
inline constexpr const char* kCueStrongClaim = "strong_claim";  // superlatives, absolutes
inline constexpr const char* kCueImperative = "imperative";  // "imagine", "stop", "remember"
inline constexpr const char* kCueNumber = "number";          // "three tips", "50 employees"
inline constexpr const char* kCueDirectAddress = "direct_address";  // "you" early on

struct OpeningCues {
  double score = 0;                // 0..1
  std::vector<std::string> cues;   // strongest first
  bool mid_thought = false;        // starts with "and", "but", "because", ...
};

// text: the sentence as displayed; terminal: its closing punctuation or 0.
OpeningCues AnalyseOpening(const std::string& text, char terminal);

// Whether a sentence starts by leaning on what came before it ("And",
// "But", "Because", "Which", "That's why").
bool StartsMidThought(const std::string& text);

// Whether the last word leaves the thought open ("and", "because", "the").
bool EndsDangling(const std::string& text);

// A human phrase for a cue ("opens with a question").
std::string DescribeCue(const std::string& cue);

// Lower-case words with punctuation stripped (apostrophes kept, curly ones
// made straight): "Here's the SECRET:" -> {"here's", "the", "secret"}.
std::vector<std::string> PlainWords(const std::string& text);

}  // namespace cutroom::analysis
