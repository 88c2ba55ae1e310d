#include "edit/render/ass_captions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_support.h"

namespace cutroom::edit {
namespace {

using analysis::TranscriptWord;
using ::testing::HasSubstr;
using ::testing::Not;

struct Event {
  double start = 0, end = 0;
  std::string text;
  std::string style;
  int layer = 0;
};

double ParseAssTime(const std::string& t) {
  int h = 0, m = 0, s = 0, cs = 0;
  EXPECT_EQ(std::sscanf(t.c_str(), "%d:%d:%d.%d", &h, &m, &s, &cs), 4) << t;
  return h * 3600 + m * 60 + s + cs / 100.0;
}

// The Dialogue lines of a document, in order.
std::vector<Event> Events(const std::string& doc) {
  std::vector<Event> events;
  std::istringstream in(doc);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Dialogue: ", 0) != 0) continue;
    // Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
    std::vector<std::string> fields;
    size_t pos = 10;
    for (int i = 0; i < 9; ++i) {
      size_t comma = line.find(',', pos);
      fields.push_back(line.substr(pos, comma - pos));
      pos = comma + 1;
    }
    events.push_back({ParseAssTime(fields[1]), ParseAssTime(fields[2]), line.substr(pos), fields[3], std::stoi(fields[0])});
  }
  return events;
}

// The text of an event without override tags and with line breaks as '|'.
std::string Plain(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{') {
      i = text.find('}', i);
      continue;
    }
    if (text.compare(i, 2, "\\N") == 0) {
      out += '|';
      ++i;
      continue;
    }
    out += text[i];
  }
  return out;
}

CaptionStyle Style(int max_chars = 40, bool highlight = true) {
  CaptionStyle s = DefaultCaptionStyle(720, 1280);
  s.max_chars_per_line = max_chars;
  s.highlight = highlight;
  return s;
}

TEST(AssCaptions, WritesAHeaderForTheOutputSize) {
  CaptionStyle style = Style();
  style.size = 60;
  style.primary_color = 0x112233;
  style.position = CaptionPosition::kTop;
  style.margin = 80;
  const std::string doc = BuildAssCaptions({}, {{0, 5}}, style, 720, 1280);
  EXPECT_THAT(doc, HasSubstr("[Script Info]"));
  EXPECT_THAT(doc, HasSubstr("PlayResX: 720\n"));
  EXPECT_THAT(doc, HasSubstr("PlayResY: 1280\n"));
  // Font, size, primary colour as &HBBGGRR, top-centre alignment (8), margins.
  EXPECT_THAT(doc, HasSubstr("Style: Caption,DejaVu Sans,60,&H332211,"));
  EXPECT_THAT(doc, HasSubstr(",8,29,29,80,1\n"));
  EXPECT_TRUE(Events(doc).empty());
}

TEST(AssCaptions, RetimesWordsOntoTheJoinedRangesAndDropsTheRest) {
  const std::vector<TranscriptWord> words = {
      {"before", 0.1, 0.4, 1}, {"hello", 1.0, 1.4, 1}, {"world", 1.5, 1.9, 1},
      {"again", 5.2, 5.6, 1},  {"outside", 9.0, 9.5, 1},
  };
  // Out of order on purpose: 5..6 comes first in the output.
  const std::vector<TimeRange> ranges = {{5.0, 6.0}, {0.5, 2.5}};
  const auto events = Events(BuildAssCaptions(words, ranges, Style(40, false), 720, 1280));
  ASSERT_EQ(events.size(), 2u);
  // "again": 0.2 s into the first range.
  EXPECT_EQ(Plain(events[0].text), "again");
  EXPECT_NEAR(events[0].start, 0.2, 0.006);
  // "hello world": 1.0 s (the first range) + 0.5 s into the second.
  EXPECT_EQ(Plain(events[1].text), "hello world");
  EXPECT_NEAR(events[1].start, 1.5, 0.006);
  // The page lingers a little after its last word, inside its range.
  EXPECT_GT(events[1].end, 1.0 + 1.4);
  EXPECT_LE(events[1].end, 3.0 + 0.006);
  // "again" lingers, but not past its range's end (1.0 s in output time).
  EXPECT_LE(events[0].end, 1.0 + 0.006);
}

