#include "core/utf8.h"

#include <gtest/gtest.h>

namespace cutroom {
namespace {

std::u32string Decode(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) out += NextCodePoint(s, i);
  return out;
}

TEST(Utf8, RoundTripsEveryLength) {
  for (char32_t cp : {U'a', U'\u00e9', U'\u20ac', U'\U0001F600'}) {
    std::string s;
    AppendUtf8(s, cp);
    EXPECT_EQ(Decode(s), std::u32string(1, cp));
  }
}

TEST(Utf8, MalformedBytesBecomeOneReplacementEach) {
  EXPECT_EQ(Decode("\x80"), U"\uFFFD");
  EXPECT_EQ(Decode("a\xC3"), U"a\uFFFD");                // truncated
  EXPECT_EQ(Decode("\xC0\xAF"), U"\uFFFD\uFFFD");        // overlong '/'
  EXPECT_EQ(Decode("\xED\xA0\x80"), U"\uFFFD\uFFFD\uFFFD");  // a surrogate
  EXPECT_EQ(Decode("\xF4\x90\x80\x80"), U"\uFFFD\uFFFD\uFFFD\uFFFD");  // past U+10FFFF
  EXPECT_EQ(Decode("\xE2\x82x"), U"\uFFFD\uFFFDx");
}

}  // namespace
}  // namespace cutroom
