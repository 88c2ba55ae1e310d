// Fuzz targets: one function per parser of untrusted input, each taking
// arbitrary bytes and returning 0. They are built two ways:
//   - as libFuzzer executables (fuzz_<name>, clang, -fsanitize=fuzzer,
//     address,undefined) by scripts/fuzz.sh, which runs them on the seed
//     corpus in fuzz/corpus/<name> with the dictionary fuzz/dict/<name>.dict;
//   - into the unit test fuzz_replay_test (any compiler, and under ASan/UBSan
//     in scripts/test.sh), which replays every seed and every input in
//     fuzz/regressions/<name> (crashes found and fixed) through them.
// A target must not crash, leak, hang or trip a sanitizer on any input;
// parse errors are expected results, not failures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cutroom::fuzz {

using Target = int (*)(const uint8_t* data, size_t size);

// tus request headers: Upload-Metadata (base64 pairs), Upload-Checksum,
// and base64 itself.
int TusHeaders(const uint8_t* data, size_t size);
// URLs as users submit them for import, and allowlist CIDRs.
int UrlAndAddressPolicy(const uint8_t* data, size_t size);
// Retention imports: YouTube Analytics JSON, Studio CSV (UTF-8 or UTF-16),
// plain points.
int RetentionImport(const uint8_t* data, size_t size);
// Edit plans as an LLM returns them (JSON -> EditPlan).
int EditPlan(const uint8_t* data, size_t size);
// Burned-in captions from hostile transcript text.
int AssCaptions(const uint8_t* data, size_t size);
// The media probe on arbitrary bytes (through the demuxer whitelist).
int MediaProbe(const uint8_t* data, size_t size);
// Replies of an S3-compatible service, which may be broken or hostile:
// listings, errors, multipart answers (XML).
int S3Xml(const uint8_t* data, size_t size);
// The HTTP/1.1 front on a client's byte stream: request heads, chunked and
// multipart bodies split at every position (http_request_target.cc).
int HttpRequest(const uint8_t* data, size_t size);
// Request bodies of every POST, PUT and PATCH route through the real router,
// in process, over a temporary database (api_routes_target.cc).
int ApiRoutes(const uint8_t* data, size_t size);

struct NamedTarget {
  const char* name;
  Target fn;
};
// Every target, by the name of its corpus folder.
const std::vector<NamedTarget>& AllTargets();

}  // namespace cutroom::fuzz
