// Base64 (RFC 4648, standard alphabet, padded) for protocol headers
// (tus Upload-Metadata and Upload-Checksum) and data URLs.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace cutroom {

std::string Base64Encode(std::string_view bytes);
// Strict: InvalidArgument on characters outside the alphabet or bad padding.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace cutroom
