#include "edit/plan/rules.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>

namespace cutroom::edit {
namespace {

using nlohmann::json;

std::string Lower(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Typographic quotes and dashes become ASCII so the patterns stay simple.
std::string Plain(const std::string& s) {
  std::string out = s;
  const std::pair<const char*, const char*> kSwaps[] = {{"\xE2\x80\x9C", "\""}, {"\xE2\x80\x9D", "\""},
                                                        {"\xE2\x80\x98", "'"},  {"\xE2\x80\x99", "'"},
                                                        {"\xE2\x80\x93", "-"},  {"\xE2\x80\x94", "-"}};
  for (const auto& [from, to] : kSwaps) {
    size_t pos;
    while ((pos = out.find(from)) != std::string::npos) out.replace(pos, std::string(from).size(), to);
  }
  return out;
}

const std::map<std::string, double>& NumberWords() {
  static const std::map<std::string, double> kWords = {
      {"a", 1},        {"an", 1},        {"one", 1},       {"two", 2},      {"three", 3},    {"four", 4},
      {"five", 5},     {"six", 6},       {"seven", 7},     {"eight", 8},    {"nine", 9},     {"ten", 10},
      {"eleven", 11},  {"twelve", 12},   {"thirteen", 13}, {"fourteen", 14}, {"fifteen", 15}, {"sixteen", 16},
      {"seventeen", 17}, {"eighteen", 18}, {"nineteen", 19}, {"twenty", 20},  {"thirty", 30},  {"forty", 40},
      {"fifty", 50},   {"sixty", 60},    {"seventy", 70},  {"eighty", 80},  {"ninety", 90},  {"half", 0.5},
      {"a couple of", 2}, {"couple of", 2}, {"a few", 3}};
  return kWords;
}

const char* kNumber =
    "(\\d+(?:\\.\\d+)?|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|five|"
    "six|seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|a couple of|a few|an|a|half a|half an)";

std::optional<double> ParseNumber(std::string s) {
  if (s.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(s[0]))) return std::stod(s);
  if (s == "half a" || s == "half an") return 0.5;
  auto dash = s.find_first_of("- ");
  if (dash != std::string::npos && NumberWords().count(s.substr(0, dash)) && NumberWords().count(s.substr(dash + 1))) {
    return NumberWords().at(s.substr(0, dash)) + NumberWords().at(s.substr(dash + 1));
  }
  auto it = NumberWords().find(s);
  if (it != NumberWords().end()) return it->second;
  return std::nullopt;
}

double UnitSeconds(const std::string& unit) { return unit.rfind("m", 0) == 0 ? 60.0 : 1.0; }

const std::string kUnit = "(s|sec|secs|second|seconds|m|min|mins|minute|minutes)\\b";

struct Length {
  double seconds = 0;
  std::string qualifier;  // "under", "at least" or ""
};

std::optional<Length> FindLength(const std::string& text) {
  static const std::regex re(std::string("(under|less than|at most|no more than|max(?:imum)?|at least|over|more than|") +
                                 "about|around|roughly|approximately)?\\s*" + kNumber + "(?:\\s+and\\s+a\\s+half)?" +
                                 "\\s*-?\\s*" + kUnit,
                             std::regex::icase);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    auto n = ParseNumber(m[2].str());
    if (!n) continue;
    double value = *n;
    if (m[0].str().find("and a half") != std::string::npos) value += 0.5;
    // "max 2 m" yes, but a bare "m" after a number could be metres in
    // prose; accept it only next to a qualifier or when written as "2m".
    std::string unit = m[3].str();
    if (unit == "m" && m[1].str().empty() && m[0].str().find(' ') != std::string::npos) continue;
    Length l;
    l.seconds = value * UnitSeconds(unit);
    std::string q = m[1].str();
    if (q == "under" || q == "less than" || q == "at most" || q == "no more than" || q.rfind("max", 0) == 0) {
      l.qualifier = "under";
    } else if (q == "at least" || q == "over" || q == "more than") {
      l.qualifier = "at least";
    }
    if (l.seconds > 0) return l;
  }
  return std::nullopt;
}

// The topic after "about", "on", "covering"... up to the end of the clause.
std::string FindTopic(const std::string& text) {
  static const std::regex re(
      "\\b(?:about|covering|regarding|discussing|on the topic of|where (?:i|we|he|she|they|you) (?:talk|talks|talked|"
      "discuss|discusses|discussed|explain|explains|explained) (?:about )?|on)\\s+(.+?)(?=$|[.,;!?]|\\s+(?:and|with|"
      "in|at|for|as|but|then|without|vertical|square|landscape|captions?|subtitles?)\\b)",
      std::regex::icase);
  std::smatch m;
  std::string rest = text;
  while (std::regex_search(rest, m, re)) {
    std::string topic = m[1].str();
    // "about 45 seconds" is a length, not a topic.
    if (!FindLength(topic) && !std::regex_match(topic, std::regex("\\s*(screen|camera|it|this|that)\\s*"))) {
      while (!topic.empty() && std::isspace(static_cast<unsigned char>(topic.back()))) topic.pop_back();
      return topic;
    }
    rest = m.suffix().str();
  }
  return "";
}

bool Has(const std::string& text, const char* pattern) {
  return std::regex_search(text, std::regex(pattern, std::regex::icase));
}

std::optional<double> CaptureNumber(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern, std::regex::icase))) return std::nullopt;
  return ParseNumber(m[1].str());
}

}  // namespace

