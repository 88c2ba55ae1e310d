#include "storage/s3_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "core/hash.h"

namespace cutroom::storage {
namespace {

struct EasyCleanup {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using EasyHandle = std::unique_ptr<CURL, EasyCleanup>;
using HeaderList = std::unique_ptr<curl_slist, SlistFree>;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Reply {
  S3Response* response;
  size_t limit;
  bool overflow = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* out) {
  auto* r = static_cast<Reply*>(out);
  if (r->response->body.size() + size * n > r->limit) {
    r->overflow = true;
    return 0;
  }
  r->response->body.append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* out) {
  auto* r = static_cast<Reply*>(out);
  std::string_view line(data, size * n);
  // A new status line (after "100 Continue" or a redirect) starts afresh.
  if (line.rfind("HTTP/", 0) == 0) {
    r->response->headers.clear();
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name = Lower(std::string(line.substr(0, colon)));
  std::string value(line.substr(colon + 1));
  value.erase(0, value.find_first_not_of(" \t"));
  value.erase(value.find_last_not_of(" \t\r\n") + 1);
  r->response->headers[name] = value;
  return size * n;
}

bool Retryable(long status) { return status == 429 || status == 500 || status == 502 || status == 503 || status == 504; }

std::string XmlUnescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool done = false;
    for (const auto& [entity, c] : kEntities) {
      if (s.substr(i, entity.size()) == entity) {
        out.push_back(c);
        i += entity.size() - 1;
        done = true;
        break;
      }
    }
    if (!done) out.push_back('&');
  }
  return out;
}

}  // namespace

struct S3Client::Pool {
  std::mutex mu;
  std::vector<EasyHandle> idle;

  EasyHandle Take() {
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        EasyHandle h = std::move(idle.back());
        idle.pop_back();
        curl_easy_reset(h.get());  // keeps the connection cache
        return h;
      }
    }
    return EasyHandle(curl_easy_init());
  }
  void Give(EasyHandle h) {
    std::lock_guard lock(mu);
    if (idle.size() < 16) idle.push_back(std::move(h));
  }
};

std::string S3Response::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

Result<std::unique_ptr<S3Client>> S3Client::Create(S3ClientOptions options, Env* env) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::string scheme;
  std::string rest;
  for (std::string s : {"http", "https"}) {
    if (options.endpoint.rfind(s + "://", 0) == 0) {
      scheme = s;
      rest = options.endpoint.substr(s.size() + 3);
    }
  }
  if (scheme.empty()) {
    return Status::InvalidArgument("S3 endpoint '" + options.endpoint + "' must start with http:// or https://");
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find_first_of("/?#@ ") != std::string::npos) {
    return Status::InvalidArgument("S3 endpoint '" + options.endpoint +
                                   "' must be scheme://host[:port] with no path, query or user");
  }
  if (options.bucket.empty()) return Status::InvalidArgument("S3 bucket name is empty");
  return std::unique_ptr<S3Client>(new S3Client(std::move(options), env, scheme, rest));
}

S3Client::S3Client(S3ClientOptions options, Env* env, std::string scheme, std::string authority)
    : options_(std::move(options)),
      env_(env),
      scheme_(std::move(scheme)),
      authority_(std::move(authority)),
      pool_(std::make_unique<Pool>()) {}

S3Client::~S3Client() = default;

std::string S3Client::Where() const {
  return "bucket '" + options_.bucket + "' at " + scheme_ + "://" + authority_;
}

Result<S3Response> S3Client::Send(const S3Request& request) {
  int attempts = std::max(1, options_.max_attempts);
  int64_t backoff_ms = options_.first_backoff_ms;
  Result<S3Response> last = Status::Internal("no attempt made");
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    last = SendOnce(request);
    bool retry = !last.ok() ? last.status().code() == StatusCode::kUnavailable : Retryable(last->status);
    if (!retry || attempt == attempts) break;
    env_->SleepForMicros(backoff_ms * 1000);
    backoff_ms *= 2;
  }
  return last;
}

