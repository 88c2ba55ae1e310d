// The api_routes fuzz target (targets.h): request bodies through the real
// API router, in process (ApiServer::HandleForTesting, no sockets), over a
// SQLite database and blob store in a temporary folder (/dev/shm when there
// is one).
//
// The world: owner "alice" (whose key the requests carry) with a ready video
// that has a transcript, scenes, a clip candidate and a processing run, a
// second ready video, a pending one, a queued job and a tus upload; owner
// "mallory" with a video, a clip, a job and an upload of her own.
//
// Input: byte 0 picks the route among every POST, PUT and PATCH route of the
// OpenAPI document (sorted by path, then method: a new route is fuzzed
// without changes here). Byte 1 picks variants:
//   bits 0-1  which ids fill the path ({video_id}: 0 the processed video,
//             1 the second one, 2 the pending one, 3 mallory's; {job_id},
//             {upload_id}, {clip_id} likewise alice's, or mallory's for 3);
//   bits 2-5  {stage}: one of the pipeline's stages, "all", or an unknown one;
//   bit 6     the body is sent chunked (no Content-Length);
//   bit 7     the body starts with header lines up to an empty line, parsed
//             as the HTTP front parses them (overriding the route's
//             defaults: Content-Type, the tus headers, Authorization).
// The rest is the body, in which $VIDEO, $VIDEO2, $PENDING, $OTHER, $CLIP,
// $OTHERCLIP, $JOB and $UPLOAD become those real ids.
//
// No network: every string in a JSON body that UrlFetcher::ValidateUrl
// accepts and whose host is a name (which would need DNS) or an address the
// default policy lets through (a global one) is replaced by
// "http://127.0.0.1:1/fuzz", which the address policy refuses before any
// connection (400 url_not_allowed). So URL imports and references are
// fuzzed up to the policy check, never past it. No worker runs: queued jobs
// stay queued.
//
// Bounded: the world is rebuilt from scratch every kRebuildEvery inputs
// (queued jobs, uploads, media and blobs made by the inputs go with it;
// limits.max_queued_jobs also caps the jobs in between).
//
// CUTROOM_FUZZ_VERBOSE=1 prints every request and its answer.
//
// Asserted: no 5xx but 503 and 507 (and 501 stage_not_available, which is
// configuration: a stage whose engine is not built in); every status >= 400
// answers the JSON error shape {"error": {"code", "message", "details"}};
// a JSON 2xx body parses; mallory's id in the path never answers 2xx.
#include <curl/curl.h>
#include <netdb.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <strings.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/transcribe/transcript_store.h"
#include "api/auth.h"
#include "api/server.h"
#include "core/config.h"
#include "core/env.h"
#include "db/migrations.h"
#include "db/tables.h"
#include "fuzz/targets.h"
#include "http/body_parsers.h"
#include "http/request_head.h"
#include "ingest/address_policy.h"
#include "ingest/url_fetcher.h"
#include "jobs/events.h"
#include "jobs/job_queue.h"
#include "jobs/pipeline.h"
#include "storage/blob_store.h"

namespace cutroom::fuzz {
namespace {

constexpr int kRebuildEvery = 400;
constexpr const char* kRefusedUrl = "http://127.0.0.1:1/fuzz";

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "api_routes: %s\n", what.c_str());
  std::abort();
}

#define API_FUZZ_OK(expr)                                                          \
  do {                                                                             \
    auto _st = (expr);                                                             \
    if (!_st.ok()) Fail(std::string("setup: ") + #expr + ": " + _st.ToString()); \
  } while (0)

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) Fail(std::string("setup: ") + what + ": " + r.status().ToString());
  return std::move(r).value();
}

// Removes folders of earlier runs that died (a crash skips the destructor).
void RemoveStaleWorlds(const std::string& parent) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("cutroom-fuzz-api-", 0) != 0) continue;
    long pid = std::strtol(name.c_str() + 17, nullptr, 10);
    if (pid > 0 && pid != getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  }
}