const std::vector<std::string>& RuleExamples() {
  static const std::vector<std::string> kExamples = {
      "remove the silences (longer than 1 s)",
      "remove the ums and uhs / filler words",
      "tighten the gaps (to 0.3 s)",
      "a 45 second teaser (about TOPIC)",
      "three clips about TOPIC",
      "cut the bits where the slides are on screen / keep only the slides",
      "only the parts with the speaker's face",
      "vertical | square | landscape, with captions, at 1.25x speed, title: TEXT"};
  return kExamples;
}

std::optional<PlanBound> StatedLength(const std::string& instruction) {
  auto len = FindLength(Plain(Lower(instruction)));
  if (!len) return std::nullopt;
  if (len->qualifier == "under") return PlanBound{0, len->seconds};
  if (len->qualifier == "at least") return PlanBound{len->seconds, 3 * 3600};
  return PlanBound{0.9 * len->seconds, 1.1 * len->seconds};
}

Result<InstructionPlan> ParseInstruction(const std::string& raw) {
  const std::string text = Plain(Lower(raw));
  InstructionPlan plan;

  // Scenes first: they narrow the material the other steps work on.
  bool slides = Has(text, "\\b(slides?|slide ?deck|presentation|screen ?share|screen ?sharing)\\b");
  bool keep_only = Has(text, "\\b(only|just|keep)\\b");
  if (slides) {
    bool keep = keep_only && !Has(text, "\\b(cut|remove|drop|skip|without|lose|delete)\\b");
    plan.steps.push_back({keep ? "keep_scenes" : "drop_scenes", {{"where", "slide"}}});
    plan.understood.push_back(std::string(keep ? "keep" : "drop") + " the scenes that show slides");
  } else if (Has(text, "talking head|\\b(speaker|presenter|host|person|face|faces)\\b.*\\b(on (screen|camera)|visible|shown)|"
                       "\\b(with|where|showing) (the |a )?(speaker|presenter|host|person|face|faces)\\b")) {
    bool talking = Has(text, "talking|speaking|speaker|presenter|host");
    plan.steps.push_back({"keep_scenes", {{"where", talking ? "talking" : "face"}}});
    plan.understood.push_back(std::string("keep the scenes with ") + (talking ? "someone talking on camera" : "a face"));
  } else if (Has(text, "\\b(text|captions?) on (the )?screen\\b") && Has(text, "\\b(cut|remove|drop|skip|without)\\b")) {
    plan.steps.push_back({"drop_scenes", {{"where", "text"}}});
    plan.understood.push_back("drop the scenes with text on screen");
  }

  bool tighten = Has(text, "\\b(tighten|jump ?cuts?|shorten (the )?(pauses|gaps)|shorter (pauses|gaps)|gaps?)\\b");
  if (Has(text, "\\b(silences?|silent|dead air|quiet (parts|bits)|pauses?)\\b") &&
      !(tighten && !Has(text, "\\b(silences?|silent|dead air)\\b"))) {
    json params = json::object();
    if (auto min = CaptureNumber(text, "(?:longer than|over|more than|at least)\\s+" + std::string(kNumber) + "\\s*" + kUnit)) {
      params["min_silence_s"] = *min;
    }
    plan.steps.push_back({"remove_silences", params});
    plan.understood.push_back("remove the silences");
  }
  static const std::regex filler_re(
      "\\b(u+m+s?|u+h+s?|e+r+m*s?|a+h+s?|hmm+s?|fillers?|filler words?|hesitations?|verbal tics?)\\b",
      std::regex::icase);
  if (std::regex_search(text, filler_re)) {
    json words = json::array();
    for (const auto& w : {"um", "uh", "er", "erm", "ah", "uhm", "umm", "uhh", "hmm", "mm"}) words.push_back(w);
    for (const char* phrase : {"you know", "i mean", "sort of", "kind of"}) {
      if (text.find(phrase) != std::string::npos) words.push_back(phrase);
    }
    if (Has(text, "[\"'](like|so|basically|actually|literally|right)[\"']")) {
      std::smatch m;
      std::string rest = text;
      while (std::regex_search(rest, m, std::regex("[\"'](like|so|basically|actually|literally|right)[\"']"))) {
        words.push_back(m[1].str());
        rest = m.suffix().str();
      }
    }
    plan.steps.push_back({"remove_fillers", {{"words", words}}});
    plan.understood.push_back("remove filler words");
  }
  if (tighten) {
    json params = json::object();
    if (auto gap = CaptureNumber(text, "(?:to|at most|max(?:imum)?|under)\\s+" + std::string(kNumber) + "\\s*" + kUnit)) {
      if (*gap <= 10) params["max_gap_s"] = *gap;
    }
    plan.steps.push_back({"tighten_gaps", params});
    plan.understood.push_back("tighten the gaps between words");
  }

  auto length = FindLength(text);
  std::string topic = FindTopic(text);
  std::optional<double> count = CaptureNumber(
      text, std::string("\\b") + kNumber + "\\s+(?:short\\s+|vertical\\s+|good\\s+|best\\s+|separate\\s+)?" +
                "(?:clips|shorts|reels|highlights|teasers|videos|cuts|segments)\\b");
  if (count) {
    double n = std::clamp(*count, 1.0, static_cast<double>(kMaxPlanOutputs));
    json params = {{"count", static_cast<int>(n)}};
    if (!topic.empty()) params["topic"] = topic;
    if (length) {
      params["min_s"] = std::max(3.0, length->qualifier == "under" ? std::min(15.0, 0.5 * length->seconds)
                                                                   : 0.9 * length->seconds);
      params["max_s"] = length->qualifier == "at least" ? std::max(60.0, 2 * length->seconds) : 1.1 * length->seconds;
      plan.bound = StatedLength(raw);
    }
    plan.steps.push_back({"topic_clips", params});
    plan.understood.push_back(std::to_string(static_cast<int>(n)) + " clip(s)" +
                              (topic.empty() ? "" : " about '" + topic + "'"));
  } else if (length) {
    double target = length->seconds;
    if (length->qualifier == "under") target = 0.9 * length->seconds;
    json params = {{"target_s", target}};
    if (!topic.empty()) params["topic"] = topic;
    plan.bound = StatedLength(raw);
    plan.steps.push_back({"fit_length", params});
    plan.understood.push_back("about " + std::to_string(static_cast<int>(target + 0.5)) + " s" +
                              (topic.empty() ? "" : " about '" + topic + "'"));
  } else if (!topic.empty() && Has(text, "\\b(clip|short|reel|highlight|teaser|trailer|cut|part|bit|section)\\b")) {
    plan.steps.push_back({"topic_clips", {{"count", 1}, {"topic", topic}}});
    plan.understood.push_back("a clip about '" + topic + "'");
  }

  if (Has(text, "\\b(vertical|portrait|9:16|9x16|tiktok|tik tok|reels?|shorts|stories|story)\\b")) {
    plan.settings.aspect = "9:16";
  } else if (Has(text, "\\b(square|1:1|1x1)\\b")) {
    plan.settings.aspect = "1:1";
  } else if (Has(text, "\\b(landscape|horizontal|16:9|16x9|widescreen)\\b")) {
    plan.settings.aspect = "16:9";
  }
  if (plan.settings.aspect) plan.understood.push_back("aspect " + *plan.settings.aspect);
  if (Has(text, "\\b(no|without|remove the|turn off)\\s+(captions|subtitles)\\b")) {
    plan.settings.captions = json(false);
    plan.understood.push_back("no captions");
  } else if (Has(text, "\\b(captions?|captioned|subtitles?|subtitled)\\b")) {
    plan.settings.captions = json::object();
    plan.understood.push_back("captions");
  }
  if (auto speed = CaptureNumber(text, "(\\d+(?:\\.\\d+)?)\\s*x\\s*(?:speed|faster)?\\b")) {
    if (*speed >= kMinRangeSpeed && *speed <= kMaxRangeSpeed) {
      plan.settings.speed = *speed;
      plan.understood.push_back("speed " + std::to_string(*speed).substr(0, 4) + "x");
    }
  }
  {
    std::smatch m;
    std::string plain = Plain(raw);
    if (std::regex_search(plain, m, std::regex("\\btitle[d]?\\s*(?:it\\s*)?[:=]?\\s*[\"']([^\"']{1,200})[\"']", std::regex::icase)) ||
        std::regex_search(plain, m, std::regex("\\btitle[d]?\\s*:\\s*([^.;\\n]{1,200})", std::regex::icase))) {
      PlanTitle t;
      t.text = m[1].str();
      while (!t.text.empty() && std::isspace(static_cast<unsigned char>(t.text.back()))) t.text.pop_back();
      if (!t.text.empty()) {
        plan.settings.title = t;
        plan.understood.push_back("title '" + t.text + "'");
      }
    }
  }
  if (Has(text, "\\b(don'?t|do not|no)\\s+normali[sz]e")) {
    plan.settings.normalize_audio = false;
  } else if (Has(text, "\\b(normali[sz]e|loudness|level the (audio|sound|volume))\\b")) {
    plan.settings.normalize_audio = true;
    plan.understood.push_back("normalise loudness");
  }

  if (plan.understood.empty()) {
    std::string list;
    for (const auto& e : RuleExamples()) list += (list.empty() ? "" : "; ") + e;
    return Status::NotSupported("the rule planner does not understand this instruction; it understands: " + list);
  }
  return plan;
}

}  // namespace cutroom::edit
