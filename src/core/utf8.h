// UTF-8 encoding and forgiving decoding, for text that comes from people
// and models (captions, titles, chart labels, imported files): a malformed
// byte decodes as U+FFFD on its own, so nothing invalid reaches a format
// (ASS, SVG, CSV) that would reject or misdraw the whole document.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace cutroom {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes one code point at s[i] and advances i past it. Malformed input
// (a stray continuation byte, a truncated sequence, an overlong form, a
// surrogate, a value past U+10FFFF) decodes as kReplacementChar and
// advances one byte. REQUIRES: i < s.size().
char32_t NextCodePoint(std::string_view s, size_t& i);

// Appends cp as UTF-8. REQUIRES: cp <= 0x10FFFF.
void AppendUtf8(std::string& out, char32_t cp);

}  // namespace cutroom