TEST(AssCaptions, RetimesWordsThroughEachRangesSpeed) {
  const std::vector<TranscriptWord> words = {{"fast", 1.0, 1.4, 1}, {"slow", 4.5, 4.8, 1}};
  // 2 s at double speed (1 s of output), then 2 s at half speed (4 s).
  const std::vector<TimeRange> ranges = {{0, 2, 2.0}, {4, 6, 0.5}};
  const auto events = Events(BuildAssCaptions(words, ranges, Style(40, false), 720, 1280));
  ASSERT_EQ(events.size(), 2u);
  // 1.0 s into the first range is 0.5 s of output, the word 0.2 s long.
  EXPECT_EQ(Plain(events[0].text), "fast");
  EXPECT_NEAR(events[0].start, 0.5, 0.006);
  EXPECT_LE(events[0].end, 1.0 + 0.006);  // lingers, but not past its range's 1 s of output
  EXPECT_GT(events[0].end, 0.7);
  // 0.5 s into the second range is 1.0 s after its output start (1 s).
  EXPECT_EQ(Plain(events[1].text), "slow");
  EXPECT_NEAR(events[1].start, 2.0, 0.006);
  EXPECT_NEAR(events[1].end, 2.6 + 0.35, 0.006);  // 0.3 s of source is 0.6 s of output, then the linger
}

TEST(AssCaptions, ClipsWordsCutByARangeEdgeAndDropsSlivers) {
  const std::vector<TranscriptWord> words = {
      {"cut", 1.8, 2.4, 1},      // half inside 1..2.1: clipped
      {"sliver", 2.08, 2.6, 1},  // 0.02 s inside: dropped
  };
  const auto events = Events(BuildAssCaptions(words, {{1.0, 2.1}}, Style(40, false), 720, 1280));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(Plain(events[0].text), "cut");
  EXPECT_NEAR(events[0].start, 0.8, 0.006);
  EXPECT_NEAR(events[0].end, 1.1, 0.006);  // the range's end, not the word's
}

TEST(AssCaptions, ShowsAWordTwiceWhenRangesRepeatIt) {
  const auto events = Events(BuildAssCaptions({{"echo", 1.0, 1.5, 1}}, {{0.5, 2}, {0.5, 2}}, Style(), 720, 1280));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_NEAR(events[0].start, 0.5, 0.006);
  EXPECT_NEAR(events[1].start, 2.0, 0.006);
}

TEST(AssCaptions, EscapesBracesAndBackslashesInWords) {
  const auto doc = BuildAssCaptions({{"{\\an8}x\\", 1.0, 1.4, 1}, {"n", 1.4, 1.6, 1}}, {{0, 3}}, Style(40, true),
                                    720, 1280);
  const auto events = Events(doc);
  ASSERT_EQ(events.size(), 2u);
  // Braces become \{ \}; a backslash is followed by a word joiner so that it
  // never pairs with the next character (here the next word's "n" would
  // otherwise not be at risk, but the highlight tag after the word is).
  EXPECT_THAT(events[1].text, HasSubstr("\\{\\\u2060an8\\}x\\\u2060 "));
  EXPECT_THAT(doc, Not(HasSubstr("{\\an8}")));
  // The first word's own highlight: the tag closes after the escaped text.
  EXPECT_THAT(events[0].text, HasSubstr("\\{\\\u2060an8\\}x\\\u2060{\\r}"));
}

TEST(AssCaptions, StripsControlCharactersFromWords) {
  const auto events = Events(BuildAssCaptions({{"line\nbreak\t", 1.0, 1.4, 1}}, {{0, 3}}, Style(40, false), 720, 1280));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].text, "line break");
}

