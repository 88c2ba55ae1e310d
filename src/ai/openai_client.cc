#include "ai/openai_client.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "ai/curl_util.h"
#include "core/metrics.h"

namespace cutroom::ai {
namespace {

std::string ServiceError(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"];
    if (e.is_string()) return e;
  }
  return QuotedSnippet(body);
}

}  // namespace

std::string QuotedSnippet(std::string_view text, size_t max_bytes) {
  bool cut = text.size() > max_bytes;
  std::string quoted = nlohmann::json(std::string(text.substr(0, max_bytes)))
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return cut ? quoted + "..." : quoted;
}

Result<OpenAiClient> OpenAiClient::FromConfig(const Config& config, const std::string& base_url_key) {
  OpenAiOptions o;
  o.base_url = config.GetString(base_url_key);
  if (o.base_url.empty()) {
    return Status::FailedPrecondition("no OpenAI-compatible service is configured (set " + base_url_key + ")");
  }
  while (!o.base_url.empty() && o.base_url.back() == '/') o.base_url.pop_back();
  std::string var = config.GetString("llm.api_key_env");
  // Keys pasted from files often carry a trailing newline.
  if (const char* key = std::getenv(var.c_str())) o.api_key = Trimmed(key);
  return OpenAiClient(o);
}

namespace {

// Requests to LLM and speech services by endpoint and outcome, for /metrics.
Result<nlohmann::json> Counted(const std::string& path, Result<nlohmann::json> result) {
  Metrics::Global().Add("cutroom_ai_requests_total",
                        {{"endpoint", path},
                         {"outcome", result.ok() ? "ok" : std::string(StatusCodeName(result.status().code()))}});
  return result;
}

}  // namespace

Result<nlohmann::json> OpenAiClient::PostMultipart(const std::string& path,
                                                   const std::vector<MultipartField>& fields) const {
  return Counted(path, Send(path, &fields, nullptr));
}

Result<nlohmann::json> OpenAiClient::PostJson(const std::string& path, const nlohmann::json& body) const {
  return Counted(path, Send(path, nullptr, &body));
}

Result<nlohmann::json> OpenAiClient::Send(const std::string& path, const std::vector<MultipartField>* fields,
                                          const nlohmann::json* body) const {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::string url = options_.base_url + path;
  Status last;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    std::unique_ptr<CURL, EasyCleanup> curl(curl_easy_init());
    if (!curl) return Status::Internal("curl_easy_init failed");
    CURL* c = curl.get();
    std::string response;
    long retry_after = -1;
    char errbuf[CURL_ERROR_SIZE] = {0};
    std::unique_ptr<curl_slist, SlistFree> headers;
    auto add_header = [&headers](const std::string& h) { headers.reset(curl_slist_append(headers.release(), h.c_str())); };
    if (!options_.api_key.empty()) add_header("Authorization: Bearer " + options_.api_key);
    std::unique_ptr<curl_mime, MimeFree> mime;
    std::string json_body;
    if (fields) {
      mime.reset(curl_mime_init(c));
      for (const auto& f : *fields) {
        curl_mimepart* part = curl_mime_addpart(mime.get());
        curl_mime_name(part, f.name.c_str());
        curl_mime_data(part, f.value.data(), f.value.size());
        if (!f.filename.empty()) curl_mime_filename(part, f.filename.c_str());
        if (!f.content_type.empty()) curl_mime_type(part, f.content_type.c_str());
      }
      curl_easy_setopt(c, CURLOPT_MIMEPOST, mime.get());
    } else {
      // Invalid UTF-8 in caller text (OCR, transcripts of odd files) becomes
      // U+FFFD instead of an exception.
      json_body = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      add_header("Content-Type: application/json");
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json_body.size()));
    }
    add_header("Accept: application/json");
    // curl would otherwise send "Expect: 100-continue" before large bodies
    // (images, audio) and stall a second on servers that never answer it.
    add_header("Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, options_.timeout_s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ReadRetryAfter);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &retry_after);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);

    curl_off_t pretransfer_us = 0;
    curl_easy_getinfo(c, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);

    bool retryable;
    if (rc == CURLE_OPERATION_TIMEDOUT && pretransfer_us > 0) {
      // The service took the request and did not finish answering in time.
      // Asking again would multiply a wait the caller already found too long
      // and add load to a service that is busy; a connect timeout (nothing
      // sent yet) falls through to the retried network errors below.
      return Status::IOError("no complete reply from " + url + " within " + std::to_string(options_.timeout_s) +
                             " s (timeout_s): " + (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
    }
    if (rc != CURLE_OK) {
      last = Status::Unavailable("request to " + url + " failed: " + (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
      retryable = true;
    } else if (status == 429 || status >= 500) {
      last = Status::Unavailable(url + " answered HTTP " + std::to_string(status) + ": " + ServiceError(response));
      retryable = true;
    } else if (status >= 400) {
      return Status::InvalidArgument(url + " refused the request (HTTP " + std::to_string(status) +
                                     "): " + ServiceError(response));
    } else {
      auto json = nlohmann::json::parse(response, nullptr, false);
      if (json.is_discarded() || !json.is_object()) {
        return Status::Corruption(url + " answered with something that is not a JSON object: " +
                                  QuotedSnippet(response, 200));
      }
      return json;
    }
    if (!retryable || attempt == options_.max_attempts) break;
    int64_t wait_ms = retry_after >= 0 ? retry_after * 1000 : options_.backoff_ms << (attempt - 1);
    wait_ms = std::min<int64_t>(wait_ms, 60'000);
    spdlog::info("{} (attempt {} of {}); retrying in {} ms", last.message(), attempt, options_.max_attempts, wait_ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
  }
  return last;
}

}  // namespace cutroom::ai
