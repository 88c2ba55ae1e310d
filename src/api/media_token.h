// MediaTokens: short-lived, read-only access tokens for URLs a browser
// loads itself (<video src>, <img src>, downloads, EventSource), which
// cannot carry an Authorization header.
//
// A token names its owner and expiry and is signed with HMAC-SHA256 under a
// server secret: server.token_secret when set (all servers of a scale-out
// deployment must share it), else a random key kept in
// <data_dir>/secrets/media-token.key (created once, mode 0600). It is
// accepted as ?access_token= on GET and HEAD requests only, so it can read
// but never change anything. Revoking an API key does not revoke the
// tokens issued under it; they lapse within their lifetime (an hour).
// Thread-safety: immutable after Open.
#pragma once

#include <string>

#include "core/config.h"
#include "core/env.h"
#include "core/result.h"

namespace cutroom::api {

struct MediaToken {
  std::string token;
  TimestampMs expires_at_ms = 0;
};

class MediaTokens {
 public:
  static constexpr int64_t kLifetimeMs = 60 * 60 * 1000;

  static Result<MediaTokens> Open(Env* env, const Config& config);

  MediaToken Issue(const std::string& owner_id, TimestampMs now_ms) const;
  // The token's owner; Unauthenticated when it is malformed, forged or expired.
  Result<std::string> Verify(const std::string& token, TimestampMs now_ms) const;

 private:
  explicit MediaTokens(std::string secret) : secret_(std::move(secret)) {}
  std::string Sign(const std::string& payload) const;

  std::string secret_;
};

}  // namespace cutroom::api
