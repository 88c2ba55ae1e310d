#include "api/web_ui.h"

#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/api_error.h"
#include "core/hash.h"

#ifndef CUTROOM_SOURCE_WEB_DIR
#define CUTROOM_SOURCE_WEB_DIR ""
#endif

namespace cutroom::api {
namespace {

namespace fs = std::filesystem;

// A UI file larger than this is not something the build produces.
constexpr uintmax_t kMaxUiFileBytes = 64ull << 20;

// The UI's own scripts and styles only; API calls to this origin. Media may
// also come from elsewhere: the stream of a URL reference redirects to
// where the file lives. Access tokens ride in media URLs (?access_token=),
// so no Referer may carry them anywhere.
constexpr const char* kUiContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob: https: http:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'";

bool HasIndex(const std::string& dir) {
  std::error_code ec;
  return !dir.empty() && fs::is_regular_file(fs::path(dir) / "index.html", ec);
}

std::string BinaryDir() {
  std::array<char, 4096> buf{};
  ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return "";
  return fs::path(std::string(buf.data(), static_cast<size_t>(n))).parent_path().string();
}

bool IsUiPath(const std::string& path) {
  for (const char* reserved : {"/api", "/healthz", "/readyz", "/metrics"}) {
    std::string_view r(reserved);
    if (path.compare(0, r.size(), r) == 0 && (path.size() == r.size() || path[r.size()] == '/')) return false;
  }
  return true;
}

// The relative file path for a URL path, or "" when it may not name a file
// of the UI (traversal, hidden files, odd characters).
std::string SafeRelativePath(const std::string& url_path) {
  std::string rel;
  std::stringstream in(url_path);
  std::string segment;
  while (std::getline(in, segment, '/')) {
    if (segment.empty()) continue;
    if (segment[0] == '.' || segment.find('\\') != std::string::npos || segment.find('\0') != std::string::npos) {
      return "";
    }
    rel += (rel.empty() ? "" : "/") + segment;
  }
  return rel;
}

void WriteNotBuiltPage(httplib::Response& res) {
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_content(
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>cutroom</title>"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>"
      "<body style=\"font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem\">"
      "<h1>cutroom is running</h1>"
      "<p>The API answers under <a href=\"/api/openapi.json\"><code>/api</code></a>, but the web UI has not been "
      "built.</p>"
      "<p>Build it from the source tree with <code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code> "
      "(or <code>scripts/build.sh</code>), then restart <code>cutroom serve</code>; or point the server at a built "
      "UI with <code>--set server.web_dir=/path/to/web/dist</code>.</p></body></html>",
      "text/html; charset=utf-8");
}

}  // namespace

std::string MimeTypeForPath(const std::string& path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".avif", "image/avif"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
      {".vtt", "text/vtt; charset=utf-8"},
  };
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return type;
  }
  return "application/octet-stream";
}

std::string WebUi::Locate(const Config& config) {
  std::string configured = config.GetString("server.web_dir");
  if (!configured.empty()) return HasIndex(configured) ? fs::absolute(configured).string() : "";
  std::string bin = BinaryDir();
  std::vector<std::string> candidates;
  if (!bin.empty()) {
    candidates.push_back(bin + "/../share/cutroom/web");
    candidates.push_back(bin + "/web");
  }
  candidates.push_back(CUTROOM_SOURCE_WEB_DIR);
  for (const auto& dir : candidates) {
    if (HasIndex(dir)) return fs::weakly_canonical(dir).string();
  }
  return "";
}

bool WebUi::Serve(const httplib::Request& req, httplib::Response& res) const {
  if (req.method != "GET" && req.method != "HEAD") return false;
  if (!IsUiPath(req.path)) return false;
  if (dir_.empty()) {
    if (req.path != "/" && req.path != "/index.html") return false;
    WriteNotBuiltPage(res);
    return true;
  }
  std::string rel = SafeRelativePath(req.path);
  if (rel.empty() && req.path != "/" && req.path.find_first_not_of('/') != std::string::npos) {
    WriteError(res, {404, "not_found", "no such file in the web UI"});
    return true;
  }
  if (rel.empty()) rel = "index.html";
  std::error_code ec;
  fs::path root = fs::path(dir_);
  fs::path file = root / rel;
  if (fs::is_regular_file(file, ec)) {
    // Symlinks may not lead out of the UI folder.
    fs::path real = fs::weakly_canonical(file, ec);
    fs::path real_root = fs::weakly_canonical(root, ec);
    auto [root_end, _] = std::mismatch(real_root.begin(), real_root.end(), real.begin(), real.end());
    if (ec || root_end != real_root.end()) {
      WriteError(res, {404, "not_found", "no such file in the web UI"});
      return true;
    }
    bool immutable = rel.rfind("assets/", 0) == 0;
    ServeFile(real.string(), immutable, req, res);
    return true;
  }
  // A client-side route (no extension): the app's shell.
  if (fs::path(rel).extension().empty()) {
    ServeFile((root / "index.html").string(), false, req, res);
    return true;
  }
  WriteError(res, {404, "not_found", "no such file in the web UI: " + req.path});
  return true;
}

void WebUi::ServeFile(const std::string& path, bool immutable, const httplib::Request& req,
                      httplib::Response& res) const {
  std::error_code ec;
  uintmax_t size = fs::file_size(path, ec);
  if (ec || size > kMaxUiFileBytes) {
    WriteError(res, {404, "not_found", "no such file in the web UI"});
    return;
  }
  std::ifstream in(path, std::ios::binary);
  std::string body(static_cast<size_t>(size), '\0');
  if (!in.read(body.data(), static_cast<std::streamsize>(size))) {
    WriteError(res, {500, "internal", "the web UI file could not be read"});
    return;
  }
  std::string mime = MimeTypeForPath(path);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  if (immutable) {
    res.set_header("Cache-Control", "public, max-age=31536000, immutable");
  } else {
    res.set_header("Cache-Control", "no-cache");
    std::string etag = "\"" + Sha256Hex(body).substr(0, 32) + "\"";
    res.set_header("ETag", etag);
    if (req.get_header_value("If-None-Match") == etag) {
      res.status = 304;
      return;
    }
  }
  if (mime.rfind("text/html", 0) == 0) {
    res.set_header("Content-Security-Policy", kUiContentSecurityPolicy);
    res.set_header("X-Frame-Options", "DENY");
  }
  res.status = 200;
  res.set_content(std::move(body), mime);
}

}  // namespace cutroom::api
