#include "ai/videodb_client.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "ai/curl_util.h"
#include "ai/openai_client.h"

namespace cutroom::ai {
namespace {

constexpr int64_t kMaxPollWaitMs = 10'000;

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "scheme://host:port" of a URL, lower-cased, with the default port made
// explicit; "" when it cannot be parsed.
std::string Origin(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "";
  std::string scheme = Lower(url.substr(0, scheme_end));
  size_t host_start = scheme_end + 3;
  size_t host_end = url.find_first_of("/?#", host_start);
  std::string authority = Lower(url.substr(host_start, host_end == std::string::npos ? std::string::npos
                                                                                    : host_end - host_start));
  if (authority.find('@') != std::string::npos) return "";
  bool has_port = authority.find(':', authority.rfind(']') == std::string::npos ? 0 : authority.rfind(']')) !=
                  std::string::npos;
  if (!has_port) authority += scheme == "https" ? ":443" : ":80";
  return scheme + "://" + authority;
}

// The message of an error answer: the envelope's "message" (SDKs read that
// field), else "error", else a quoted snippet.
std::string ServiceMessage(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    for (const char* key : {"message", "error", "detail"}) {
      if (j.contains(key) && j[key].is_string() && !j[key].get<std::string>().empty()) return j[key];
    }
  }
  return body.empty() ? "(no body)" : QuotedSnippet(body, 200);
}

bool SpeaksOfQuota(const std::string& message) {
  std::string m = Lower(message);
  for (const char* word : {"quota", "credit", "limit exceeded", "usage limit", "insufficient balance",
                           "out of balance", "payment"}) {
    if (m.find(word) != std::string::npos) return true;
  }
  return false;
}

bool IsProcessing(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("status") || !j["status"].is_string()) return false;
  std::string s = j["status"];
  return s == "processing" || s == "in progress";
}

// A number that may arrive as a JSON number or a numeric string (the Node
// SDK types transcript times as strings).
std::optional<double> NumberOf(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return std::nullopt;
  const auto& v = j[key];
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0' && std::isfinite(d)) return d;
  }
  return std::nullopt;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789ABCDEF";
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string Getenv(const std::string& name) {
  if (name.empty()) return "";
  const char* v = std::getenv(name.c_str());
  return v ? Trimmed(v) : "";
}

}  // namespace

struct VideoDbClient::Reply {
  long http_status = 0;
  std::string body;
};

VideoDbClient::VideoDbClient(VideoDbOptions options) : options_(std::move(options)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
  options_.max_attempts = std::max(1, options_.max_attempts);
  options_.poll_ms = std::max<int64_t>(1, options_.poll_ms);
}

Env* VideoDbClient::env() const { return options_.env ? options_.env : Env::Default(); }

std::string VideoDbClient::NotConfiguredMessage(const Config& config) {
  return "videodb_not_configured: VideoDB is not configured: put the API key in the environment variable " +
         config.GetString("videodb.api_key_env") +
         " (videodb.api_key_env names the variable; videodb.base_url and videodb.collection say where)";
}

bool VideoDbClient::Configured(const Config& config) {
  return !config.GetString("videodb.base_url").empty() && !Getenv(config.GetString("videodb.api_key_env")).empty();
}

Result<VideoDbClient> VideoDbClient::FromConfig(const Config& config) {
  if (!Configured(config)) return Status::FailedPrecondition(NotConfiguredMessage(config));
  VideoDbOptions o;
  o.base_url = config.GetString("videodb.base_url");
  o.api_key_env = config.GetString("videodb.api_key_env");
  o.api_key = Getenv(o.api_key_env);
  o.collection = config.GetString("videodb.collection");
  if (o.collection.empty()) o.collection = "default";
  o.timeout_s = std::max<int64_t>(1, config.GetInt("videodb.timeout_s"));
  o.max_attempts = static_cast<int>(std::clamp<int64_t>(config.GetInt("videodb.max_attempts"), 1, 20));
  o.poll_ms = std::max<int64_t>(1, config.GetInt("videodb.poll_ms"));
  o.wait_s = std::max<int64_t>(1, config.GetInt("videodb.wait_s"));
  return VideoDbClient(o);
}

