#include "analysis/clips/text_cues.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <set>
#include <string_view>

namespace cutroom::analysis {
namespace {

using Words = std::vector<std::string>;

bool In(const std::set<std::string_view>& set, const std::string& w) { return set.count(w) > 0; }

// Whether words[at...] begins with the space-separated phrase.
bool PhraseAt(const Words& words, size_t at, std::string_view phrase) {
  size_t i = at;
  size_t pos = 0;
  while (pos < phrase.size()) {
    size_t end = phrase.find(' ', pos);
    if (end == std::string_view::npos) end = phrase.size();
    if (i >= words.size() || words[i] != phrase.substr(pos, end - pos)) return false;
    ++i;
    pos = end + 1;
  }
  return true;
}

bool StartsWithAny(const Words& words, std::initializer_list<std::string_view> phrases) {
  return std::any_of(phrases.begin(), phrases.end(), [&](std::string_view p) { return PhraseAt(words, 0, p); });
}

bool ContainsAny(const Words& words, std::initializer_list<std::string_view> phrases) {
  for (size_t i = 0; i < words.size(); ++i) {
    for (std::string_view p : phrases) {
      if (PhraseAt(words, i, p)) return true;
    }
  }
  return false;
}

bool LooksLikeQuestion(const Words& w) {
  static const std::set<std::string_view> kWh = {"what", "why", "how", "who", "whom", "when", "where", "which", "whose"};
  static const std::set<std::string_view> kAux = {"do", "did", "does", "have", "has", "are", "is", "can", "could",
                                                  "would", "should", "will", "was", "were", "ever", "isn't",
                                                  "aren't", "don't", "doesn't", "didn't", "wouldn't", "shouldn't"};
  static const std::set<std::string_view> kSubject = {"you", "we", "i", "it", "this", "that", "they", "he",
                                                      "she", "anyone", "anybody", "there", "your", "wondered"};
  if (w.empty()) return false;
  if (In(kWh, w[0])) return true;
  return w.size() >= 2 && In(kAux, w[0]) && In(kSubject, w[1]);
}

bool HasNumber(const Words& w) {
  static const std::set<std::string_view> kNumbers = {
      "two",     "three",    "four",   "five",   "six",      "seven",   "eight",     "nine",  "ten",
      "eleven",  "twelve",   "fifteen", "twenty", "thirty",  "forty",   "fifty",     "sixty", "seventy",
      "eighty",  "ninety",   "hundred", "hundreds", "thousand", "thousands", "million", "millions",
      "billion", "billions", "percent", "half",   "double",   "triple",  "twice",     "dozen", "dozens"};
  for (const auto& word : w) {
    if (In(kNumbers, word)) return true;
    if (std::any_of(word.begin(), word.end(), [](unsigned char c) { return std::isdigit(c); })) return true;
  }
  return false;
}

bool HasStrongClaim(const Words& w) {
  static const std::set<std::string_view> kClaims = {
      "best",      "worst",    "most",     "least",     "biggest",   "greatest", "fastest",   "easiest",
      "hardest",   "simplest", "smartest", "never",     "always",    "everyone", "everybody", "nobody",
      "nothing",   "everything", "only",   "surprising", "shocking", "secret",   "secrets",   "mistake",
      "mistakes",  "truth",    "wrong",    "incredible", "huge",     "massive",  "insane",    "crazy",
      "guaranteed", "proven",  "must",     "critical",  "essential", "impossible", "ultimate", "perfect"};
  return std::any_of(w.begin(), w.end(), [](const std::string& x) { return In(kClaims, x); });
}

bool StartsImperative(const Words& w) {
  static const std::set<std::string_view> kVerbs = {
      "stop",    "imagine", "remember", "listen", "look",  "think", "try",   "forget", "consider", "picture",
      "watch",   "learn",   "start",    "don't",  "never", "avoid", "meet",  "notice", "ask",      "take",
      "make",    "let's",   "quit",     "read",   "write", "build", "focus", "ship",   "talk",     "measure",
      "believe", "trust",   "keep",     "check",  "pay",   "go",    "get",   "give",   "tell",     "guess"};
  if (w.empty()) return false;
  return In(kVerbs, w[0]) || PhraseAt(w, 0, "let us") || PhraseAt(w, 0, "let me");
}

}  // namespace

std::vector<std::string> PlainWords(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    // Apostrophes only count inside a word ("here's", not 'quoted').
    while (!cur.empty() && cur.back() == '\'') cur.pop_back();
    size_t lead = cur.find_first_not_of('\'');
    if (lead != std::string::npos && !cur.empty()) out.push_back(cur.substr(lead));
    cur.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (text.compare(i, 3, "\xE2\x80\x99") == 0) {  // a curly apostrophe
      cur += '\'';
      i += 2;
    } else if (std::isalnum(c) || c == '\'') {
      cur += static_cast<char>(std::tolower(c));
    } else if (c >= 0x80) {
      cur += static_cast<char>(c);  // other UTF-8 letters stay part of the word
    } else if (c == '-' && !cur.empty() && i + 1 < text.size() && std::isalnum(static_cast<unsigned char>(text[i + 1]))) {
      cur += '-';
    } else {
      flush();
    }
  }
  flush();
  return out;
}

