#include "ingest/url_fetcher.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace cutroom::ingest {
namespace {

struct CurlEasyCleanup {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct CurlUrlCleanup {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlSlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct CurlFree {
  void operator()(char* p) const { curl_free(p); }
};

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// State shared with curl's callbacks for one transfer.
struct Transfer {
  const AddressPolicy* policy;
  const FetchOptions* options;
  const FetchSink* sink;
  FetchResult* result;
  Status refused;       // why a connection was refused
  Status sink_status;   // why the sink stopped
  bool too_large = false;
  bool cancelled = false;
};

curl_socket_t OpenSocket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(clientp);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  Status st = t->policy->Check(&address->addr);
  if (!st.ok()) {
    t->refused = st;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

size_t Write(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t n = size * nmemb;
  uint64_t max = t->options->max_bytes;
  if (max && t->result->bytes + n > max) {
    t->too_large = true;
    return 0;
  }
  Status st = (*t->sink)(data, n);
  if (!st.ok()) {
    t->sink_status = st;
    return 0;
  }
  t->result->bytes += n;
  return n;
}

int Progress(void* clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(clientp);
  if (t->options->max_bytes && dltotal > 0 && static_cast<uint64_t>(dltotal) > t->options->max_bytes) {
    t->too_large = true;
    return 1;
  }
  if (t->options->on_progress &&
      !t->options->on_progress(static_cast<uint64_t>(dlnow), static_cast<uint64_t>(std::max<curl_off_t>(dltotal, 0)))) {
    t->cancelled = true;
    return 1;
  }
  return 0;
}

size_t Header(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  std::string line(buffer, size * nitems);
  // Each response of a redirect chain starts with its status line: only the
  // last one's validators count.
  if (line.rfind("HTTP/", 0) == 0) {
    t->result->etag.clear();
    t->result->last_modified.clear();
    t->result->total_size.reset();
    return size * nitems;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos) return size * nitems;
  std::string name = line.substr(0, colon);
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value = line.substr(colon + 1);
  auto first = value.find_first_not_of(" \t");
  auto last = value.find_last_not_of(" \t\r\n");
  value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
  if (name == "content-range") {
    // Content-Range: bytes 0-99/12345
    auto slash = value.find('/');
    if (slash != std::string::npos && slash + 1 < value.size() && value[slash + 1] != '*') {
      t->result->total_size = std::strtoull(value.c_str() + slash + 1, nullptr, 10);
    }
  } else if (name == "etag") {
    t->result->etag = value.substr(0, 256);
  } else if (name == "last-modified") {
    t->result->last_modified = value.substr(0, 64);
  }
  return size * nitems;
}

}  // namespace

Status UrlFetcher::ValidateUrl(const std::string& url) {
  GlobalInit();
  if (url.size() > 8192) return Status::InvalidArgument("URL is too long");
  std::unique_ptr<CURLU, CurlUrlCleanup> u(curl_url());
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return Status::InvalidArgument("not a valid URL: '" + url + "'");
  }
  char* raw = nullptr;
  curl_url_get(u.get(), CURLUPART_SCHEME, &raw, 0);
  std::unique_ptr<char, CurlFree> scheme(raw);
  std::string s = scheme ? scheme.get() : "";
  if (s != "http" && s != "https") {
    return Status::InvalidArgument("only http and https URLs can be imported, not '" + s + "'");
  }
  raw = nullptr;
  if (curl_url_get(u.get(), CURLUPART_HOST, &raw, 0) != CURLUE_OK || !raw) {
    return Status::InvalidArgument("URL has no host: '" + url + "'");
  }
  curl_free(raw);
  raw = nullptr;
  if (curl_url_get(u.get(), CURLUPART_USER, &raw, 0) == CURLUE_OK && raw) {
    curl_free(raw);
    return Status::InvalidArgument("URLs with credentials are not accepted");
  }
  return Status::Ok();
}

Result<FetchResult> UrlFetcher::Fetch(const std::string& url, const FetchOptions& options,
                                      const FetchSink& sink) const {
  CUTROOM_RETURN_IF_ERROR(ValidateUrl(url));
  std::unique_ptr<CURL, CurlEasyCleanup> curl(curl_easy_init());
  if (!curl) return Status::Internal("curl_easy_init failed");
  FetchResult result;
  Transfer t{&policy_, &options, &sink, &result, Status::Ok(), Status::Ok()};
  CURL* c = curl.get();
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, static_cast<long>(options.max_redirects));
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, options.total_timeout_s);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.low_speed_timeout_s);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "cutroom/0.1");
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "identity");
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, OpenSocket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, Header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, Progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  if (options.max_bytes) curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_bytes));
  std::string range;
  if (options.range) {
    range = std::to_string(options.range->first) + "-" + std::to_string(options.range->second);
    curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
  }

  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.http_status);
  char* effective = nullptr;
  curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
  if (effective) result.effective_url = effective;
  char* ctype = nullptr;
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
  if (ctype) result.content_type = ctype;
  curl_off_t length = -1;
  curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  if (length >= 0) result.content_length = static_cast<uint64_t>(length);
  {
    std::string path = result.effective_url.empty() ? url : result.effective_url;
    auto q = path.find_first_of("?#");
    if (q != std::string::npos) path.resize(q);
    auto slash = path.find_last_of('/');
    if (slash != std::string::npos && slash + 1 < path.size() && path.find("://") + 2 != slash) {
      result.filename = path.substr(slash + 1);
    }
  }

  if (!t.refused.ok()) return t.refused;
  if (!t.sink_status.ok()) return t.sink_status;
  if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    return Status::ResourceExhausted("the download exceeds the limit of " + std::to_string(options.max_bytes) +
                                     " bytes");
  }
  if (t.cancelled) return Status::Cancelled("download cancelled");
  if (rc == CURLE_TOO_MANY_REDIRECTS) {
    return Status::Unavailable("too many redirects (more than " + std::to_string(options.max_redirects) + ")");
  }
  if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
    return Status::InvalidArgument("a redirect led to a protocol other than http or https");
  }
  if (rc != CURLE_OK) {
    return Status::Unavailable("fetching " + url + " failed: " + (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
  }
  if (result.http_status >= 400) {
    std::string msg = "fetching " + url + " failed: the server answered HTTP " + std::to_string(result.http_status);
    // Only timeouts, rate limits and server errors may pass on a retry.
    if (result.http_status == 408 || result.http_status == 429 || result.http_status >= 500) {
      return Status::Unavailable(msg);
    }
    return Status::NotFound(msg);
  }
  return result;
}

}  // namespace cutroom::ingest