std::string MakeWorldDir() {
  std::error_code ec;
  std::string parent = std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : std::filesystem::temp_directory_path().string();
  RemoveStaleWorlds(parent);
  std::string tmpl = parent + "/cutroom-fuzz-api-" + std::to_string(getpid()) + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) Fail("cannot make a temporary folder under " + parent);
  return tmpl;
}

struct Route {
  std::string method, pattern;
};

class World {
 public:
  World() : dir_(MakeWorldDir()), config_(Config::Defaults()) {
    API_FUZZ_OK(config_.Set("storage.data_dir", dir_));
    API_FUZZ_OK(config_.Set("limits.requests_per_minute", "0"));
    API_FUZZ_OK(config_.Set("limits.max_queued_jobs", "40"));
    API_FUZZ_OK(config_.Set("server.max_body_bytes", "65536"));
    env_ = Env::Default();
    db_ = Must(db::Database::Open(config_.GetString("database.url"), env_, {}), "open the database");
    API_FUZZ_OK(db::Migrate(*db_, env_).status());
    blobs_ = Must(storage::BlobStore::Open(config_.GetString("storage.blob_url"), env_), "open the blob store");
    events_ = std::make_unique<jobs::EventLog>(db_.get(), env_);
    queue_ = std::make_unique<jobs::JobQueue>(db_.get(), env_, &ids_, events_.get());
    server_ = std::make_unique<api::ApiServer>(api::ServerDeps{env_, &config_, db_.get(), blobs_.get(), &ids_, queue_.get(), {}});
    API_FUZZ_OK(server_->PrepareForTesting());
    api::KeyService keys(db_.get(), env_, &ids_);
    auto alice = Must(keys.CreateKey("alice", "fuzz"), "alice's key");
    auto mallory = Must(keys.CreateKey("mallory", "fuzz"), "mallory's key");
    alice_key_ = alice.key;
    mallory_key_ = mallory.key;
    const std::string a = alice.owner.owner_id, m = mallory.owner.owner_id;

    video_ = AddVideo(a, "ready");
    video2_ = AddVideo(a, "ready");
    pending_ = AddVideo(a, "pending");
    other_video_ = AddVideo(m, "ready");
    Process(video_);
    clip_ = AddClip(video_);
    other_clip_ = AddClip(other_video_);
    job_ = AddJob(a, video_);
    other_job_ = AddJob(m, other_video_);
    upload_ = CreateUpload(alice_key_);
    other_upload_ = CreateUpload(mallory_key_);

    // The routes that take a body, from the OpenAPI document.
    httplib::Request req;
    req.method = "GET";
    req.path = req.target = "/api/openapi.json";
    httplib::Response res;
    server_->HandleForTesting(req, res, nullptr);
    auto doc = nlohmann::json::parse(res.body, nullptr, false);
    if (res.status != 200 || !doc.is_object() || !doc["paths"].is_object()) Fail("no OpenAPI document: " + res.body);
    for (const auto& [pattern, ops] : doc["paths"].items()) {
      for (const char* m : {"patch", "post", "put"}) {
        if (!ops.contains(m)) continue;
        std::string upper = m;
        for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        routes_.push_back({upper, pattern});
      }
    }
    if (routes_.empty()) Fail("the OpenAPI document lists no POST, PUT or PATCH route");
    for (const auto& s : jobs::PipelineStages()) stages_.push_back(s.name);
    stages_.push_back("all");
    stages_.push_back("no-such-stage");
  }

