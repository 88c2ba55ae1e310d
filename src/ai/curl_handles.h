// RAII owners for libcurl handles, shared by the HTTP clients of ai/.
#pragma once

#include <curl/curl.h>

#include <memory>

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

}  // namespace cutroom::ai
