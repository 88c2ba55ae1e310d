#include "api/media_token.h"

#include <sys/stat.h>

#include <charconv>

#include "core/hash.h"

namespace cutroom::api {
namespace {

constexpr std::string_view kVersion = "mt1";

Result<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return Status::InvalidArgument("odd hex length");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
    if (ec != std::errc() || ptr != hex.data() + i + 2) return Status::InvalidArgument("not hex");
    out.push_back(static_cast<char>(value));
  }
  return out;
}

}  // namespace

Result<MediaTokens> MediaTokens::Open(Env* env, const Config& config) {
  std::string configured = config.GetString("server.token_secret");
  if (!configured.empty()) {
    if (configured.size() < 16) {
      return Status::InvalidArgument("server.token_secret must be at least 16 characters");
    }
    return MediaTokens(configured);
  }
  std::string dir = config.GetString("storage.data_dir") + "/secrets";
  std::string path = dir + "/media-token.key";
  if (!env->FileExists(path)) {
    CUTROOM_RETURN_IF_ERROR(env->CreateDirs(dir));
    ::chmod(dir.c_str(), 0700);
    std::string key(32, '\0');
    env->RandomBytes(key.data(), key.size());
    CUTROOM_RETURN_IF_ERROR(env->WriteFileAtomic(path, HexEncode(key)));
    ::chmod(path.c_str(), 0600);
  }
  // Read back, so servers racing to create it end up with the same key.
  CUTROOM_ASSIGN_OR_RETURN(std::string hex, env->ReadFileToString(path));
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
  auto secret = HexDecode(hex);
  if (!secret.ok() || secret->size() < 16) {
    return Status::Corruption(path + " does not hold a valid key; delete it to make a new one (tokens issued "
                                   "under it stop working)");
  }
  return MediaTokens(*secret);
}

std::string MediaTokens::Sign(const std::string& payload) const { return HexEncode(HmacSha256(secret_, payload)); }

MediaToken MediaTokens::Issue(const std::string& owner_id, TimestampMs now_ms) const {
  TimestampMs expires = now_ms + kLifetimeMs;
  std::string payload = std::string(kVersion) + "." + HexEncode(owner_id) + "." + std::to_string(expires / 1000);
  return {payload + "." + Sign(payload), (expires / 1000) * 1000};
}

Result<std::string> MediaTokens::Verify(const std::string& token, TimestampMs now_ms) const {
  auto bad = [] { return Status::Unauthenticated("the access token is invalid or has expired; ask for a new one"); };
  if (token.size() > 1024) return bad();
  size_t mac_dot = token.rfind('.');
  if (mac_dot == std::string::npos) return bad();
  std::string payload = token.substr(0, mac_dot);
  if (!ConstantTimeEquals(Sign(payload), std::string_view(token).substr(mac_dot + 1))) return bad();
  // Signed by us: the payload is well formed.
  size_t first = payload.find('.');
  size_t second = payload.find('.', first + 1);
  if (first == std::string::npos || second == std::string::npos || payload.substr(0, first) != kVersion) return bad();
  int64_t expires_s = 0;
  std::string_view exp = std::string_view(payload).substr(second + 1);
  auto [ptr, ec] = std::from_chars(exp.data(), exp.data() + exp.size(), expires_s);
  if (ec != std::errc() || ptr != exp.data() + exp.size()) return bad();
  if (expires_s * 1000 <= now_ms) return bad();
  auto owner = HexDecode(std::string_view(payload).substr(first + 1, second - first - 1));
  if (!owner.ok() || owner->empty()) return bad();
  return *owner;
}

}  // namespace cutroom::api
