#include "core/ids.h"

namespace cutroom {
namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

}  // namespace

std::string IdGenerator::Next(std::string_view prefix) {
  std::array<uint8_t, 16> bytes{};
  {
    std::lock_guard lock(mu_);
    TimestampMs now = env_->NowMs();
    if (now <= last_ms_) {
      // Same (or earlier: clock stepped back) millisecond: keep the last time
      // and increment the random part so the order stays strict.
      now = last_ms_;
      for (int i = 9; i >= 0; --i) {
        if (++last_random_[static_cast<size_t>(i)] != 0) break;
      }
    } else {
      last_ms_ = now;
      env_->RandomBytes(last_random_.data(), last_random_.size());
      last_random_[0] &= 0x7f;  // leave headroom so increments cannot overflow
    }
    uint64_t ms = static_cast<uint64_t>(now);
    for (int i = 5; i >= 0; --i) {
      bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(ms & 0xff);
      ms >>= 8;
    }
    for (size_t i = 0; i < 10; ++i) bytes[6 + i] = last_random_[i];
  }
  // 128 bits -> 26 base32 characters (the first carries 3 bits).
  std::string out(prefix);
  out += '_';
  char enc[26];
  unsigned __int128 v = 0;
  for (uint8_t b : bytes) v = (v << 8) | b;
  for (int i = 25; i >= 0; --i) {
    enc[i] = kCrockford[static_cast<unsigned>(v & 31)];
    v >>= 5;
  }
  out.append(enc, 26);
  return out;
}

bool IsValidId(std::string_view text, std::string_view prefix) {
  if (text.size() != prefix.size() + 1 + 26) return false;
  if (text.substr(0, prefix.size()) != prefix || text[prefix.size()] != '_') return false;
  for (char c : text.substr(prefix.size() + 1)) {
    if (std::string_view(kCrockford).find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace cutroom