Result<VideoDbClient::Reply> VideoDbClient::Send(const std::string& method, const std::string& url,
                                                 const nlohmann::json* body, const std::string* file_path,
                                                 const std::string& file_name, bool with_key,
                                                 const std::string& what) const {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  Status last;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    std::unique_ptr<CURL, EasyCleanup> curl(curl_easy_init());
    if (!curl) return Status::Internal("curl_easy_init failed");
    CURL* c = curl.get();
    Reply reply;
    long retry_after = -1;
    char errbuf[CURL_ERROR_SIZE] = {0};
    std::unique_ptr<curl_slist, SlistFree> headers;
    auto add_header = [&headers](const std::string& h) {
      headers.reset(curl_slist_append(headers.release(), h.c_str()));
    };
    if (with_key) add_header("x-access-token: " + options_.api_key);
    add_header("x-videodb-client: cutroom");
    add_header("Accept: application/json");
    add_header("Expect:");
    std::unique_ptr<curl_mime, MimeFree> mime;
    std::string json_body;
    if (file_path) {
      mime.reset(curl_mime_init(c));
      curl_mimepart* part = curl_mime_addpart(mime.get());
      curl_mime_name(part, "file");
      if (curl_mime_filedata(part, file_path->c_str()) != CURLE_OK) {
        return Status::IOError("cannot read " + *file_path + " to upload it to VideoDB");
      }
      curl_mime_filename(part, file_name.c_str());
      curl_mime_type(part, "application/octet-stream");
      curl_easy_setopt(c, CURLOPT_MIMEPOST, mime.get());
    } else if (body) {
      json_body = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      add_header("Content-Type: application/json");
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json_body.size()));
    }
    if (method == "DELETE") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    if (method == "GET") curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, std::min<long>(10, options_.timeout_s));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, file_path ? options_.timeout_s * 10 : options_.timeout_s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ReadRetryAfter);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &retry_after);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.http_status);

    // Where the request went, without its query (a signed upload URL's
    // query is a credential).
    std::string where = method + " " + url.substr(0, url.find('?'));
    if (rc != CURLE_OK) {
      last = Status::Unavailable("videodb_unavailable: " + what + " failed: " + where + ": " +
                                 (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
    } else if (reply.http_status == 401) {
      return Status::Unauthenticated("videodb_unauthorized: VideoDB refused the API key from " +
                                     options_.api_key_env + " (HTTP 401) while " + what + ": " +
                                     ServiceMessage(reply.body));
    } else if (reply.http_status == 402 ||
               (reply.http_status >= 400 && reply.http_status < 500 && SpeaksOfQuota(ServiceMessage(reply.body)))) {
      return Status::ResourceExhausted("videodb_quota: VideoDB refused " + what + " for the account's quota (HTTP " +
                                       std::to_string(reply.http_status) + "): " + ServiceMessage(reply.body));
    } else if (reply.http_status == 429 || reply.http_status >= 500) {
      last = Status::Unavailable("videodb_unavailable: " + what + " failed: " + where + " answered HTTP " +
                                 std::to_string(reply.http_status) + ": " + ServiceMessage(reply.body));
    } else {
      return reply;
    }
    if (attempt == options_.max_attempts) break;
    int64_t wait_ms = retry_after >= 0 ? retry_after * 1000 : options_.poll_ms << std::min(attempt - 1, 20);
    wait_ms = std::min<int64_t>(wait_ms, 60'000);
    spdlog::info("{} (attempt {} of {}); retrying in {} ms", last.message(), attempt, options_.max_attempts, wait_ms);
    env()->SleepForMicros(wait_ms * 1000);
  }
  return Status(last.code(), last.message() + " (after " + std::to_string(options_.max_attempts) + " tries)");
}

Result<nlohmann::json> VideoDbClient::Unwrap(const nlohmann::json& envelope, const std::string& what) const {
  const nlohmann::json* e = &envelope;
  // A finished async task may wrap the envelope in "response".
  if (e->contains("response") && (*e)["response"].is_object()) e = &(*e)["response"];
  bool success = e->contains("success") && (*e)["success"].is_boolean() && (*e)["success"].get<bool>();
  if (!success) {
    std::string message = e->contains("message") && (*e)["message"].is_string() ? (*e)["message"].get<std::string>()
                                                                                 : "no reason given";
    if (SpeaksOfQuota(message)) {
      return Status::ResourceExhausted("videodb_quota: VideoDB refused " + what + " for the account's quota: " +
                                       message);
    }
    return Status::FailedPrecondition("videodb_failed: VideoDB could not finish " + what + ": " + message);
  }
  return e->contains("data") ? (*e)["data"] : nlohmann::json(nullptr);
}

Result<nlohmann::json> VideoDbClient::Poll(const std::string& output_url, const std::string& what) const {
  if (output_url.empty() || Origin(output_url).empty()) {
    return Status::Corruption("videodb_bad_reply: VideoDB answered 'processing' for " + what +
                              " without a usable output_url");
  }
  // The key goes only where the API itself lives.
  const bool with_key = Origin(output_url) == Origin(options_.base_url);
  const int64_t deadline = env()->MonotonicMicros() + options_.wait_s * 1'000'000;
  int64_t wait_ms = options_.poll_ms;
  std::string last_state = "processing";
  while (true) {
    int64_t now = env()->MonotonicMicros();
    if (now >= deadline) {
      return Status::Unavailable("videodb_timeout: VideoDB did not finish " + what + " within " +
                                 std::to_string(options_.wait_s) + " s (videodb.wait_s); last state: " + last_state);
    }
    env()->SleepForMicros(std::min<int64_t>(wait_ms * 1000, deadline - now));
    wait_ms = std::min<int64_t>(wait_ms * 2, std::max(kMaxPollWaitMs, options_.poll_ms));
    CUTROOM_ASSIGN_OR_RETURN(Reply reply, Send("GET", output_url, nullptr, nullptr, "", with_key, what));
    auto j = nlohmann::json::parse(reply.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return Status::Corruption("videodb_bad_reply: polling " + what + " answered with something that is not a "
                                "JSON object (HTTP " + std::to_string(reply.http_status) + "): " +
                                QuotedSnippet(reply.body, 200));
    }
    if (IsProcessing(j)) {
      last_state = j["status"].get<std::string>();
      if (j.contains("data") && j["data"].is_object()) {
        if (auto pct = NumberOf(j["data"], "percentage")) {
          last_state += " " + std::to_string(static_cast<int>(*pct)) + "%";
        }
      }
      continue;
    }
    if (reply.http_status >= 400) {
      return Status::InvalidArgument("videodb_refused: polling " + what + " answered HTTP " +
                                     std::to_string(reply.http_status) + ": " + ServiceMessage(reply.body));
    }
    return Unwrap(j, what);
  }
}

Result<nlohmann::json> VideoDbClient::Call(const std::string& method, const std::string& path, const std::string& query,
                                           const nlohmann::json* body, const std::string& what) const {
  std::string url = options_.base_url + "/" + path + (query.empty() ? "" : "?" + query);
  CUTROOM_ASSIGN_OR_RETURN(Reply reply, Send(method, url, body, nullptr, "", true, what));
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (reply.http_status >= 400) {
    return Status::InvalidArgument("videodb_refused: VideoDB refused " + what + " (HTTP " +
                                   std::to_string(reply.http_status) + "): " + ServiceMessage(reply.body));
  }
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption("videodb_bad_reply: " + what + " answered with something that is not a JSON object: " +
                              QuotedSnippet(reply.body, 200));
  }
  // request_type "async" only happens with a callback_url, which cutroom
  // never sends; a processing answer is polled.
  if (IsProcessing(j)) {
    std::string output_url;
    if (j.contains("data") && j["data"].is_object() && j["data"].contains("output_url") &&
        j["data"]["output_url"].is_string()) {
      output_url = j["data"]["output_url"];
    }
    return Poll(output_url, what);
  }
  if (j.contains("success") && j["success"].is_boolean() && !j["success"].get<bool>()) {
    std::string message = j.contains("message") && j["message"].is_string() ? j["message"].get<std::string>()
                                                                           : "no reason given";
    if (SpeaksOfQuota(message)) {
      return Status::ResourceExhausted("videodb_quota: VideoDB refused " + what + " for the account's quota: " +
                                       message);
    }
    return Status::InvalidArgument("videodb_refused: VideoDB refused " + what + ": " + message);
  }
  return Unwrap(j, what);
}

