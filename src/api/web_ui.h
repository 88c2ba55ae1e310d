// WebUi: serves the built web UI (web/dist) at "/" beside the API.
//
// Files come only from inside the UI directory: paths with "..", empty or
// hidden segments, or that resolve (through symlinks) outside it are
// refused. Hashed assets under /assets/ are cached forever; index.html is
// revalidated on every load (its ETag changes with every build). A path
// without a file extension that is not a file is a client-side route and
// gets index.html (SPA fallback); /api, /healthz, /readyz and /metrics are
// never answered here. Without a built UI, "/" answers a short page that
// says how to build one.
// Thread-safety: immutable after Open; Serve may run on any thread.
#pragma once

#include <httplib.h>

#include <string>

#include "core/config.h"

namespace cutroom::api {

class WebUi {
 public:
  // dir: the built UI (a folder holding index.html); "" when none was found.
  explicit WebUi(std::string dir) : dir_(std::move(dir)) {}

  // The UI folder: server.web_dir when set, else the first of
  // <binary>/../share/cutroom/web, <binary>/web and the source tree's
  // web/dist that holds an index.html; "" when none does.
  static std::string Locate(const Config& config);

  // Answers a GET/HEAD for a non-API path. Returns false when the request is
  // not the UI's to answer (API paths, other methods).
  bool Serve(const httplib::Request& req, httplib::Response& res) const;

  const std::string& dir() const { return dir_; }

 private:
  void ServeFile(const std::string& path, bool immutable, const httplib::Request& req,
                 httplib::Response& res) const;

  std::string dir_;
};

// The Content-Type for a file name, by extension (octet-stream when unknown).
std::string MimeTypeForPath(const std::string& path);

}  // namespace cutroom::api