TEST(AssCaptions, HighlightsTheWordBeingSpoken) {
  CaptionStyle style = Style(40, true);
  style.highlight_color = 0xFFD21F;
  const std::vector<TranscriptWord> words = {{"one", 1.0, 1.3, 1}, {"two", 1.3, 1.6, 1}, {"three", 1.7, 2.0, 1}};
  const auto events = Events(BuildAssCaptions(words, {{0, 4}}, style, 720, 1280));
  ASSERT_EQ(events.size(), 3u);
  // One event per word, each showing the whole page, back to back.
  const std::string tag = "{\\1c&H1FD2FF&}";
  EXPECT_EQ(events[0].text, tag + "one{\\r} two three");
  EXPECT_EQ(events[1].text, "one " + tag + "two{\\r} three");
  EXPECT_EQ(events[2].text, "one two " + tag + "three{\\r}");
  EXPECT_NEAR(events[0].start, 1.0, 0.006);
  EXPECT_NEAR(events[0].end, 1.3, 0.006);
  EXPECT_NEAR(events[1].end, 1.7, 0.006);  // lit through the gap before the next word
  EXPECT_NEAR(events[2].end, 2.0 + 0.35, 0.006);
}

TEST(AssCaptions, UppercasesUnicode) {
  CaptionStyle style = Style(40, false);
  style.uppercase = true;
  const auto events = Events(BuildAssCaptions({{"héllo", 1.0, 1.4, 1}, {"straße", 1.4, 1.8, 1}}, {{0, 3}}, style,
                                              720, 1280));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].text, "HÉLLO STRAßE");
}

TEST(AssCaptions, BreaksLinesAndPagesByLength) {
  // 12 three-letter words spoken without pauses; lines of at most 11
  // characters (three words), two lines a page.
  std::vector<TranscriptWord> words;
  for (int i = 0; i < 12; ++i) {
    char w[4];
    std::snprintf(w, sizeof w, "w%02d", i);
    words.push_back({w, 1.0 + 0.2 * i, 1.2 + 0.2 * i, 1});
  }
  CaptionStyle style = Style(11, false);
  style.max_lines = 2;
  const auto events = Events(BuildAssCaptions(words, {{0, 10}}, style, 720, 1280));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(Plain(events[0].text), "w00 w01 w02|w03 w04 w05");
  EXPECT_EQ(Plain(events[1].text), "w06 w07 w08|w09 w10 w11");
  EXPECT_NEAR(events[1].start, 2.2, 0.006);
  EXPECT_LE(events[0].end, events[1].start);
}

TEST(AssCaptions, BalancesTheLinesOfAPage) {
  // Greedy filling would give "aaaa bbbb cccc" over "dd"; balanced lines
  // are closer in length.
  const std::vector<TranscriptWord> words = {
      {"aaaa", 1.0, 1.2, 1}, {"bbbb", 1.2, 1.4, 1}, {"cccc", 1.4, 1.6, 1}, {"dd", 1.6, 1.8, 1}};
  const auto events = Events(BuildAssCaptions(words, {{0, 3}}, Style(14, false), 720, 1280));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(Plain(events[0].text), "aaaa bbbb|cccc dd");
}

TEST(AssCaptions, StartsANewPageAtAPauseASentenceEndAndAJoin) {
  const std::vector<TranscriptWord> words = {
      {"first", 1.0, 1.3, 1},  {"pause", 2.5, 2.8, 1},  // 1.2 s of silence before it
      {"done.", 2.8, 3.1, 1},  {"next", 3.1, 3.4, 1},   // a sentence ends before "next"
      {"after", 6.0, 6.3, 1},                           // in the second range
  };
  const auto events = Events(BuildAssCaptions(words, {{0, 3.5}, {5.9, 7}}, Style(40, false), 720, 1280));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(Plain(events[0].text), "first");
  EXPECT_EQ(Plain(events[1].text), "pause done.");
  EXPECT_EQ(Plain(events[2].text), "next");
  EXPECT_EQ(Plain(events[3].text), "after");
  EXPECT_NEAR(events[3].start, 3.5 + 0.1, 0.006);
  // A page never overlaps the next one.
  for (size_t i = 0; i + 1 < events.size(); ++i) EXPECT_LE(events[i].end, events[i + 1].start + 1e-9);
}