  ~World() {
    server_.reset();
    queue_.reset();
    events_.reset();
    blobs_.reset();
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  int Run(const uint8_t* data, size_t size);

 private:
  std::string AddVideo(const std::string& owner, const std::string& status) {
    db::Repositories repos(*db_, env_, &ids_);
    db::MediaRow m;
    m.owner_id = owner;
    m.status = status;
    m.media_type = "video";
    m.original_filename = "talk.mp4";
    m.title = "A talk";
    m.mime_type = "video/mp4";
    m.container = "mov,mp4,m4a,3gp,3g2,mj2";
    m.duration_s = 60;
    m.width = 1280;
    m.height = 720;
    m.fps = 25;
    m.video_codec = "h264";
    m.audio_codec = "aac";
    m.size_bytes = 5;
    m.storage_key = "media/" + ids_.Next("vid") + "/source";
    API_FUZZ_OK(blobs_->Put(*m.storage_key, "bytes"));
    return Must(repos.media.Insert(m), "a media row").video_id;
  }

  std::string SucceededRun(const std::string& video_id, const std::string& kind) {
    db::Repositories repos(*db_, env_, &ids_);
    db::VideoProcessingRow p;
    p.video_id = video_id;
    p.kind = kind;
    p.status = "succeeded";
    return Must(repos.video_processing.Insert(p), "a processing run").processing_id;
  }

  // A transcript of twelve five-second sentences and a scene cut every 15 s.
  void Process(const std::string& video_id) {
    analysis::Transcript t;
    t.engine = "pocketsphinx";
    t.language = "en";
    const char* words[] = {"so", "um", "we", "shipped", "the", "pricing", "page", "and", "it", "worked"};
    for (int s = 0; s < 12; ++s) {
      analysis::TranscriptSegment seg;
      seg.start_s = s * 5.0;
      seg.end_s = s * 5.0 + 4.5;
      for (int w = 0; w < 10; ++w) {
        seg.words.push_back({words[w], seg.start_s + w * 0.45, seg.start_s + w * 0.45 + 0.4, 0.9});
        seg.text += (w ? " " : "") + std::string(words[w]);
      }
      seg.confidence = 0.9;
      t.segments.push_back(seg);
    }
    API_FUZZ_OK(analysis::StoreTranscript(*db_, env_, &ids_, video_id, SucceededRun(video_id, "transcription"), t).status());
    db::Repositories repos(*db_, env_, &ids_);
    std::string scenes = SucceededRun(video_id, "scenes");
    for (int i = 0; i < 4; ++i) {
      db::SceneRow s;
      s.video_id = video_id;
      s.processing_id = scenes;
      s.scene_no = i;
      s.start_s = i * 15.0;
      s.end_s = (i + 1) * 15.0;
      s.transition = i == 0 ? "start" : "cut";
      API_FUZZ_OK(repos.scenes.Insert(s).status());
    }
  }

  std::string AddClip(const std::string& video_id) {
    db::Repositories repos(*db_, env_, &ids_);
    db::ClipCandidateRow c;
    c.video_id = video_id;
    c.start_s = 5;
    c.end_s = 24.5;
    c.score = 0.7;
    c.title = "Pricing";
    return Must(repos.clip_candidates.Insert(c), "a clip").clip_id;
  }

  std::string AddJob(const std::string& owner, const std::string& video_id) {
    jobs::EnqueueRequest r;
    r.kind = "scenes";
    r.video_id = video_id;
    r.owner_id = owner;
    r.processing_kind = "scenes";
    return Must(queue_->Enqueue(r), "a job").job_id;
  }

  std::string CreateUpload(const std::string& key) {
    httplib::Request req;
    req.method = "POST";
    req.path = req.target = "/api/uploads";
    req.headers = {{"Authorization", "Bearer " + key}, {"Tus-Resumable", "1.0.0"}, {"Upload-Defer-Length", "1"}};
    httplib::Response res;
    server_->HandleForTesting(req, res, nullptr);
    std::string location = res.get_header_value("Location");
    if (res.status != 201 || location.rfind('/') == std::string::npos) Fail("cannot create an upload: " + res.body);
    return location.substr(location.rfind('/') + 1);
  }

  std::string Substitute(std::string body) const {
    // Longest names first ($OTHERCLIP before $OTHER, $VIDEO2 before $VIDEO).
    const std::pair<const char*, const std::string*> names[] = {
        {"$OTHERCLIP", &other_clip_}, {"$OTHER", &other_video_}, {"$VIDEO2", &video2_}, {"$VIDEO", &video_},
        {"$PENDING", &pending_},      {"$CLIP", &clip_},         {"$JOB", &job_},       {"$UPLOAD", &upload_}};
    for (const auto& [name, value] : names) {
      for (size_t at = body.find(name); at != std::string::npos; at = body.find(name, at + value->size())) {
        body.replace(at, std::strlen(name), *value);
      }
    }
    return body;
  }

  // Whether a URL import of url could reach a network: its host is a
  // name, or an address the policy lets through.
  bool CouldConnect(const std::string& url) const {
    if (!ingest::UrlFetcher::ValidateUrl(url).ok()) return false;  // Preflight stops here
    std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), curl_url_cleanup);
    if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return true;
    char* raw = nullptr;
    curl_url_get(u.get(), CURLUPART_HOST, &raw, 0);
    std::string host = raw ? raw : "";
    curl_free(raw);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return true;  // a name: DNS
    bool allowed = false;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) allowed = allowed || policy_.Check(ai->ai_addr).ok();
    freeaddrinfo(res);
    return allowed;
  }

  // Replaces every URL string of a JSON body that could connect.
  bool DefuseUrls(nlohmann::json& j) const {
    bool changed = false;
    if (j.is_string()) {
      if (CouldConnect(j.get<std::string>())) {
        j = kRefusedUrl;
        changed = true;
      }
    } else if (j.is_structured()) {
      for (auto& v : j) changed = DefuseUrls(v) || changed;
    }
    return changed;
  }

  std::string dir_;
  Config config_;
  Env* env_ = nullptr;
  IdGenerator ids_{Env::Default()};
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<jobs::EventLog> events_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<api::ApiServer> server_;
  ingest::AddressPolicy policy_ = Must(ingest::AddressPolicy::Create(false, {}), "the address policy");
  std::string alice_key_, mallory_key_;
  std::string video_, video2_, pending_, other_video_, clip_, other_clip_, job_, other_job_, upload_, other_upload_;
  std::vector<Route> routes_;
  std::vector<std::string> stages_;
};

