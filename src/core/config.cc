#include "core/config.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>
#include <toml++/toml.h>

extern char** environ;

namespace cutroom {
namespace {

const ConfigKeySpec* FindSpec(const std::string& key) {
  for (const auto& spec : Config::Registry()) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

std::string DefaultWorkerCount() {
  unsigned n = std::thread::hardware_concurrency();
  return std::to_string(n == 0 ? 2 : n);
}

Status CheckType(const ConfigKeySpec& spec, const std::string& value, const std::string& source) {
  if (spec.type == ConfigType::kInt) {
    char* end = nullptr;
    errno = 0;
    (void)std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno == ERANGE) {
      return Status::InvalidArgument("config key '" + spec.key + "' (from " + source +
                                     ") must be an integer, got '" + value + "'");
    }
  } else if (spec.type == ConfigType::kBool) {
    if (value != "true" && value != "false" && value != "1" && value != "0") {
      return Status::InvalidArgument("config key '" + spec.key + "' (from " + source +
                                     ") must be true or false, got '" + value + "'");
    }
  }
  return Status::Ok();
}

// Flattens a TOML table into "a.b" keys with string values.
Status Flatten(const toml::table& table, const std::string& prefix, std::map<std::string, std::string>& out,
               const std::string& file) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = node.as_table()) {
      CUTROOM_RETURN_IF_ERROR(Flatten(*sub, key, out, file));
    } else if (auto s = node.value<std::string>(); s && node.is_string()) {
      out[key] = *s;
    } else if (node.is_integer()) {
      out[key] = std::to_string(*node.value<int64_t>());
    } else if (node.is_boolean()) {
      out[key] = *node.value<bool>() ? "true" : "false";
    } else if (node.is_floating_point()) {
      out[key] = std::to_string(*node.value<double>());
    } else {
      return Status::InvalidArgument(file + ": config key '" + key + "' has an unsupported value type");
    }
  }
  return Status::Ok();
}

}  // namespace

