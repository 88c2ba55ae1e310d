// Sortable identifiers with a per-table prefix: "vid_01JD3Y8W6K2V9Q4T7B1C5E8H3N".
//
// The part after the prefix is a ULID: 48 bits of milliseconds since the
// epoch and 80 random bits in Crockford base32 (26 characters), so ids sort
// by creation time as plain strings. Within one millisecond a generator
// increments the random part, keeping ids from one process strictly
// increasing (cursor paging relies on that order).
// Thread-safety: IdGenerator is safe to share between threads.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "core/env.h"

namespace cutroom {

// Prefixes, one per table whose rows users address.
inline constexpr std::string_view kVideoIdPrefix = "vid";
inline constexpr std::string_view kAssetIdPrefix = "ast";
inline constexpr std::string_view kUploadIdPrefix = "upl";
inline constexpr std::string_view kChunkIdPrefix = "chk";
inline constexpr std::string_view kJobIdPrefix = "job";
inline constexpr std::string_view kLogIdPrefix = "log";
inline constexpr std::string_view kProcessingIdPrefix = "prc";
inline constexpr std::string_view kFrameIdPrefix = "frm";
inline constexpr std::string_view kSceneIdPrefix = "scn";
inline constexpr std::string_view kTranscriptionIdPrefix = "trn";
inline constexpr std::string_view kSegmentIdPrefix = "seg";
inline constexpr std::string_view kWordIdPrefix = "wrd";
inline constexpr std::string_view kClipIdPrefix = "clp";
inline constexpr std::string_view kEditJobIdPrefix = "edj";
inline constexpr std::string_view kRetentionIdPrefix = "ret";
inline constexpr std::string_view kAiEditJobIdPrefix = "aie";
inline constexpr std::string_view kOwnerIdPrefix = "own";
inline constexpr std::string_view kApiKeyIdPrefix = "key";
inline constexpr std::string_view kRequestIdPrefix = "req";

class IdGenerator {
 public:
  explicit IdGenerator(Env* env) : env_(env) {}

  // "<prefix>_<ulid>".
  std::string Next(std::string_view prefix);

 private:
  Env* env_;
  std::mutex mu_;
  TimestampMs last_ms_ = -1;
  std::array<uint8_t, 10> last_random_{};
};

// Whether text is "<prefix>_" followed by 26 Crockford base32 characters.
bool IsValidId(std::string_view text, std::string_view prefix);

}  // namespace cutroom