TEST(AssCaptions, PutsATitleOverTheOpeningSeconds) {
  CaptionStyle style = Style(40, false);
  style.primary_color = 0x112233;
  const std::string doc = BuildAssCaptions({{"word", 3.0, 3.4, 1}}, {{0, 10}}, style, 720, 1280,
                                           AssTitle{"Five {\\an2} tips\\", 2.5});
  // Bold, top centre (8), in the captions' font and colour, 10% of the
  // height from the top.
  EXPECT_THAT(doc, HasSubstr("Style: Title,DejaVu Sans,"));
  EXPECT_THAT(doc, HasSubstr(",&H332211,&H332211,&H000000,&H80000000,-1,"));
  EXPECT_THAT(doc, HasSubstr(",8,29,29,128,1\n"));
  const auto events = Events(doc);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].style, "Title");
  EXPECT_EQ(events[0].layer, 1);  // drawn over the captions
  EXPECT_NEAR(events[0].start, 0.0, 1e-9);
  EXPECT_NEAR(events[0].end, 2.5, 0.006);
  // Fades in and out; braces and backslashes escaped like words'.
  EXPECT_EQ(events[0].text, "{\\fad(300,300)}Five \\{\\\u2060an2\\} tips\\\u2060");
  EXPECT_THAT(doc, Not(HasSubstr("{\\an2}")));
  EXPECT_EQ(events[1].style, "Caption");
  EXPECT_EQ(Plain(events[1].text), "word");
}

TEST(AssCaptions, ClampsTheTitleToTheOutputAndKeepsItsLineBreaks) {
  // 4 s of source at double speed: 2 s of output. No words: only the title.
  const auto events = Events(BuildAssCaptions({}, {{1, 5, 2.0}}, Style(), 720, 1280,
                                              AssTitle{"Line one\n\n  line\ttwo ", 6}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].style, "Title");
  EXPECT_NEAR(events[0].end, 2.0, 0.006);
  // A short title fades over a quarter of its time at most.
  EXPECT_EQ(events[0].text, "{\\fad(300,300)}Line one\\Nline two");
  const auto brief = Events(BuildAssCaptions({}, {{0, 10}}, Style(), 720, 1280, AssTitle{"Hi", 0.8}));
  ASSERT_EQ(brief.size(), 1u);
  EXPECT_EQ(brief[0].text, "{\\fad(200,200)}Hi");
}

TEST(AssCaptions, LeavesOutAnEmptyOrZeroLengthTitle) {
  for (const AssTitle& title : {AssTitle{" \n\t", 3}, AssTitle{"Title", 0}, AssTitle{"Title", -1}}) {
    const std::string doc = BuildAssCaptions({}, {{0, 10}}, Style(), 720, 1280, title);
    EXPECT_THAT(doc, Not(HasSubstr("Title")));
    EXPECT_TRUE(Events(doc).empty());
    EXPECT_EQ(doc, BuildAssCaptions({}, {{0, 10}}, Style(), 720, 1280));
  }
}

TEST(AssCaptions, PutsTheTitleInTheMiddleWhenCaptionsAreOnTop) {
  CaptionStyle style = Style();
  style.position = CaptionPosition::kTop;
  const std::string doc = BuildAssCaptions({}, {{0, 10}}, style, 1920, 1080, AssTitle{"Title", 3});
  // Landscape: 6% of the height as the margin; alignment 5, the middle.
  EXPECT_THAT(doc, HasSubstr(",5,77,77,65,1\n"));
}

TEST(CaptionStyle, DefaultsFollowTheOutputShape) {
  const CaptionStyle portrait = DefaultCaptionStyle(720, 1280);
  EXPECT_EQ(portrait.max_chars_per_line, 24);
  EXPECT_EQ(portrait.max_lines, 2);
  EXPECT_GT(portrait.size, 40);
  EXPECT_LE(portrait.size, static_cast<int>(0.055 * 1280));
  EXPECT_EQ(portrait.margin, 192);  // clear of the player's controls
  const CaptionStyle landscape = DefaultCaptionStyle(1920, 1080);
  EXPECT_GT(landscape.max_chars_per_line, portrait.max_chars_per_line);
  EXPECT_EQ(landscape.size, static_cast<int>(0.055 * 1080));  // fits, so the full 5.5%
}