Result<VideoDbVideo> VideoDbClient::Register(const std::string& url, const std::string& name) const {
  nlohmann::json body = {{"url", url}, {"name", name}, {"media_type", "video"}};
  CUTROOM_ASSIGN_OR_RETURN(auto data, Call("POST", "collection/" + Escape(options_.collection) + "/upload", "", &body,
                                           "registering the upload of " + name));
  if (!data.is_object() || !data.contains("id") || !data["id"].is_string() || data["id"].get<std::string>().empty()) {
    return Status::Corruption("videodb_bad_reply: VideoDB registered " + name + " without a video id: " +
                              QuotedSnippet(data.dump(), 200));
  }
  VideoDbVideo v;
  v.id = data["id"];
  v.length_s = NumberOf(data, "length").value_or(0);
  v.raw = data;
  return v;
}

Result<VideoDbVideo> VideoDbClient::UploadUrl(const std::string& url, const std::string& name) const {
  return Register(url, name);
}

Result<VideoDbVideo> VideoDbClient::UploadFile(const std::string& path, const std::string& name) const {
  CUTROOM_ASSIGN_OR_RETURN(auto data, Call("GET", "collection/" + Escape(options_.collection) + "/upload_url",
                                           "name=" + Escape(name), nullptr, "asking for an upload URL"));
  if (!data.is_object() || !data.contains("upload_url") || !data["upload_url"].is_string() ||
      Origin(data["upload_url"].get<std::string>()).empty()) {
    return Status::Corruption("videodb_bad_reply: VideoDB gave no usable upload_url: " +
                              QuotedSnippet(data.dump(), 200));
  }
  std::string upload_url = data["upload_url"];
  // A signed URL: it is the credential, so the API key is not sent along.
  CUTROOM_ASSIGN_OR_RETURN(Reply reply, Send("POST", upload_url, nullptr, &path, name, false, "uploading " + name));
  if (reply.http_status < 200 || reply.http_status >= 300) {
    return Status::Unavailable("videodb_unavailable: uploading " + name + " to VideoDB's upload URL failed (HTTP " +
                               std::to_string(reply.http_status) + "): " + ServiceMessage(reply.body));
  }
  return Register(upload_url, name);
}