Result<S3Response> S3Client::SendOnce(const S3Request& request) {
  requests_.fetch_add(1);
  const bool virtual_host = !options_.path_style;
  std::string host = virtual_host ? options_.bucket + "." + authority_ : authority_;
  std::string path = virtual_host ? "/" : "/" + options_.bucket;
  if (!request.key.empty()) path += (virtual_host ? "" : "/") + S3UriEncode(request.key, true);
  std::string query = S3CanonicalQuery(request.query);
  std::string url = scheme_ + "://" + host + path + (query.empty() ? "" : "?" + query);

  S3SigningInput sign;
  sign.method = request.method;
  sign.canonical_uri = path;
  sign.canonical_query = query;
  sign.payload_sha256 = Sha256Hex(request.body);
  sign.amz_date = S3AmzDate(env_->NowMs());
  sign.region = options_.region;
  sign.headers = request.headers;
  sign.headers.emplace_back("host", host);
  sign.headers.emplace_back("x-amz-date", sign.amz_date);
  sign.headers.emplace_back("x-amz-content-sha256", sign.payload_sha256);
  if (!options_.credentials.session_token.empty()) {
    sign.headers.emplace_back("x-amz-security-token", options_.credentials.session_token);
  }
  std::string authorization = S3Authorization(sign, options_.credentials);

  curl_slist* raw_headers = nullptr;
  for (const auto& [name, value] : sign.headers) raw_headers = curl_slist_append(raw_headers, (name + ": " + value).c_str());
  raw_headers = curl_slist_append(raw_headers, ("Authorization: " + authorization).c_str());
  // Bodies are in memory and signed: waiting for "100 Continue" only adds
  // a round trip per part.
  raw_headers = curl_slist_append(raw_headers, "Expect:");
  // Without this, curl labels a PUT body form-encoded.
  bool has_type = std::any_of(request.headers.begin(), request.headers.end(),
                              [](const auto& h) { return Lower(h.first) == "content-type"; });
  if (!has_type) raw_headers = curl_slist_append(raw_headers, "Content-Type:");
  HeaderList headers(raw_headers);

  EasyHandle handle = pool_->Take();
  if (!handle) return Status::ResourceExhausted("cannot create a curl handle");
  CURL* c = handle.get();
  S3Response response;
  Reply reply{&response, request.max_reply_bytes};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_s);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &reply);
  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "PUT" || request.method == "POST") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data() ? request.body.data() : "");
    }
  }
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  pool_->Give(std::move(handle));
  std::string what = "S3 " + request.method + " " + (request.key.empty() ? "(bucket)" : request.key) + " on " + Where();
  if (reply.overflow) return Status::ResourceExhausted(what + ": the reply is larger than expected");
  if (rc != CURLE_OK) return Status::Unavailable(what + ": " + curl_easy_strerror(rc));
  return response;
}

Status S3Client::ErrorOf(const S3Request& request, const S3Response& response) const {
  std::string code = XmlText(response.body, "Code");
  std::string message = XmlText(response.body, "Message");
  if (code.empty()) {
    // HEAD replies carry no body.
    code = response.status == 404 ? "NotFound" : response.status == 403 ? "Forbidden" : "HTTP " + std::to_string(response.status);
  }
  std::string text = "S3 " + request.method + " " + (request.key.empty() ? "(bucket)" : request.key) + " on " + Where() +
                     ": " + std::to_string(response.status) + " " + code + (message.empty() ? "" : " (" + message + ")");
  long s = response.status;
  if (s == 404) return Status::NotFound(text);
  if (s == 401 || s == 403) return Status::PermissionDenied(text);
  if (Retryable(s) || s >= 500) return Status::Unavailable(text);
  return Status::FailedPrecondition(text);
}

std::string XmlText(std::string_view xml, std::string_view tag, size_t* from) {
  std::string open = "<" + std::string(tag) + ">";
  std::string close = "</" + std::string(tag) + ">";
  size_t start = xml.find(open, from ? *from : 0);
  if (start == std::string_view::npos) return "";
  start += open.size();
  size_t end = xml.find(close, start);
  if (end == std::string_view::npos) return "";
  if (from) *from = end + close.size();
  return XmlUnescape(xml.substr(start, end - start));
}

std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  std::string open = "<" + std::string(tag) + ">";
  std::string close = "</" + std::string(tag) + ">";
  size_t pos = 0;
  while (true) {
    size_t start = xml.find(open, pos);
    if (start == std::string_view::npos) break;
    start += open.size();
    size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(start, end - start));
    pos = end + close.size();
  }
  return out;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace cutroom::storage