bool StartsMidThought(const std::string& text) {
  static const std::set<std::string_view> kJoiners = {"and",     "but",      "or",       "because", "cause",
                                                      "which",   "also",     "then",     "plus",    "nor",
                                                      "though",  "although", "whereas",  "whereby", "hence",
                                                      "therefore", "thus"};
  Words w = PlainWords(text);
  if (w.empty()) return false;
  return In(kJoiners, w[0]) || StartsWithAny(w, {"that's why", "that is why", "that was why"});
}

bool EndsDangling(const std::string& text) {
  static const std::set<std::string_view> kOpenEnds = {
      "and", "but", "or",  "so",   "because", "the",  "a",    "an",   "to",    "of",   "with",
      "for", "that", "which", "if", "then",   "like", "um",   "uh",   "in",    "on",   "at",
      "from", "my", "your", "our", "their",   "his",  "her",  "is",   "are",   "was",  "were", "than"};
  Words w = PlainWords(text);
  return !w.empty() && In(kOpenEnds, w.back());
}

OpeningCues AnalyseOpening(const std::string& text, char terminal) {
  Words w = PlainWords(text);
  OpeningCues out;
  std::vector<std::pair<double, const char*>> found;
  if (terminal == '?') {
    found.push_back({1.0, kCueQuestion});
  } else if (terminal == 0 && LooksLikeQuestion(w)) {
    found.push_back({0.85, kCueQuestion});  // unpunctuated: judged by its first words
  }
  if (StartsWithAny(w, {"here's", "here is", "here are", "the secret", "the truth", "the trick", "the key",
                        "the problem", "the reason", "the real", "the thing is", "the one thing", "let me tell",
                        "let me show", "i'll show", "this is why", "this is how", "this is what", "nobody tells",
                        "no one tells", "what nobody", "you won't believe", "it turns out", "turns out",
                        "the biggest", "the best", "the worst", "the surprising", "the mistake", "i bet",
                        "if you remember", "if you only"})) {
    found.push_back({0.9, kCueTeaser});
  } else if (ContainsAny(w, {"here's", "here is", "the secret", "the truth", "the surprising", "turns out",
                             "one thing", "the key"})) {
    found.push_back({0.6, kCueTeaser});
  }
  if (HasStrongClaim(w)) found.push_back({0.7, kCueStrongClaim});
  if (StartsImperative(w)) found.push_back({0.7, kCueImperative});
  if (HasNumber(w)) found.push_back({0.6, kCueNumber});
  size_t early = std::min<size_t>(w.size(), 6);
  if (std::any_of(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(early), [](const std::string& x) {
        return x == "you" || x == "your" || x == "you're" || x == "you'll" || x == "you've";
      })) {
    found.push_back({0.45, kCueDirectAddress});
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  // The strongest cue sets the score; each further one adds a little.
  out.score = found.empty() ? 0.1 : std::min(1.0, found[0].first + 0.1 * static_cast<double>(found.size() - 1));
  for (const auto& f : found) out.cues.push_back(f.second);
  out.mid_thought = StartsMidThought(text);
  if (out.mid_thought) out.score *= 0.4;
  return out;
}

std::string DescribeCue(const std::string& cue) {
  if (cue == kCueQuestion) return "opens with a question";
  if (cue == kCueTeaser) return "opens with a teaser";
  if (cue == kCueStrongClaim) return "opens with a strong claim";
  if (cue == kCueImperative) return "opens with a direct instruction";
  if (cue == kCueNumber) return "opens with a number";
  if (cue == kCueDirectAddress) return "speaks to the viewer";
  return "opens with " + cue;
}

}  // namespace cutroom::analysis