Status VideoDbClient::IndexSpokenWords(const std::string& video_id, const std::string& language_code) const {
  nlohmann::json body = {{"index_type", "spoken_word"}, {"segmentation_type", "sentence"}, {"force", false}};
  if (!language_code.empty()) body["language_code"] = language_code;
  auto r = Call("POST", "video/" + Escape(video_id) + "/index", "", &body, "indexing the spoken words of " + video_id);
  // Indexing twice is refused ("already exists"); the index is there.
  if (!r.ok() && r.status().IsInvalidArgument() &&
      Lower(r.status().message()).find("already") != std::string::npos) {
    return Status::Ok();
  }
  return r.status();
}

Result<std::vector<VideoDbWord>> VideoDbClient::GetTranscript(const std::string& video_id, std::string* text) const {
  CUTROOM_ASSIGN_OR_RETURN(auto data, Call("GET", "video/" + Escape(video_id) + "/transcription",
                                           "segmenter=word&length=1&force=false", nullptr,
                                           "fetching the transcript of " + video_id));
  if (!data.is_object()) {
    return Status::Corruption("videodb_bad_reply: the transcript of " + video_id + " is not an object");
  }
  // The SDKs read word_timestamps; VideoDB's OpenAPI document calls it transcript.
  const char* key = data.contains("word_timestamps") ? "word_timestamps" : "transcript";
  std::vector<VideoDbWord> words;
  if (data.contains(key) && !data[key].is_null()) {
    if (!data[key].is_array()) {
      return Status::Corruption("videodb_bad_reply: the transcript's " + std::string(key) + " is not a list");
    }
    for (const auto& w : data[key]) {
      auto start = NumberOf(w, "start"), end = NumberOf(w, "end");
      const char* field = w.is_object() && w.contains("text") ? "text" : "word";
      if (!start || !end || !w.contains(field) || !w[field].is_string() || *end < *start) {
        return Status::Corruption("videodb_bad_reply: a transcript word of " + video_id + " is malformed: " +
                                  QuotedSnippet(w.dump(), 200));
      }
      std::string t = Trimmed(w[field].get<std::string>());
      // The word segmenter also yields silence markers ("-"); they are no words.
      if (t.empty() || t == "-") continue;
      words.push_back({t, *start, *end});
    }
  }
  if (text) *text = data.contains("text") && data["text"].is_string() ? data["text"].get<std::string>() : "";
  return words;
}

Result<nlohmann::json> VideoDbClient::ExtractScenes(const std::string& video_id, const std::string& extraction_type,
                                                    const nlohmann::json& extraction_config) const {
  nlohmann::json body = {{"extraction_type", extraction_type},
                         {"extraction_config", extraction_config},
                         {"force", false}};
  CUTROOM_ASSIGN_OR_RETURN(auto data, Call("POST", "video/" + Escape(video_id) + "/scenes", "", &body,
                                           "extracting the scenes of " + video_id));
  if (!data.is_object() || !data.contains("scene_collection") || !data["scene_collection"].is_object()) {
    return Status::Corruption("videodb_bad_reply: the scene extraction of " + video_id +
                              " has no scene_collection: " + QuotedSnippet(data.dump(), 200));
  }
  return data["scene_collection"];
}

