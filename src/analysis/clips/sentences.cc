#include "analysis/clips/sentences.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string_view>

namespace cutroom::analysis {
namespace {

// Lower-case letters and digits only (bytes of UTF-8 sequences kept), so
// "Hello," matches "hello" and "don't" matches "dont".
std::string Normalise(std::string_view word) {
  std::string out;
  for (unsigned char c : word) {
    if (c >= 0x80 || std::isalnum(c)) out += static_cast<char>(std::tolower(c));
  }
  return out;
}

std::vector<std::string> Tokens(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

// A period after these does not end a sentence ("Dr. Smith", "e.g. this").
bool IsAbbreviation(const std::string& display) {
  static constexpr std::array<std::string_view, 15> kAbbreviations = {
      "mr", "mrs", "ms", "dr", "prof", "st", "vs", "eg", "ie", "jr", "sr", "inc", "ltd", "mt", "approx"};
  std::string n = Normalise(display);
  if (n.size() == 1 && std::isalpha(static_cast<unsigned char>(n[0]))) return true;  // an initial: "J."
  if (std::find(kAbbreviations.begin(), kAbbreviations.end(), n) != kAbbreviations.end()) return true;
  // "U.S." and "e.g.": a dot inside the word as well as at its end.
  return display.find('.') < display.size() - 1 && std::count(display.begin(), display.end(), '.') >= 2;
}

// Display text for each word: the segment token it aligns with, or the word
// itself. Tokens are matched in order by normalised form, looking a few
// tokens ahead so that a token without a word (a hyphenated pair, a number
// written differently) does not derail the rest of the segment.
void AlignSegment(const TranscriptSegment& seg, std::vector<SpokenWord>& out) {
  std::vector<std::string> tokens = Tokens(seg.text);
  std::vector<std::string> normal(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) normal[i] = Normalise(tokens[i]);
  size_t cursor = 0;
  for (const auto& w : seg.words) {
    SpokenWord sw{w.word, w.start_s, w.end_s, w.confidence};
    std::string n = Normalise(w.word);
    if (!n.empty()) {
      for (size_t k = cursor; k < tokens.size() && k < cursor + 4; ++k) {
        if (normal[k] == n) {
          // The word's own punctuation wins when it has some (some servers
          // put it there) and the token has none.
          if (TerminalPunctuation(w.word) == 0 || TerminalPunctuation(tokens[k]) != 0) sw.text = tokens[k];
          cursor = k + 1;
          break;
        }
      }
    }
    out.push_back(std::move(sw));
  }
}

Sentence MakeSentence(const std::vector<SpokenWord>& words, size_t first, size_t last, char terminal) {
  Sentence s;
  s.first_word = first;
  s.last_word = last;
  s.start_s = words[first].start_s;
  s.end_s = words[last].end_s;
  s.terminal = terminal;
  for (size_t i = first; i <= last; ++i) {
    if (i > first) s.text += ' ';
    s.text += words[i].text;
  }
  return s;
}

// Splits [first, last] at its longest pauses until every piece is at most
// max_s long (or a single word).
void SplitLong(const std::vector<SpokenWord>& words, size_t first, size_t last, char terminal, double max_s,
               std::vector<Sentence>& out) {
  if (last == first || words[last].end_s - words[first].start_s <= max_s) {
    out.push_back(MakeSentence(words, first, last, terminal));
    return;
  }
  size_t cut = first;  // the piece ends at word `cut`
  double widest = -1;
  for (size_t i = first; i < last; ++i) {
    double gap = words[i + 1].start_s - words[i].end_s;
    // Prefer the middle among equal pauses so that the recursion halves.
    double centrality = 1e-6 * -std::abs(static_cast<double>(i - first) - static_cast<double>(last - first) / 2);
    if (gap + centrality > widest) {
      widest = gap + centrality;
      cut = i;
    }
  }
  SplitLong(words, first, cut, 0, max_s, out);
  SplitLong(words, cut + 1, last, terminal, max_s, out);
}

}  // namespace

char TerminalPunctuation(const std::string& word) {
  static constexpr std::string_view kClosers[] = {"\"", "'", ")", "]", "\xE2\x80\x9D", "\xE2\x80\x99", "\xC2\xBB"};
  std::string_view w(word);
  for (bool again = true; again && !w.empty();) {
    again = false;
    for (std::string_view q : kClosers) {
      if (w.ends_with(q)) {
        w.remove_suffix(q.size());
        again = true;
        break;
      }
    }
  }
  if (w.ends_with("\xE2\x80\xA6")) return '.';  // an ellipsis character
  if (w.empty()) return 0;
  char c = w.back();
  // Spelled letters and initialisms ("q." in pocketsphinx's dictionary,
  // "U.S."): letters each followed by a period end no sentence; taken as
  // punctuation, one "q." made a whole unpunctuated transcript look
  // punctuated and merged its sentences into minute-long units.
  if (c == '.' && w.size() % 2 == 0) {
    bool initials = true;
    for (size_t i = 0; i < w.size() && initials; i += 2) {
      initials = std::isalpha(static_cast<unsigned char>(w[i])) && w[i + 1] == '.';
    }
    if (initials) return 0;
  }
  return c == '.' || c == '?' || c == '!' ? c : 0;
}

SentenceSplit SplitSentences(const Transcript& transcript, const SentenceOptions& options) {
  SentenceSplit split;
  std::vector<std::pair<size_t, size_t>> segment_spans;  // word ranges per non-empty segment
  for (const auto& seg : transcript.segments) {
    if (seg.words.empty()) continue;
    size_t first = split.words.size();
    AlignSegment(seg, split.words);
    segment_spans.push_back({first, split.words.size() - 1});
  }
  if (split.words.empty()) return split;
  // Engines give words in time order; a stable sort keeps equal times in
  // their given order should one not.
  if (!std::is_sorted(split.words.begin(), split.words.end(),
                      [](const SpokenWord& a, const SpokenWord& b) { return a.start_s < b.start_s; })) {
    std::stable_sort(split.words.begin(), split.words.end(),
                     [](const SpokenWord& a, const SpokenWord& b) { return a.start_s < b.start_s; });
    segment_spans = {{0, split.words.size() - 1}};
  }
  for (const auto& w : split.words) split.punctuated |= TerminalPunctuation(w.text) != 0;

  std::vector<std::pair<std::pair<size_t, size_t>, char>> units;
  if (split.punctuated) {
    size_t first = 0;
    for (size_t i = 0; i < split.words.size(); ++i) {
      char t = TerminalPunctuation(split.words[i].text);
      if (t == '.' && IsAbbreviation(split.words[i].text)) t = 0;
      bool last = i + 1 == split.words.size();
      bool pause = !last && split.words[i + 1].start_s - split.words[i].end_s >= options.pause_split_s;
      if (t != 0 || pause || last) {
        units.push_back({{first, i}, t});
        first = i + 1;
      }
    }
  } else {
    for (const auto& span : segment_spans) units.push_back({span, 0});
  }
  for (const auto& [span, terminal] : units) {
    SplitLong(split.words, span.first, span.second, terminal, options.max_unit_s, split.sentences);
  }
  return split;
}

}  // namespace cutroom::analysis
