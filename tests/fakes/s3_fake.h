// Starts tests/fakes/s3_fault_proxy.py, which starts s3rver (npm, installed
// by scripts/install-deps.sh into tests/fakes/s3rver) with one bucket and
// stands in front of it: it checks every SigV4 signature (s3rver does not),
// answers AbortMultipartUpload and ListMultipartUploads from s3rver's upload
// folders (s3rver 3 lacks them) and injects faults on request. Both
// processes go when the object does.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "storage/s3_blob_store.h"
#include "support/test_support.h"

extern char** environ;

namespace cutroom::testing {

class FakeS3 {
 public:
  static constexpr const char* kAccessKey = "S3RVER";  // s3rver's built-in account
  static constexpr const char* kSecretKey = "S3RVER";

  static std::string S3rverPath() { return SourceDir() + "/tests/fakes/s3rver/node_modules/.bin/s3rver"; }

  explicit FakeS3(std::string bucket = "cutroom-test") : bucket_(std::move(bucket)) {
    if (!std::filesystem::exists(S3rverPath())) return;
    std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    std::vector<std::string> args = {python, "-u", SourceDir() + "/tests/fakes/s3_fault_proxy.py", "--s3rver",
                                     S3rverPath(), "--dir", dir_.File("s3rver"), "--bucket", bucket_};
    int out[2];
    if (::pipe(out) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
      pid_ = -1;
      ::close(out[0]);
      return;
    }
    std::string line;
    pollfd p{out[0], POLLIN, 0};
    while (line.find('\n') == std::string::npos && ::poll(&p, 1, 30000) > 0) {
      char buf[64];
      ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    ::close(out[0]);
    if (line.rfind("PORT ", 0) == 0) port_ = std::atoi(line.c_str() + 5);
  }
  ~FakeS3() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  FakeS3(const FakeS3&) = delete;
  FakeS3& operator=(const FakeS3&) = delete;

  bool running() const { return port_ > 0; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& bucket() const { return bucket_; }

  // Store options pointing at this server (path style, s3rver's account),
  // staging under staging_dir.
  storage::S3StoreOptions Options(const std::string& staging_dir, const std::string& prefix = "cutroom") const {
    storage::S3StoreOptions o;
    o.client.endpoint = endpoint();
    o.client.bucket = bucket_;
    o.client.path_style = true;
    o.client.credentials = {kAccessKey, kSecretKey, ""};
    o.prefix = prefix;
    o.staging_dir = staging_dir;
    return o;
  }

  // The next `times` requests of kind op (UploadPart, PutObject, GetObject,
  // CompleteMultipartUpload, AbortMultipartUpload, ...) fail with status
  // (0: the connection is dropped without a reply).
  void Fault(const std::string& op, int status, int times) {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Post(("/__fault?op=" + op + "&status=" + std::to_string(status) + "&times=" + std::to_string(times)).c_str(),
                    "", "text/plain");
    ASSERT_TRUE(r && r->status == 200);
  }
  // S3 requests seen so far, by kind.
  int Count(const std::string& op) {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get("/__stats");
    if (!r || r->status != 200) return -1;
    auto j = nlohmann::json::parse(r->body);
    return j.contains(op) ? j[op].get<int>() : 0;
  }
  void Reset() {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Post("/__reset", "", "text/plain");
    ASSERT_TRUE(r && r->status == 200);
  }
  // Multipart uploads s3rver still holds (started, neither completed nor
  // aborted), read from its own folder: parts that would be billed.
  size_t UnfinishedUploads() const {
    std::string dir = dir_.File("s3rver") + "/" + bucket_ + "/._S3rver_uploads";
    size_t n = 0;
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) return 0;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) n += e.is_directory() ? 1 : 0;
    return n;
  }

 private:
  std::string bucket_;
  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Skips the test, saying how to get s3rver, when it is not installed.
#define REQUIRE_S3RVER(fake)                                                                              \
  if (!std::filesystem::exists(::cutroom::testing::FakeS3::S3rverPath()))                                 \
    GTEST_SKIP() << "s3rver is not installed (scripts/install-deps.sh puts it in tests/fakes/s3rver)"; \
  ASSERT_TRUE((fake).running()) << "the S3 test server did not start"

}  // namespace cutroom::testing
