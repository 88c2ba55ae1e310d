// What the HTTP clients of ai/ share: RAII owners for libcurl handles and
// the callbacks that collect a reply.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

namespace cutroom::ai {

struct EasyCleanup {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct MimeFree {
  void operator()(curl_mime* m) const { curl_mime_free(m); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

using EasyHandle = std::unique_ptr<CURL, EasyCleanup>;
using MimeHandle = std::unique_ptr<curl_mime, MimeFree>;
using HeaderList = std::unique_ptr<curl_slist, SlistFree>;

// CURLOPT_WRITEFUNCTION into a std::string (out); refuses replies over
// 64 MiB (the services' answers are small: a flood is an error).
size_t CollectBody(char* data, size_t size, size_t n, void* out);

// CURLOPT_HEADERFUNCTION storing Retry-After in its delta-seconds form into
// a long (out); the HTTP-date form (rare from these services) is left to
// the caller's exponential backoff rather than read as "now".
size_t ReadRetryAfter(char* buffer, size_t size, size_t n, void* out);

// s without leading and trailing blanks and line ends.
std::string Trimmed(std::string s);

}  // namespace cutroom::ai
