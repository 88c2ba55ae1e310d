#include "core/json_numbers.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace cutroom {
namespace {

bool IsTimeKey(std::string_view key) {
  if (key.size() > 2 && key.substr(key.size() - 2) == "_s") return true;
  return key == "t" || key == "ts" || key == "start" || key == "end" || key == "ranges";
}

double RoundSignificant(double v) {
  // %.9g then back: the shortest decimal of at most 9 digits, which the
  // JSON writer (shortest round trip) then prints as written.
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return std::strtod(buf, nullptr);
}

void Tidy(nlohmann::json& v, bool time) {
  switch (v.type()) {
    case nlohmann::json::value_t::number_float: {
      double d = v.get<double>();
      if (!std::isfinite(d)) return;
      v = time ? RoundToMillisecond(d) : RoundSignificant(d);
      return;
    }
    case nlohmann::json::value_t::array:
      for (auto& e : v) Tidy(e, time);
      return;
    case nlohmann::json::value_t::object:
      for (auto it = v.begin(); it != v.end(); ++it) Tidy(it.value(), time || IsTimeKey(it.key()));
      return;
    default:
      return;
  }
}

}  // namespace

double RoundToMillisecond(double seconds) {
  if (!std::isfinite(seconds)) return seconds;
  double r = std::round(seconds * 1000.0) / 1000.0;
  return r == 0 ? 0.0 : r;  // no "-0.0"
}

void TidyJsonNumbers(nlohmann::json& value) { Tidy(value, false); }

}  // namespace cutroom