Result<std::string> VideoDbClient::IndexScenes(const std::string& video_id, const std::string& extraction_type,
                                               const nlohmann::json& extraction_config, const std::string& prompt,
                                               const std::string& name) const {
  nlohmann::json body = {{"extraction_type", extraction_type}, {"extraction_config", extraction_config}};
  if (!prompt.empty()) body["prompt"] = prompt;
  if (!name.empty()) body["name"] = name;
  CUTROOM_ASSIGN_OR_RETURN(auto data, Call("POST", "video/" + Escape(video_id) + "/index/scene", "", &body,
                                           "indexing the scenes of " + video_id));
  if (!data.is_object() || !data.contains("scene_index_id") || !data["scene_index_id"].is_string()) {
    return Status::Corruption("videodb_bad_reply: the scene index of " + video_id + " has no scene_index_id: " +
                              QuotedSnippet(data.dump(), 200));
  }
  return data["scene_index_id"].get<std::string>();
}

Result<nlohmann::json> VideoDbClient::GetSceneIndex(const std::string& video_id,
                                                    const std::string& scene_index_id) const {
  CUTROOM_ASSIGN_OR_RETURN(auto data, Call("GET", "video/" + Escape(video_id) + "/index/scene/" +
                                                      Escape(scene_index_id),
                                           "collection_id=" + Escape(options_.collection), nullptr,
                                           "reading scene index " + scene_index_id));
  if (!data.is_object() || !data.contains("scene_index_records") || !data["scene_index_records"].is_array()) {
    return Status::Corruption("videodb_bad_reply: scene index " + scene_index_id + " has no scene_index_records");
  }
  return data["scene_index_records"];
}

Result<std::vector<VideoDbHit>> VideoDbClient::Search(const std::string& video_id, const std::string& query,
                                                      const std::string& search_type, const std::string& index_type,
                                                      int result_threshold, const std::string& scene_index_id) const {
  nlohmann::json body = {{"query", query},
                         {"search_type", search_type},
                         {"index_type", index_type},
                         {"result_threshold", result_threshold}};
  // Semantic search filters by score (the SDKs default to 0.2); keyword
  // matches carry no meaningful score threshold.
  if (search_type == "semantic") body["score_threshold"] = 0.2;
  if (!scene_index_id.empty()) body["scene_index_id"] = scene_index_id;
  CUTROOM_ASSIGN_OR_RETURN(auto data, Call("POST", "video/" + Escape(video_id) + "/search", "", &body,
                                           "searching " + video_id));
  std::vector<VideoDbHit> hits;
  if (!data.is_object() || !data.contains("results") || data["results"].is_null()) return hits;
  if (!data["results"].is_array()) return Status::Corruption("videodb_bad_reply: search results are not a list");
  for (const auto& r : data["results"]) {
    std::string vid = video_id;
    if (r.is_object() && r.contains("video_id") && r["video_id"].is_string()) vid = r["video_id"];
    if (!r.is_object() || !r.contains("docs") || !r["docs"].is_array()) continue;
    for (const auto& d : r["docs"]) {
      auto start = NumberOf(d, "start"), end = NumberOf(d, "end");
      if (!start || !end) return Status::Corruption("videodb_bad_reply: a search hit has no start or end");
      VideoDbHit h;
      h.video_id = vid;
      h.start_s = *start;
      h.end_s = *end;
      h.text = d.contains("text") && d["text"].is_string() ? d["text"].get<std::string>() : "";
      h.score = NumberOf(d, "score").value_or(0);
      hits.push_back(std::move(h));
    }
  }
  return hits;
}

Status VideoDbClient::DeleteVideo(const std::string& video_id) const {
  return Call("DELETE", "video/" + Escape(video_id), "", nullptr, "deleting " + video_id).status();
}

std::string VideoDbErrorCode(const Status& status) {
  if (status.ok()) return "";
  const std::string& m = status.message();
  // The code opens the message, or follows a context prefix ("...: ").
  for (size_t at = m.find("videodb_"); at != std::string::npos; at = m.find("videodb_", at + 1)) {
    if (at != 0 && (at < 2 || m.compare(at - 2, 2, ": ") != 0)) continue;
    size_t end = at + 8;
    while (end < m.size() && (std::islower(static_cast<unsigned char>(m[end])) || m[end] == '_')) ++end;
    if (end < m.size() && m[end] == ':') return m.substr(at, end - at);
  }
  return "";
}

int VideoDbHttpStatus(const std::string& code) {
  if (code == "videodb_not_configured") return 422;
  if (code == "videodb_quota") return 402;
  if (code == "videodb_not_indexed") return 409;
  if (code == "videodb_unavailable") return 503;
  if (code == "videodb_timeout") return 504;
  return 502;
}

}  // namespace cutroom::ai