const std::vector<ConfigKeySpec>& Config::Registry() {
  static const std::vector<ConfigKeySpec> kRegistry = {
      {"server.listen", ConfigType::kString, "127.0.0.1:8080", "--listen", "address:port the HTTP server binds"},
      {"server.max_body_bytes", ConfigType::kInt, "16777216", "",
       "largest request body read into memory (JSON requests); larger bodies answer 413"},
      {"server.threads", ConfigType::kInt, "16", "",
       "HTTP worker threads kept ready; idle and slow connections never hold one"},
      {"server.max_threads", ConfigType::kInt, "256", "",
       "most HTTP worker threads (slow handlers such as event streams and downloads each take one)"},
      {"server.max_connections", ConfigType::kInt, "10000", "", "open client connections; more are closed at once"},
      {"server.max_upload_streams", ConfigType::kInt, "64", "",
       "request bodies over 64 KiB (uploads) received at once; more get 503 with Retry-After"},
      {"server.header_timeout_s", ConfigType::kInt, "10", "",
       "a request head (and a body up to 64 KiB) must arrive whole this many seconds after its first byte"},
      {"server.keep_alive_s", ConfigType::kInt, "5", "", "an idle keep-alive connection is closed after this"},
      {"server.write_timeout_s", ConfigType::kInt, "30", "",
       "a response write that makes no progress this long closes the connection"},
      {"server.min_upload_rate", ConfigType::kInt, "1024", "",
       "bytes per second an upload body must average over each server.upload_rate_window_s, or it is closed"},
      {"server.upload_rate_window_s", ConfigType::kInt, "20", "", "window of server.min_upload_rate"},
      {"server.web_dir", ConfigType::kString, "", "",
       "the built web UI served at / (default: <binary>/../share/cutroom/web, else the source tree's web/dist)"},
      {"limits.requests_per_minute", ConfigType::kInt, "1200", "",
       "API requests per minute per key owner (bursts of a quarter of it pass); over it: 429 with Retry-After; "
       "0: no limit. Local mode (no keys) is not limited"},
      {"limits.concurrent_uploads", ConfigType::kInt, "8", "",
       "upload bodies (multipart or tus) a key owner may send at once; more: 429 with Retry-After (0: no limit)"},
      {"limits.max_queued_jobs", ConfigType::kInt, "500", "",
       "jobs an owner may have queued or running at once; more: 429 (0: no limit)"},
      {"limits.max_duration_s", ConfigType::kInt, "43200", "",
       "longest media accepted, in seconds (12 h); longer: 422 media_limit_exceeded (0: no limit)"},
      {"limits.max_pixels", ConfigType::kInt, "35389440", "",
       "largest picture accepted, width x height (8K, 7680x4608); larger: 422 media_limit_exceeded (0: no limit)"},
      {"server.metrics_allow", ConfigType::kString, "127.0.0.1,::1", "",
       "addresses or CIDR blocks (comma-separated) that may read GET /metrics without a key"},
      {"server.token_secret", ConfigType::kString, "", "",
       "signs media access tokens; servers behind one address must share it (default: a key in "
       "<data_dir>/secrets)"},
      {"storage.data_dir", ConfigType::kString, "./cutroom-data", "--data-dir",
       "directory for the database, blobs and upload staging"},
      {"storage.blob_url", ConfigType::kString, "file://{storage.data_dir}/blobs", "",
       "where blobs live: file://DIR or s3://bucket/prefix (S3 credentials from AWS_ACCESS_KEY_ID, "
       "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)"},
      {"storage.s3_endpoint", ConfigType::kString, "", "",
       "S3 endpoint URL, e.g. http://127.0.0.1:9000 or https://ACCOUNT.r2.cloudflarestorage.com "
       "(empty: AWS, https://s3.<region>.amazonaws.com)"},
      {"storage.s3_region", ConfigType::kString, "us-east-1", "", "S3 signing region (R2: auto; Garage: garage)"},
      {"storage.s3_path_style", ConfigType::kBool, "false", "",
       "address the bucket as endpoint/bucket/key (MinIO, Garage, s3rver) instead of bucket.endpoint/key"},
      {"database.url", ConfigType::kString, "sqlite://{storage.data_dir}/cutroom.db", "--database",
       "sqlite://PATH, or postgresql://USER:PASSWORD@HOST:PORT/DB to share state with other processes"},
      {"database.busy_timeout_ms", ConfigType::kInt, "5000", "", "how long a statement waits for a lock"},
      {"workers.count", ConfigType::kInt, DefaultWorkerCount(), "--workers", "background workers"},
      {"workers.lease_ms", ConfigType::kInt, "30000", "",
       "how long a claimed job stays with a worker that stopped heartbeating before another may take it"},
      {"jobs.global_limits", ConfigType::kString, "", "",
       "most jobs of a kind running at once across every process sharing the database, e.g. render=1,transcription=2"},
      {"ingest.allow_private_urls", ConfigType::kBool, "false", "",
       "allow URL imports from loopback and private networks (tests only)"},
      {"ingest.max_upload_bytes", ConfigType::kInt, "21474836480", "", "largest accepted upload (20 GiB)"},
      {"ingest.url_allowlist", ConfigType::kString, "", "",
       "comma-separated addresses or CIDRs URL imports may reach even when private (e.g. a LAN NAS)"},
      {"ingest.url_timeout_s", ConfigType::kInt, "3600", "", "longest a URL import may take"},
      {"ingest.reference_cache_mb", ConfigType::kInt, "256", "",
       "memory for blocks of URL references read remotely, shared by the stages of each process (0: none; "
       "a reference larger than this is fetched again by each stage)"},
      {"ingest.import_workers", ConfigType::kInt, "2", "", "URL imports running at once in each worker process"},
      {"ingest.upload_expiry_s", ConfigType::kInt, "86400", "",
       "an unfinished resumable upload expires this long after its last chunk"},
      {"ingest.sweep_interval_s", ConfigType::kInt, "60", "", "how often expired uploads are removed"},
      {"ingest.upload_durable_every_mb", ConfigType::kInt, "16", "",
       "inside one long upload request, what has arrived is made durable and recorded every this many MiB "
       "(beside the stream), so a crash loses at most this much of it"},
      {"llm.base_url", ConfigType::kString, "", "", "OpenAI-compatible API base URL; empty turns LLM features off"},
      {"llm.model", ConfigType::kString, "", "", "chat model"},
      {"llm.vision_model", ConfigType::kString, "", "", "model for image descriptions (default: llm.model)"},
      {"llm.api_key_env", ConfigType::kString, "OPENAI_API_KEY", "",
       "name of the environment variable that holds the LLM API key"},
      {"llm.timeout_s", ConfigType::kInt, "120", "",
       "longest one LLM request may take; a request that runs out of time is not retried"},
      {"llm.concurrency", ConfigType::kInt, "2", "", "LLM requests in flight at once from each process"},
      {"llm.max_attempts", ConfigType::kInt, "4", "",
       "tries per LLM request (the first included) on rate limits, 5xx and network errors"},
      {"transcribe.engine", ConfigType::kString, "pocketsphinx", "",
       "default transcription engine: pocketsphinx, openai or videodb"},
      {"transcribe.base_url", ConfigType::kString, "{llm.base_url}", "",
       "OpenAI-compatible service for the openai engine (OpenAI, whisper.cpp server, faster-whisper)"},
      {"transcribe.model", ConfigType::kString, "whisper-1", "", "model name the openai engine asks for"},
      {"transcribe.max_piece_s", ConfigType::kInt, "600", "",
       "longest audio piece per request to the openai engine (16 kHz WAV: 32 kB a second)"},
      {"videodb.base_url", ConfigType::kString, "https://api.videodb.io", "",
       "VideoDB's API, for the videodb transcription engine, scene detector and search"},
      {"videodb.api_key_env", ConfigType::kString, "VIDEO_DB_API_KEY", "",
       "name of the environment variable that holds the VideoDB API key; unset: VideoDB features off"},
      {"videodb.collection", ConfigType::kString, "default", "", "VideoDB collection media are uploaded to"},
      {"videodb.delete_remote", ConfigType::kBool, "false", "",
       "deleting a video also deletes its VideoDB copy (otherwise the copy stays in VideoDB)"},
      {"videodb.timeout_s", ConfigType::kInt, "60", "", "longest one VideoDB request may take (uploads: ten times)"},
      {"videodb.max_attempts", ConfigType::kInt, "4", "",
       "tries per VideoDB request (the first included) on network errors, timeouts, 429 and 5xx"},
      {"videodb.poll_ms", ConfigType::kInt, "2000", "",
       "first wait before polling a VideoDB task or retrying a request; doubles up to 10 s"},
      {"videodb.wait_s", ConfigType::kInt, "1800", "", "longest wait for one VideoDB task (upload, index, scenes)"},
      {"retention.min_fit_videos", ConfigType::kInt, "5", "",
       "imported curves an owner needs before POST /api/retention/fit refits their retention model"},
      {"log.level", ConfigType::kString, "info", "--log-level", "trace, debug, info, warn, error"},
      {"log.format", ConfigType::kString, "auto", "--log-format",
       "auto (human on a terminal, else JSON), human or json"},
  };
  return kRegistry;
}

