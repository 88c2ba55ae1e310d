#include "ingest/url_import.h"

#include <netdb.h>
#include <spdlog/spdlog.h>

#include <curl/curl.h>

#include "db/tables.h"
#include "ingest/remote_source.h"

namespace cutroom::ingest {

std::string FilenameFromUrl(const std::string& url) {
  std::string path = url;
  auto q = path.find_first_of("?#");
  if (q != std::string::npos) path.resize(q);
  auto scheme = path.find("://");
  if (scheme == std::string::npos) return "";
  auto first_slash = path.find('/', scheme + 3);
  if (first_slash == std::string::npos) return "";
  auto slash = path.find_last_of('/');
  std::string name = path.substr(slash + 1);
  if (name.size() > 255) name.resize(255);
  return name;
}

Status UrlImporter::Preflight(const std::string& url) const {
  CUTROOM_RETURN_IF_ERROR(UrlFetcher::ValidateUrl(url));
  std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), curl_url_cleanup);
  curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0);
  char* raw = nullptr;
  curl_url_get(u.get(), CURLUPART_HOST, &raw, 0);
  std::string host = raw ? raw : "";
  curl_free(raw);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return Status::InvalidArgument("cannot resolve host '" + host + "': " + gai_strerror(rc));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(res, freeaddrinfo);
  Status last = Status::Ok();
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    Status st = fetcher_->policy().Check(ai->ai_addr);
    if (st.ok()) return Status::Ok();
    last = st;
  }
  return last.ok() ? Status::InvalidArgument("host '" + host + "' has no address") : last;
}

Result<db::MediaRow> UrlImporter::Import(const std::string& url, IngestRequest request,
                                         const ImportControl& control) const {
  const std::string pending_id = request.existing_video_id;
  auto fail = [&](const Status& st) -> Status {
    if (!pending_id.empty() && control.mark_failed) {
      Status marked = ingest_->MarkFailed(pending_id, st.message());
      if (!marked.ok()) spdlog::warn("could not mark {} failed: {}", pending_id, marked.ToString());
    }
    spdlog::warn("import of {} failed: {}", url, st.ToString());
    return st;
  };
  if (request.original_filename.empty()) request.original_filename = FilenameFromUrl(url);
  request.source_type = "url";
  request.source_url = url;
  const IngestDeps& deps = ingest_->deps();
  if (!pending_id.empty()) {
    db::Repositories repos(*deps.db, deps.env, deps.ids);
    auto row = repos.media.Get(pending_id);
    if (row.ok()) {
      row->status = "uploading";
      repos.media.Update(*row).status().IgnoreError();
    }
  }
  auto session = ingest_->Begin(request);
  if (!session.ok()) return fail(session.status());

  FetchOptions options;
  options.max_bytes = deps.max_upload_bytes;
  TimestampMs last_report = 0;
  options.on_progress = [&](uint64_t received, uint64_t total) {
    if (control.should_stop && control.should_stop()) return false;
    if (control.progress) control.progress(received, total);
    TimestampMs now = deps.env->NowMs();
    if (!pending_id.empty() && now - last_report >= 1000) {
      last_report = now;
      nlohmann::json progress = {{"bytes", received}, {"total", total ? nlohmann::json(total) : nullptr}};
      deps.db
          ->Execute(deps.db->dialect() == db::Dialect::kPostgres
                        ? "UPDATE media SET metadata = jsonb_set(metadata::jsonb, '{import}', ?::jsonb)::text, "
                          "updated_at = ? WHERE video_id = ?"
                        : "UPDATE media SET metadata = json_set(metadata, '$.import', json(?)), updated_at = ? "
                          "WHERE video_id = ?",
                    {db::JsonText(progress), FormatTimestamp(now), pending_id})
          .status()
          .IgnoreError();
    }
    return true;
  };
  IngestSession* s = session->get();
  auto fetched = fetcher_->Fetch(url, options, [s](const char* data, size_t n) { return s->Append(data, n); });
  if (!fetched.ok()) {
    Status st = fetched.status();
    if (st.IsCancelled() && control.should_stop && control.should_stop()) {
      st = Status::Cancelled("the import was stopped");
    }
    return fail(st);
  }
  auto row = (*session)->Finish();
  if (!row.ok()) return fail(row.status());
  return row;
}

Result<db::MediaRow> UrlImporter::Reference(const std::string& url, IngestRequest request) const {
  CUTROOM_RETURN_IF_ERROR(UrlFetcher::ValidateUrl(url));
  HttpRangeSource source(fetcher_, url);
  auto probe = media::ProbeMediaSource(source);
  if (!probe.ok()) return source.last_error().ok() ? probe.status() : source.last_error();
  request.source_url = url;
  if (request.original_filename.empty()) request.original_filename = FilenameFromUrl(url);
  request.metadata["reference_size_bytes"] = source.Size().value_or(0);
  // The version analysed later must be this one (see HttpRangeSource).
  if (source.seen()) request.metadata["reference"] = source.seen()->ToJson();
  return ingest_->CreateReference(request, *probe);
}

}  // namespace cutroom::ingest
