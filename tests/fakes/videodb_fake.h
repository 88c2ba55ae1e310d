// Starts tests/fakes/videodb_server.py (a local stand-in for VideoDB's
// API, Python standard library only) on an ephemeral loopback port for one
// test, and talks to its test controls. The process is killed when the
// object goes.
//
// Keys: the fake accepts "test-key"; "quota-key" answers every POST with a
// quota refusal (402); any other key is refused (401). Tests point
// videodb.api_key_env at one of the variables set by SetVideoDbTestKeys().
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/config.h"
#include "support/test_support.h"

extern char** environ;

namespace cutroom::testing {

inline constexpr const char* kVideoDbGoodKeyEnv = "CUTROOM_TEST_VIDEODB_KEY";
inline constexpr const char* kVideoDbBadKeyEnv = "CUTROOM_TEST_VIDEODB_BAD_KEY";
inline constexpr const char* kVideoDbQuotaKeyEnv = "CUTROOM_TEST_VIDEODB_QUOTA_KEY";
inline constexpr const char* kVideoDbUnsetKeyEnv = "CUTROOM_TEST_VIDEODB_NO_SUCH_KEY";

// Sets the key variables; call before any thread reads the environment.
inline void SetVideoDbTestKeys() {
  ::setenv(kVideoDbGoodKeyEnv, "test-key", 1);
  ::setenv(kVideoDbBadKeyEnv, "wrong-key", 1);
  ::setenv(kVideoDbQuotaKeyEnv, "quota-key", 1);
  ::unsetenv(kVideoDbUnsetKeyEnv);
}

class FakeVideoDb {
 public:
  FakeVideoDb() {
    std::string script = SourceDir() + "/tests/fakes/videodb_server.py";
    // Debian's interpreter starts faster than a version-manager shim.
    std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    int out[2];
    if (::pipe(out) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<std::string> args = {python, "-u", script, "--key", "test-key", "--quota-key", "quota-key"};
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
    // "PORT <n>\n" once it listens.
    std::string line;
    pollfd p{out[0], POLLIN, 0};
    while (line.find('\n') == std::string::npos && ::poll(&p, 1, 15000) > 0) {
      char buf[64];
      ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    ::close(out[0]);
    if (line.rfind("PORT ", 0) == 0) port_ = std::atoi(line.c_str() + 5);
  }
  ~FakeVideoDb() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  FakeVideoDb(const FakeVideoDb&) = delete;
  FakeVideoDb& operator=(const FakeVideoDb&) = delete;

  bool running() const { return port_ > 0; }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Merges settings into the fake's behaviour (see the script's docstring).
  void Set(const nlohmann::json& settings) {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Post("/_fake/config", settings.dump(), "application/json");
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer from the fake");
  }
  // Every API request the fake has seen, oldest first.
  nlohmann::json Requests() {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get("/_fake/requests");
    if (!r || r->status != 200) return nlohmann::json::array();
    return nlohmann::json::parse(r->body)["data"];
  }
  // Requests whose method and path match (path without a trailing slash).
  nlohmann::json RequestsTo(const std::string& method, const std::string& path_prefix) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : Requests()) {
      if (r["method"] == method && r["path"].get<std::string>().rfind(path_prefix, 0) == 0) out.push_back(r);
    }
    return out;
  }

  // Points videodb.* at the fake with quick polls and retries.
  void Configure(Config& config, const std::string& key_env = kVideoDbGoodKeyEnv) const {
    ASSERT_OK(config.Set("videodb.base_url", base_url()));
    ASSERT_OK(config.Set("videodb.api_key_env", key_env));
    ASSERT_OK(config.Set("videodb.poll_ms", "20"));
    ASSERT_OK(config.Set("videodb.wait_s", "20"));
    ASSERT_OK(config.Set("videodb.max_attempts", "3"));
    ASSERT_OK(config.Set("videodb.timeout_s", "10"));
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace cutroom::testing