std::string Config::EnvironmentName(const std::string& key) {
  std::string out = "CUTROOM_";
  for (char c : key) out += (c == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::map<std::string, std::string> Config::ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

Config Config::Defaults() {
  Config c;
  for (const auto& spec : Registry()) {
    c.values_[spec.key] = spec.default_value;
    c.sources_[spec.key] = "default";
  }
  return c;
}

Status Config::SetFrom(const std::string& key, const std::string& value, const std::string& source) {
  const ConfigKeySpec* spec = FindSpec(key);
  if (!spec) return Status::InvalidArgument("unknown config key '" + key + "' (from " + source + ")");
  CUTROOM_RETURN_IF_ERROR(CheckType(*spec, value, source));
  values_[key] = value;
  sources_[key] = source;
  return Status::Ok();
}

Status Config::Set(const std::string& key, const std::string& value) { return SetFrom(key, value, "flag"); }

Result<Config> Config::Load(const ConfigSources& sources) {
  Config c = Defaults();
  std::string file = sources.file;
  if (file.empty() && std::filesystem::exists("cutroom.toml")) file = "cutroom.toml";
  if (!file.empty()) {
    if (!std::filesystem::exists(file)) return Status::NotFound("config file " + file + " does not exist");
    // Debian builds toml++ with exceptions: the parse error is caught here,
    // at the adapter, and becomes a Status.
    toml::table parsed;
    try {
      parsed = toml::parse_file(file);
    } catch (const toml::parse_error& err) {
      return Status::InvalidArgument(file + ":" + std::to_string(err.source().begin.line) + ":" +
                                     std::to_string(err.source().begin.column) + ": " +
                                     std::string(err.description()));
    }
    std::map<std::string, std::string> flat;
    CUTROOM_RETURN_IF_ERROR(Flatten(parsed, "", flat, file));
    for (const auto& [k, v] : flat) CUTROOM_RETURN_IF_ERROR(c.SetFrom(k, v, "file " + file));
  }
  for (const auto& spec : Registry()) {
    auto it = sources.environment.find(EnvironmentName(spec.key));
    if (it != sources.environment.end()) CUTROOM_RETURN_IF_ERROR(c.SetFrom(spec.key, it->second, "env " + it->first));
  }
  for (const auto& [k, v] : sources.flags) CUTROOM_RETURN_IF_ERROR(c.SetFrom(k, v, "flag"));
  return c;
}

std::string Config::Resolve(const std::string& value, int depth) const {
  if (depth > 8) return value;  // a reference cycle; leave it unresolved
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    auto open = value.find('{', i);
    auto close = open == std::string::npos ? std::string::npos : value.find('}', open);
    if (close == std::string::npos) {
      out += value.substr(i);
      break;
    }
    out += value.substr(i, open - i);
    std::string ref = value.substr(open + 1, close - open - 1);
    auto it = values_.find(ref);
    out += it != values_.end() ? Resolve(it->second, depth + 1) : value.substr(open, close - open + 1);
    i = close + 1;
  }
  return out;
}

std::string Config::GetString(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    std::fprintf(stderr, "internal error: unregistered config key '%s'\n", key.c_str());
    std::abort();
  }
  return Resolve(it->second, 0);
}

int64_t Config::GetInt(const std::string& key) const { return std::strtoll(GetString(key).c_str(), nullptr, 10); }

bool Config::GetBool(const std::string& key) const {
  std::string v = GetString(key);
  return v == "true" || v == "1";
}

std::vector<Config::Entry> Config::Entries() const {
  std::vector<Entry> out;
  for (const auto& spec : Registry()) {
    std::string v = GetString(spec.key);
    if (spec.secret && !v.empty()) v = "********";
    out.push_back({spec.key, v, sources_.at(spec.key)});
  }
  return out;
}

}  // namespace cutroom
