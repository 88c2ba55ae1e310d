// GET /metrics: Prometheus text format, for scrapers on addresses the
// operator allows (server.metrics_allow), without an API key.
#include <arpa/inet.h>

#include <cstring>
#include <sstream>

#include "api/server.h"
#include "core/metrics.h"
#include "db/tables.h"

namespace cutroom::api {
namespace {

// An address or CIDR block ("127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8").
struct AddressBlock {
  int family = 0;
  unsigned char bytes[16] = {};
  int prefix = 0;
};

Result<AddressBlock> ParseBlock(const std::string& text) {
  AddressBlock b;
  std::string addr = text;
  int prefix = -1;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    addr = text.substr(0, slash);
    try {
      prefix = std::stoi(text.substr(slash + 1));
    } catch (...) {
      return Status::InvalidArgument("server.metrics_allow: bad prefix in '" + text + "'");
    }
  }
  if (inet_pton(AF_INET, addr.c_str(), b.bytes) == 1) {
    b.family = AF_INET;
    b.prefix = prefix < 0 ? 32 : prefix;
    if (b.prefix > 32) return Status::InvalidArgument("server.metrics_allow: bad prefix in '" + text + "'");
  } else if (inet_pton(AF_INET6, addr.c_str(), b.bytes) == 1) {
    b.family = AF_INET6;
    b.prefix = prefix < 0 ? 128 : prefix;
    if (b.prefix > 128) return Status::InvalidArgument("server.metrics_allow: bad prefix in '" + text + "'");
  } else {
    return Status::InvalidArgument("server.metrics_allow: '" + text + "' is not an address or CIDR block");
  }
  return b;
}

bool Contains(const AddressBlock& block, const std::string& remote) {
  unsigned char bytes[16] = {};
  int family = 0;
  std::string addr = remote;
  // IPv4 clients of a dual-stack socket show as ::ffff:a.b.c.d.
  if (addr.rfind("::ffff:", 0) == 0 && addr.find('.') != std::string::npos) addr = addr.substr(7);
  if (inet_pton(AF_INET, addr.c_str(), bytes) == 1) {
    family = AF_INET;
  } else if (inet_pton(AF_INET6, addr.c_str(), bytes) == 1) {
    family = AF_INET6;
  }
  if (family != block.family) return false;
  int full = block.prefix / 8, rest = block.prefix % 8;
  if (std::memcmp(bytes, block.bytes, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (bytes[full] & mask) == (block.bytes[full] & mask);
}

void DescribeFamilies() {
  Metrics& m = Metrics::Global();
  m.Describe("cutroom_http_requests_total", "counter", "HTTP requests by route pattern, method and status");
  m.Describe("cutroom_http_request_duration_seconds", "histogram",
             "time from routing to the handler's answer (streamed bodies continue after it)");
  m.Describe("cutroom_ingested_bytes_total", "counter", "bytes of media stored, by how they came in");
  m.Describe("cutroom_ingested_media_total", "counter", "media stored, by how they came in");
  m.Describe("cutroom_job_run_seconds", "histogram", "job handler run time in this process, by kind and outcome");
  m.Describe("cutroom_ai_requests_total", "counter", "requests to LLM and speech services by endpoint and outcome");
  m.Describe("cutroom_reference_fetched_bytes_total", "counter", "bytes of URL references read remotely");
  m.Describe("cutroom_reference_requests_total", "counter", "range requests for URL references");
  m.Describe("cutroom_decoded_frames_total", "counter", "frames decoded for analysis, by stage");
  m.Describe("cutroom_decode_seconds_total", "counter", "seconds spent decoding for analysis, by stage");
  m.Describe("cutroom_encoded_frames_total", "counter", "video frames encoded by renders");
  m.Describe("cutroom_encode_seconds_total", "counter", "seconds spent rendering");
}

// Series read from the database at scrape time: they hold for every
// process sharing it, not only this one.
void CollectQueue(db::Database& db, Env* env, MetricsWriter& w) {
  auto jobs = db.Query("SELECT kind, status, COUNT(*) AS n FROM jobs GROUP BY kind, status");
  if (jobs.ok()) {
    w.Family("cutroom_jobs", "gauge", "jobs in the queue's table by kind and status");
    for (size_t i = 0; i < jobs->size(); ++i) {
      w.Sample("cutroom_jobs", {{"kind", jobs->Text(i, "kind").value_or("")}, {"status", jobs->Text(i, "status").value_or("")}},
               static_cast<double>(jobs->Int(i, "n").value_or(0)));
    }
  }
  auto oldest = db.Query("SELECT MIN(created_at) AS t, COUNT(*) AS n FROM jobs WHERE status = 'queued'");
  if (oldest.ok() && oldest->size() == 1) {
    w.Family("cutroom_queue_depth", "gauge", "jobs waiting to run");
    w.Sample("cutroom_queue_depth", {}, static_cast<double>(oldest->Int(0, "n").value_or(0)));
    double age = 0;
    if (auto t = oldest->Text(0, "t"); t) {
      if (auto ms = ParseTimestamp(*t); ms.ok()) age = std::max(0.0, static_cast<double>(env->NowMs() - *ms) / 1000.0);
    }
    w.Family("cutroom_queue_oldest_age_seconds", "gauge", "how long the oldest queued job has waited (0: none)");
    w.Sample("cutroom_queue_oldest_age_seconds", {}, age);
  }
  // Running jobs whose worker renewed its lease: a live heartbeat each.
  auto leased = db.Query("SELECT COUNT(*) AS n FROM jobs WHERE status = 'running' AND locked_until > ?",
                         {FormatTimestamp(env->NowMs())});
  if (leased.ok() && leased->size() == 1) {
    w.Family("cutroom_jobs_heartbeating", "gauge", "running jobs whose worker's lease is current");
    w.Sample("cutroom_jobs_heartbeating", {}, static_cast<double>(leased->Int(0, "n").value_or(0)));
  }
  auto media = db.Query("SELECT status, COUNT(*) AS n FROM media GROUP BY status");
  if (media.ok()) {
    w.Family("cutroom_media", "gauge", "media by status");
    for (size_t i = 0; i < media->size(); ++i) {
      w.Sample("cutroom_media", {{"status", media->Text(i, "status").value_or("")}},
               static_cast<double>(media->Int(i, "n").value_or(0)));
    }
  }
}

}  // namespace

Status ApiServer::RegisterMetricsRoute() {
  std::vector<AddressBlock> allowed;
  std::stringstream list(deps_.config->GetString("server.metrics_allow"));
  std::string item;
  while (std::getline(list, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) continue;
    CUTROOM_ASSIGN_OR_RETURN(AddressBlock b, ParseBlock(item));
    allowed.push_back(b);
  }
  DescribeFamilies();
  db::Database* db = deps_.db;
  Env* env = deps_.env;
  metrics_collector_ = Metrics::Global().AddCollector([db, env](MetricsWriter& w) { CollectQueue(*db, env, w); });
  router_.Add({"GET", "/metrics", "Prometheus metrics (from the addresses in server.metrics_allow, no key)",
               RouteAuth::kPublic, [allowed](RequestContext& ctx) -> Status {
                 bool ok = false;
                 for (const auto& b : allowed) ok = ok || Contains(b, ctx.req.remote_addr);
                 if (!ok) {
                   return Status::PermissionDenied("metrics are served only to the addresses in server.metrics_allow");
                 }
                 ctx.res.status = 200;
                 ctx.res.set_header("Cache-Control", "no-store");
                 ctx.res.set_content(Metrics::Global().Render(), "text/plain; version=0.0.4; charset=utf-8");
                 return Status::Ok();
               }});
  return Status::Ok();
}

}  // namespace cutroom::api