TEST(CaptionStyle, ReadsJsonAndDefaultsTheRest) {
  auto style = CaptionStyleFromJson(nlohmann::json::parse(R"({
      "size": 64, "primary_color": "#ff0000", "highlight_color": "#00FF00", "outline_color": "#0000ff",
      "outline_width": 2.5, "position": "middle", "margin": 10, "uppercase": true,
      "max_chars_per_line": 18, "max_lines": 3, "highlight": false, "bold": false, "font": "DejaVu Serif"})"),
                                    720, 1280);
  ASSERT_OK(style.status());
  EXPECT_EQ(style->size, 64);
  EXPECT_EQ(style->primary_color, 0xFF0000u);
  EXPECT_EQ(style->highlight_color, 0x00FF00u);
  EXPECT_EQ(style->outline_color, 0x0000FFu);
  EXPECT_DOUBLE_EQ(style->outline_width, 2.5);
  EXPECT_EQ(style->position, CaptionPosition::kMiddle);
  EXPECT_EQ(style->margin, 10);
  EXPECT_TRUE(style->uppercase);
  EXPECT_EQ(style->max_chars_per_line, 18);
  EXPECT_EQ(style->max_lines, 3);
  EXPECT_FALSE(style->highlight);
  EXPECT_FALSE(style->bold);
  EXPECT_EQ(style->font, "DejaVu Serif");

  auto defaults = CaptionStyleFromJson(nlohmann::json::object(), 720, 1280);
  ASSERT_OK(defaults.status());
  EXPECT_EQ(defaults->size, DefaultCaptionStyle(720, 1280).size);
  EXPECT_EQ(defaults->position, CaptionPosition::kBottom);
  // Capitals are wider: with no size given, an uppercase style is smaller.
  auto upper = CaptionStyleFromJson(nlohmann::json{{"uppercase", true}}, 720, 1280);
  ASSERT_OK(upper.status());
  EXPECT_LT(upper->size, defaults->size);
}

TEST(CaptionStyle, RejectsBadFieldsByName) {
  struct Case {
    const char* json;
    const char* mentions;
  };
  const Case cases[] = {
      {R"({"position": "left"})", "'position'"},
      {R"({"position": 3})", "'position'"},
      {R"({"primary_color": "red"})", "'primary_color'"},
      {R"({"highlight_color": "#12345"})", "'highlight_color'"},
      {R"({"outline_color": "#GGGGGG"})", "'outline_color'"},
      {R"({"size": 7})", "'size'"},
      {R"({"size": 301})", "'size'"},
      {R"({"size": 40.5})", "'size'"},
      {R"({"size": "40"})", "'size'"},
      {R"({"outline_width": -1})", "'outline_width'"},
      {R"({"margin": 700})", "'margin'"},
      {R"({"max_chars_per_line": 2})", "'max_chars_per_line'"},
      {R"({"max_lines": 0})", "'max_lines'"},
      {R"({"uppercase": "yes"})", "'uppercase'"},
      {R"({"font": "Evil, Font"})", "'font'"},
      {R"({"font": ""})", "'font'"},
      {R"({"colour": "#FFFFFF"})", "'colour'"},
  };
  for (const Case& c : cases) {
    auto style = CaptionStyleFromJson(nlohmann::json::parse(c.json), 720, 1280);
    ASSERT_FALSE(style.ok()) << c.json;
    EXPECT_TRUE(style.status().IsInvalidArgument()) << c.json;
    EXPECT_THAT(style.status().message(), HasSubstr(c.mentions)) << c.json;
  }
  EXPECT_TRUE(CaptionStyleFromJson(nlohmann::json::array(), 720, 1280).status().IsInvalidArgument());
  EXPECT_TRUE(CaptionStyleFromJson(nlohmann::json::object(), 0, 1280).status().IsInvalidArgument());
}

}  // namespace
}  // namespace cutroom::edit
