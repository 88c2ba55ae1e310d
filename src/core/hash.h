// Streaming message digests (OpenSSL EVP) with hex output.
// Thread-safety: one Digest per thread; the free functions are reentrant.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace cutroom {

class Digest {
 public:
  // algorithm: "sha256", "sha1" or "md5". InvalidArgument otherwise.
  static Result<Digest> Create(std::string_view algorithm);
  Digest(Digest&&) noexcept;
  Digest& operator=(Digest&&) noexcept;
  ~Digest();

  void Update(const void* data, size_t size);
  // Raw digest bytes; the Digest must not be updated afterwards.
  std::string FinishRaw();
  std::string FinishHex();

 private:
  struct Impl;
  explicit Digest(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

std::string Sha256Hex(std::string_view data);
std::string HexEncode(std::string_view bytes);
// HMAC-SHA256 of data under key, as raw bytes (32 of them).
std::string HmacSha256(std::string_view key, std::string_view data);
// Compares two strings in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace cutroom
