// A local OpenAI-compatible chat server for the describe tests: records
// every request's JSON body and answers with what the test's responder
// says (a canned description by default).
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "ai/chat_client.h"
#include "core/base64.h"
#include "core/config.h"
#include "support/test_support.h"

namespace cutroom::analysis::testing {

inline nlohmann::json ChatCompletion(const std::string& text, const std::string& model = "fake-vision-1") {
  return {{"id", "chatcmpl-1"},
          {"object", "chat.completion"},
          {"model", model},
          {"choices",
           {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}}, {"finish_reason", "stop"}}}},
          {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 10}, {"total_tokens", 110}}}};
}

class FakeVisionServer {
 public:
  // n: 1 for the first request. Returns the reply's JSON body.
  using Responder = std::function<nlohmann::json(int n, const nlohmann::json& request)>;

  FakeVisionServer() {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
      Responder respond;
      int n;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(body);
        n = static_cast<int>(requests_.size());
        respond = respond_;
      }
      nlohmann::json reply = respond ? respond(n, body) : ChatCompletion("A frame of a test video.");
      res.set_content(reply.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~FakeVisionServer() {
    server_.stop();
    thread_.join();
  }

  void Respond(Responder r) {
    std::lock_guard lock(mu_);
    respond_ = std::move(r);
  }
  std::vector<nlohmann::json> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

  // Points llm.* at this server.
  void Configure(Config& config) const {
    ASSERT_OK(config.Set("llm.base_url", "http://127.0.0.1:" + std::to_string(port_) + "/v1"));
    ASSERT_OK(config.Set("llm.model", "fake-vision-1"));
    ASSERT_OK(config.Set("llm.api_key_env", "CUTROOM_TEST_NO_SUCH_KEY"));
    ASSERT_OK(config.Set("llm.max_attempts", "1"));
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  Responder respond_;
  std::vector<nlohmann::json> requests_;
};

// The images in a chat request body: the decoded bytes of its
// data:image/jpeg;base64 URLs, in order. A URL of another form is an empty
// string (and fails the JPEG checks of the tests).
inline std::vector<std::string> ImagesOf(const nlohmann::json& request) {
  static const std::string kPrefix = "data:image/jpeg;base64,";
  std::vector<std::string> out;
  if (!request.contains("messages")) return out;
  for (const auto& m : request["messages"]) {
    if (!m.contains("content") || !m["content"].is_array()) continue;
    for (const auto& part : m["content"]) {
      if (part.value("type", "") != "image_url") continue;
      std::string url = part["image_url"].value("url", "");
      auto bytes = url.rfind(kPrefix, 0) == 0 ? Base64Decode(url.substr(kPrefix.size())) : Result<std::string>(std::string());
      out.push_back(bytes.ok() ? *bytes : "");
    }
  }
  return out;
}

// The text parts of a chat request's messages, joined.
inline std::string PromptOf(const nlohmann::json& request) {
  std::string text;
  if (!request.contains("messages")) return text;
  for (const auto& m : request["messages"]) {
    if (m.contains("content") && m["content"].is_string()) text += m["content"].get<std::string>();
    if (m.contains("content") && m["content"].is_array()) {
      for (const auto& part : m["content"]) {
        if (part.value("type", "") == "text") text += part.value("text", "");
      }
    }
  }
  return text;
}

}  // namespace cutroom::analysis::testing