int World::Run(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const Route& route = routes_[data[0] % routes_.size()];
  const uint8_t variant = data[1];
  std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);

  // The path, with ids.
  const int pick = variant & 3;
  bool strangers = false;
  std::string path;
  for (const auto& segment : api::SplitPath(route.pattern)) {
    std::string value = segment;
    if (segment.size() > 2 && segment.front() == '{') {
      std::string name = segment.substr(1, segment.size() - 2);
      if (name == "video_id") {
        const std::string* v[] = {&video_, &video2_, &pending_, &other_video_};
        value = *v[pick];
      } else if (name == "job_id") {
        value = pick == 3 ? other_job_ : job_;
      } else if (name == "upload_id") {
        value = pick == 3 ? other_upload_ : upload_;
      } else if (name == "clip_id") {
        value = pick == 3 ? other_clip_ : clip_;
      } else if (name == "stage") {
        value = stages_[((variant >> 2) & 15) % stages_.size()];
      } else {
        value = "unknown";  // a new kind of id: add it above
      }
      if (pick == 3 && name != "stage") strangers = true;
    }
    path += "/" + value;
  }

  httplib::Request req;
  req.method = route.method;
  req.path = req.target = path;
  req.version = "HTTP/1.1";
  req.remote_addr = "127.0.0.1";
  auto set = [&req](const std::string& name, const std::string& value) {
    // Header names are case-insensitive in httplib's map.
    req.headers.erase(name);
    req.headers.emplace(name, value);
  };
  set("Authorization", "Bearer " + alice_key_);
  if (path.rfind("/api/uploads", 0) == 0) {
    set("Tus-Resumable", "1.0.0");
    set("Content-Type", "application/offset+octet-stream");
    if (route.method == "POST") {
      set("Upload-Defer-Length", "1");
    } else {
      set("Upload-Offset", "0");
    }
  } else {
    set("Content-Type", "application/json");
  }

  if (variant & 0x80) {
    // Header lines, checked as the HTTP front checks them.
    size_t end = body.find("\n\n");
    size_t skip = 2;
    if (size_t crlf = body.find("\r\n\r\n"); crlf != std::string::npos && crlf < end) {
      end = crlf;
      skip = 4;
    }
    if (end == std::string::npos) return 0;
    std::string head = route.method + " " + path + " HTTP/1.1\r\n" + body.substr(0, end) + "\r\n\r\n";
    http::RequestHead parsed;
    if (http::ParseRequestHead(head, parsed)) return 0;  // refused before any handler
    // tus: a length given here replaces the deferred one (and the other way round).
    if (parsed.headers.count("Upload-Length")) req.headers.erase("Upload-Defer-Length");
    if (parsed.headers.count("Upload-Defer-Length")) req.headers.erase("Upload-Length");
    for (const auto& [name, value] : parsed.headers) {
      if (!strcasecmp(name.c_str(), "Content-Length") || !strcasecmp(name.c_str(), "Transfer-Encoding")) continue;
      set(name, value);
    }
    body.erase(0, end + skip);
  }

  body = Substitute(std::move(body));
  if (auto json = nlohmann::json::parse(body, nullptr, false); !json.is_discarded() && DefuseUrls(json)) {
    body = json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  const bool chunked = variant & 0x40;
  if (chunked) {
    set("Transfer-Encoding", "chunked");
  } else {
    set("Content-Length", std::to_string(body.size()));
  }

  // The body as the HTTP front hands it over: once, in pieces.
  bool read = false;
  auto pump = [&body, &read](const httplib::ContentReceiver& sink) {
    if (read) return true;
    read = true;
    for (size_t at = 0; at < body.size(); at += 4096) {
      if (!sink(body.data() + at, std::min<size_t>(4096, body.size() - at))) return false;
    }
    return true;
  };
  httplib::ContentReader reader(
      [&pump](httplib::ContentReceiver receiver) { return pump(receiver); },
      [&req, &pump](httplib::MultipartContentHeader header, httplib::ContentReceiver receiver) {
        std::string boundary = http::MultipartBoundary(req.get_header_value("Content-Type"));
        if (boundary.empty()) return false;
        http::MultipartParser parser(boundary);
        bool ok = pump([&](const char* d, size_t n) { return parser.Feed(d, n, header, receiver); });
        return ok && parser.done();
      });
  const bool has_body = chunked || !body.empty();

  httplib::Response res;
  server_->HandleForTesting(req, res, has_body ? &reader : nullptr);

  if (res.status < 0) res.status = 200;  // what the HTTP front sends for an unset status
  const std::string where = route.method + " " + route.pattern + " (" + path + ") answered " +
                            std::to_string(res.status) + ": " + res.body.substr(0, 600);
  if (res.status < 100 || res.status > 599) Fail("a status out of range: " + where);
  auto json = nlohmann::json::parse(res.body, nullptr, false);
  if (res.status >= 400) {
    if (!json.is_object() || !json.contains("error") || !json["error"].is_object() ||
        !json["error"].contains("code") || !json["error"]["code"].is_string() ||
        !json["error"].contains("message") || !json["error"]["message"].is_string() ||
        !json["error"].contains("details") || !json["error"]["details"].is_object()) {
      Fail("an error without the JSON error shape: " + where);
    }
    if (res.get_header_value("Content-Type") != "application/json") Fail("an error that is not application/json: " + where);
    const std::string code = json["error"]["code"];
    if (res.status >= 500 && res.status != 503 && res.status != 507 &&
        !(res.status == 501 && code == "stage_not_available")) {
      Fail("a server error: " + where);
    }
  } else if (res.status < 300 && res.get_header_value("Content-Type") == "application/json" && json.is_discarded()) {
    Fail("a JSON answer that does not parse: " + where);
  }
  static const bool verbose = std::getenv("CUTROOM_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "api_routes: %s\n", where.c_str());
  if (strangers && res.status >= 200 && res.status < 300) Fail("mallory's id answered 2xx to alice: " + where);
  return 0;
}

}  // namespace

int ApiRoutes(const uint8_t* data, size_t size) {
  static bool quiet = [] {
    // The handlers log refusals at warn; only errors (an unhandled
    // exception names itself there) are worth seeing while fuzzing.
    spdlog::set_level(spdlog::level::err);
    return true;
  }();
  (void)quiet;
  static std::unique_ptr<World> world;
  static int runs = 0;
  if (!world || ++runs % kRebuildEvery == 0) {
    world.reset();
    world = std::make_unique<World>();
  }
  return world->Run(data, size);
}

}  // namespace cutroom::fuzz
