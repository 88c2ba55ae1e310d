#include "analysis/hosted/videodb_media.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <map>
#include <memory>
#include <mutex>

#include "db/tables.h"
#include "ingest/address_policy.h"

namespace cutroom::analysis {
namespace {

// The host of an http(s) URL, without brackets or port; "" when absent.
std::string HostOf(const std::string& url) {
  auto start = url.find("://");
  if (start == std::string::npos) return "";
  start += 3;
  auto end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  if (!authority.empty() && authority[0] == '[') return authority.substr(1, authority.find(']') - 1);
  return authority.substr(0, authority.find(':'));
}

// Whether VideoDB could fetch url: http(s), and not a literal private,
// loopback or link-local address or "localhost" (names that resolve to
// private addresses cannot be told apart here; VideoDB then fails the
// upload with its reason).
bool LooksPublic(const std::string& url) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) return false;
  std::string host = HostOf(url);
  if (host.empty() || host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local")) return false;
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return ingest::AddressPolicy::Classify(reinterpret_cast<const sockaddr*>(&v4)).empty();
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    return ingest::AddressPolicy::Classify(reinterpret_cast<const sockaddr*>(&v6)).empty();
  }
  return true;
}

std::shared_ptr<std::mutex> UploadLock(const std::string& video_id) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<std::mutex>> locks;
  std::lock_guard lock(mu);
  for (auto it = locks.begin(); it != locks.end();) it = it->second.expired() ? locks.erase(it) : std::next(it);
  auto& slot = locks[video_id];
  auto m = slot.lock();
  if (!m) {
    m = std::make_shared<std::mutex>();
    slot = m;
  }
  return m;
}

}  // namespace

std::optional<nlohmann::json> VideoDbCopyOf(const db::MediaRow& media, const ai::VideoDbOptions& options) {
  if (!media.metadata.is_object() || !media.metadata.contains("videodb")) return std::nullopt;
  const auto& v = media.metadata["videodb"];
  if (!v.is_object() || !v.contains("video_id") || !v["video_id"].is_string()) return std::nullopt;
  if (v.value("base_url", "") != options.base_url || v.value("collection", "") != options.collection) {
    return std::nullopt;
  }
  return v;
}

Status EditVideoDbMetadata(const jobs::JobServices& s, const std::string& video_id,
                           const std::function<void(nlohmann::json& videodb)>& edit) {
  return s.db->Transaction([&](db::DbSession& tx) -> Status {
    db::Repositories repos(tx, s.env, s.ids);
    CUTROOM_ASSIGN_OR_RETURN(auto media, repos.media.Get(video_id));
    if (!media.metadata.is_object()) media.metadata = nlohmann::json::object();
    nlohmann::json& v = media.metadata["videodb"];
    if (!v.is_object()) v = nlohmann::json::object();
    edit(v);
    return repos.media.Update(media).status();
  });
}

Result<std::string> EnsureVideoDbUpload(jobs::JobContext& ctx, const ai::VideoDbClient& client,
                                        const std::string& video_id) {
  const jobs::JobServices& s = ctx.services();
  auto lock = UploadLock(video_id);
  std::lock_guard guard(*lock);
  db::Repositories repos(*s.db, s.env, s.ids);
  CUTROOM_ASSIGN_OR_RETURN(auto media, repos.media.Get(video_id));
  if (media.status != "ready") return Status::FailedPrecondition("video " + video_id + " is " + media.status);
  if (auto copy = VideoDbCopyOf(media, client.options())) return (*copy)["video_id"].get<std::string>();

  std::string name = media.original_filename.value_or(video_id);
  if (auto dot = name.rfind('.'); dot != std::string::npos && dot > 0) name = name.substr(0, dot);
  const bool by_url = media.source_url && (!media.storage_key || LooksPublic(*media.source_url));
  int64_t start = s.env->MonotonicMicros();
  Result<ai::VideoDbVideo> uploaded = Status::Internal("not uploaded");
  if (by_url) {
    ctx.Log("info", "VideoDB fetches " + video_id + " from its URL");
    uploaded = client.UploadUrl(*media.source_url, name);
  } else if (media.storage_key) {
    CUTROOM_ASSIGN_OR_RETURN(std::string path, s.blobs->LocalPath(*media.storage_key));
    ctx.Log("info", "uploading " + video_id + " to VideoDB",
            {{"size_bytes", media.size_bytes ? nlohmann::json(*media.size_bytes) : nullptr}});
    uploaded = client.UploadFile(path, name);
  } else {
    return Status::FailedPrecondition("video " + video_id + " has neither a stored file nor a URL to give VideoDB");
  }
  if (!uploaded.ok()) return uploaded.status().WithContext("uploading " + video_id + " to VideoDB");
  double secs = static_cast<double>(s.env->MonotonicMicros() - start) / 1e6;
  const ai::VideoDbVideo& v = *uploaded;
  CUTROOM_RETURN_IF_ERROR(EditVideoDbMetadata(s, video_id, [&](nlohmann::json& m) {
    m = {{"video_id", v.id},
         {"base_url", client.options().base_url},
         {"collection", client.options().collection},
         {"uploaded_via", by_url ? "url" : "file"},
         {"length_s", v.length_s},
         {"uploaded_at", FormatTimestamp(s.env->NowMs())}};
  }));
  ctx.Log("info", "VideoDB has " + video_id + " as " + v.id,
          {{"videodb_video_id", v.id}, {"via", by_url ? "url" : "file"}, {"seconds", secs}});
  return v.id;
}

Status DeleteVideoDbCopy(const Config& config, const db::MediaRow& media) {
  if (!config.GetBool("videodb.delete_remote")) return Status::Ok();
  if (!media.metadata.is_object() || !media.metadata.contains("videodb")) return Status::Ok();
  CUTROOM_ASSIGN_OR_RETURN(auto configured, ai::VideoDbClient::FromConfig(config));
  // The caller (a DELETE request) waits: one quick try, a second on failure.
  ai::VideoDbOptions o = configured.options();
  o.max_attempts = std::min(o.max_attempts, 2);
  o.timeout_s = std::min<long>(o.timeout_s, 15);
  o.poll_ms = std::min<int64_t>(o.poll_ms, 500);
  ai::VideoDbClient client(o);
  auto copy = VideoDbCopyOf(media, client.options());
  if (!copy) return Status::Ok();
  Status st = client.DeleteVideo((*copy)["video_id"].get<std::string>());
  // Already gone there is what was wanted.
  if (!st.ok() && st.message().find("HTTP 404") != std::string::npos) return Status::Ok();
  return st;
}

}  // namespace cutroom::analysis
