#include "ai/curl_util.h"

#include <cctype>
#include <cstdlib>

namespace cutroom::ai {

size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (s->size() + size * n > (64u << 20)) return 0;
  s->append(data, size * n);
  return size * n;
}

size_t ReadRetryAfter(char* buffer, size_t size, size_t n, void* out) {
  std::string line(buffer, size * n);
  std::string lower = line;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.rfind("retry-after:", 0) != 0) return size * n;
  const char* value = line.c_str() + 12;
  while (*value == ' ' || *value == '\t') ++value;
  char* end = nullptr;
  long seconds = std::strtol(value, &end, 10);
  if (end != value && seconds >= 0 && (*end == '\r' || *end == '\n' || *end == ' ' || *end == '\0')) {
    *static_cast<long*>(out) = seconds;
  }
  return size * n;
}

std::string Trimmed(std::string s) {
  const char* space = " \t\r\n";
  s.erase(0, s.find_first_not_of(space));
  s.erase(s.find_last_not_of(space) + 1);
  return s;
}

}  // namespace cutroom::ai
