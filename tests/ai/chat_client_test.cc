// ChatClient against a local OpenAI-compatible chat server that records
// every request and answers as each test tells it: canned completions,
// rate limits, server errors, refusals, garbage and stalls.
#include "ai/chat_client.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

#include "core/base64.h"
#include "support/test_support.h"

namespace cutroom::ai {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

nlohmann::json Completion(const std::string& text, const std::string& finish = "stop") {
  return {{"id", "chatcmpl-1"},
          {"object", "chat.completion"},
          {"model", "served-model"},
          {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}}, {"finish_reason", finish}}}},
          {"usage", {{"prompt_tokens", 31}, {"completion_tokens", 7}, {"total_tokens", 38}}}};
}

struct SeenRequest {
  std::string path;
  bool has_auth = false;
  std::string auth;
  std::string content_type;
  nlohmann::json body;
};

class FakeChatServer {
 public:
  // n: 1 for the first request. Default: a canned completion.
  using Responder = std::function<void(int n, const nlohmann::json& body, httplib::Response& res)>;

  FakeChatServer() {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      int n;
      Responder respond;
      nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
      {
        std::lock_guard lock(mu_);
        SeenRequest seen;
        seen.path = req.path;
        seen.has_auth = req.has_header("Authorization");
        seen.auth = req.get_header_value("Authorization");
        seen.content_type = req.get_header_value("Content-Type");
        seen.body = body;
        seen_.push_back(seen);
        n = static_cast<int>(seen_.size());
        respond = respond_;
        max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
      }
      if (respond) {
        respond(n, body, res);
      } else {
        res.set_content(Completion("hello").dump(), "application/json");
      }
      std::lock_guard lock(mu_);
      --in_flight_;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~FakeChatServer() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    release_.notify_all();
    server_.stop();
    thread_.join();
  }

  void Respond(Responder r) {
    std::lock_guard lock(mu_);
    respond_ = std::move(r);
  }

  // Holds a handler until `seconds` pass or the server is torn down.
  void Stall(double seconds) {
    std::unique_lock lock(mu_);
    release_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return released_; });
  }

  ChatOptions Options(const std::string& key = "sk-test") const {
    ChatOptions o;
    o.http.base_url = "http://127.0.0.1:" + std::to_string(port_) + "/v1";
    o.http.api_key = key;
    o.http.backoff_ms = 5;
    o.http.max_attempts = 3;
    o.http.timeout_s = 10;
    o.model = "text-model";
    o.vision_model = "vision-model";
    return o;
  }
  std::string BaseUrl() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

  std::vector<SeenRequest> Seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  int Requests() {
    std::lock_guard lock(mu_);
    return static_cast<int>(seen_.size());
  }
  int MaxInFlight() {
    std::lock_guard lock(mu_);
    return max_in_flight_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable release_;
  bool released_ = false;
  Responder respond_;
  std::vector<SeenRequest> seen_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
};

ChatRequest TextRequest(const std::string& question = "What is in the clip?") {
  ChatRequest r;
  r.messages = {{"system", "You describe video clips.", {}}, {"user", question, {}}};
  return r;
}

// Every byte value, so a base64 or escaping slip shows.
std::string BinaryImage(size_t size, unsigned seed) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + seed) & 0xff);
  return bytes;
}

TEST(ChatClient, SendsTextOnlyMessagesAsStringsAndParsesTheReply) {
  FakeChatServer server;
  ChatClient client(server.Options());
  ChatRequest request = TextRequest();
  request.temperature = 0.7;
  request.max_tokens = 99;
  auto reply = client.Complete(request);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->text, "hello");
  EXPECT_EQ(reply->model, "served-model");
  EXPECT_EQ(reply->finish_reason, "stop");
  EXPECT_EQ(reply->usage.prompt_tokens, 31);
  EXPECT_EQ(reply->usage.completion_tokens, 7);
  EXPECT_EQ(reply->usage.total_tokens, 38);

  auto seen = server.Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/v1/chat/completions");
  EXPECT_EQ(seen[0].auth, "Bearer sk-test");
  EXPECT_EQ(seen[0].content_type, "application/json");
  const auto& body = seen[0].body;
  ASSERT_TRUE(body.is_object()) << "request body is not JSON";
  EXPECT_EQ(body["model"], "text-model");
  EXPECT_DOUBLE_EQ(body["temperature"].get<double>(), 0.7);
  EXPECT_EQ(body["max_tokens"], 99);
  EXPECT_FALSE(body.contains("response_format"));
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0], (nlohmann::json{{"role", "system"}, {"content", "You describe video clips."}}));
  EXPECT_EQ(body["messages"][1], (nlohmann::json{{"role", "user"}, {"content", "What is in the clip?"}}));
}

TEST(ChatClient, SendsImagesAsDataUrlsThatDecodeToTheExactBytesToTheVisionModel) {
  FakeChatServer server;
  ChatClient client(server.Options());
  ChatRequest request = TextRequest("Describe these frames.");
  ChatImage jpeg;
  jpeg.bytes = BinaryImage(70'000, 7);
  ChatImage png;
  png.mime_type = "image/png";
  png.bytes = BinaryImage(1'001, 3);
  png.detail = "low";
  request.messages[1].images = {jpeg, png};
  request.response_format = {{"type", "json_object"}};
  auto reply = client.Complete(request);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();

  auto seen = server.Seen();
  ASSERT_EQ(seen.size(), 1u);
  const auto& body = seen[0].body;
  ASSERT_TRUE(body.is_object());
  EXPECT_EQ(body["model"], "vision-model");
  EXPECT_EQ(body["response_format"], (nlohmann::json{{"type", "json_object"}}));
  EXPECT_TRUE(body["messages"][0]["content"].is_string()) << "the image-free system message must stay a string";
  const auto& content = body["messages"][1]["content"];
  ASSERT_TRUE(content.is_array()) << body.dump();
  ASSERT_EQ(content.size(), 3u);
  EXPECT_EQ(content[0], (nlohmann::json{{"type", "text"}, {"text", "Describe these frames."}}));
  const ChatImage* sent[] = {&jpeg, &png};
  for (int i = 0; i < 2; ++i) {
    const auto& part = content[i + 1];
    EXPECT_EQ(part["type"], "image_url");
    std::string url = part["image_url"]["url"];
    std::string prefix = "data:" + sent[i]->mime_type + ";base64,";
    ASSERT_EQ(url.rfind(prefix, 0), 0u) << url.substr(0, 40);
    auto decoded = Base64Decode(url.substr(prefix.size()));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_TRUE(*decoded == sent[i]->bytes) << "image " << i << " came back different";
    EXPECT_EQ(part["image_url"]["detail"], sent[i]->detail);
  }
}

TEST(ChatClient, TheRequestsModelWinsAndTextOnlyRequestsUseTheTextModel) {
  FakeChatServer server;
  ChatOptions options = server.Options();
  options.vision_model.clear();
  ChatClient client(options);
  ChatRequest with_image = TextRequest();
  with_image.messages[1].images.push_back({"image/jpeg", "\xff\xd8\xff", "auto"});
  ASSERT_OK(client.Complete(with_image).status());  // no vision model: the text model
  ChatRequest named = TextRequest();
  named.model = "special";
  named.temperature = -1;
  named.max_tokens = 0;
  ASSERT_OK(client.Complete(named).status());
  auto seen = server.Seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].body["model"], "text-model");
  EXPECT_EQ(seen[1].body["model"], "special");
  EXPECT_FALSE(seen[1].body.contains("temperature"));
  EXPECT_FALSE(seen[1].body.contains("max_tokens"));
}

TEST(ChatClient, SendsNoAuthorizationHeaderWithoutAKey) {
  FakeChatServer server;
  ChatClient client(server.Options(""));
  ASSERT_OK(client.Complete(TextRequest()).status());
  auto seen = server.Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(seen[0].has_auth) << seen[0].auth;
}

TEST(ChatClient, RefusesRequestsItCannotSendWithoutCallingTheServer) {
  FakeChatServer server;
  ChatClient client(server.Options());
  EXPECT_TRUE(client.Complete(ChatRequest{}).status().IsInvalidArgument());
  ChatRequest no_role = TextRequest();
  no_role.messages[1].role.clear();
  EXPECT_TRUE(client.Complete(no_role).status().IsInvalidArgument());
  ChatRequest empty_image = TextRequest();
  empty_image.messages[1].images.push_back({});
  EXPECT_TRUE(client.Complete(empty_image).status().IsInvalidArgument());
  ChatOptions no_model = server.Options();
  no_model.model.clear();
  EXPECT_TRUE(ChatClient(no_model).Complete(TextRequest()).status().IsInvalidArgument());
  EXPECT_EQ(server.Requests(), 0);
}

TEST(ChatClient, RetriesARateLimitHonouringRetryAfter) {
  FakeChatServer server;
  auto rate_limit_odd_requests = [](std::string retry_after) {
    return [retry_after](int n, const nlohmann::json&, httplib::Response& res) {
      if (n % 2 == 1) {
        res.status = 429;
        res.set_header("Retry-After", retry_after);
        res.set_content(R"({"error":{"message":"rate limited"}})", "application/json");
        return;
      }
      res.set_content(Completion("after the wait").dump(), "application/json");
    };
  };
  server.Respond(rate_limit_odd_requests("0"));
  ChatClient client(server.Options());
  auto reply = client.Complete(TextRequest());
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->text, "after the wait");
  EXPECT_EQ(server.Requests(), 2);

  // Retry-After: 1 is waited out even though the backoff is 5 ms.
  server.Respond(rate_limit_odd_requests("1"));
  auto start = Clock::now();
  ASSERT_OK(client.Complete(TextRequest()).status());
  EXPECT_GE(SecondsSince(start), 0.95);
  EXPECT_EQ(server.Requests(), 4);
}

TEST(ChatClient, GivesUpOnServerErrorsAfterMaxAttempts) {
  FakeChatServer server;
  server.Respond([](int, const nlohmann::json&, httplib::Response& res) {
    res.status = 500;
    res.set_content(R"({"error":{"message":"model crashed"}})", "application/json");
  });
  ChatOptions options = server.Options();
  options.http.max_attempts = 4;
  auto reply = ChatClient(options).Complete(TextRequest());
  EXPECT_EQ(reply.status().code(), StatusCode::kUnavailable) << reply.status().ToString();
  EXPECT_NE(reply.status().message().find("model crashed"), std::string::npos) << reply.status().ToString();
  EXPECT_EQ(server.Requests(), 4);
}

TEST(ChatClient, AServerSlowerThanTheTimeoutFailsPromptlyWithoutRetrying) {
  FakeChatServer server;
  server.Respond([&server](int, const nlohmann::json&, httplib::Response& res) {
    server.Stall(20);
    res.set_content(Completion("too late").dump(), "application/json");
  });
  ChatOptions options = server.Options();
  options.http.timeout_s = 1;
  auto start = Clock::now();
  auto reply = ChatClient(options).Complete(TextRequest());
  double took = SecondsSince(start);
  EXPECT_EQ(reply.status().code(), StatusCode::kIOError) << reply.status().ToString();
  EXPECT_NE(reply.status().message().find("within 1 s"), std::string::npos) << reply.status().ToString();
  EXPECT_LT(took, 2.5);
  EXPECT_EQ(server.Requests(), 1);
}

TEST(ChatClient, ANonJsonReplyIsCorruption) {
  FakeChatServer server;
  server.Respond([](int, const nlohmann::json&, httplib::Response& res) {
    res.set_content("<html>\x01\xff bad gateway</html>", "text/html");
  });
  auto reply = ChatClient(server.Options()).Complete(TextRequest());
  EXPECT_TRUE(reply.status().IsCorruption()) << reply.status().ToString();
  EXPECT_NE(reply.status().message().find("<html>"), std::string::npos) << reply.status().ToString();
  // The quoted reply is valid UTF-8, so the message can travel as JSON.
  EXPECT_NO_THROW((void)nlohmann::json(reply.status().message()).dump());
}

TEST(ChatClient, RepliesWithoutChoicesOrContentAreCorruptionSayingWhatArrived) {
  FakeChatServer server;
  server.Respond([](int n, const nlohmann::json&, httplib::Response& res) {
    nlohmann::json reply = Completion("");
    if (n == 1) reply["choices"] = nlohmann::json::array();
    if (n == 2) reply["choices"][0].erase("message");
    if (n == 3) reply["choices"][0]["finish_reason"] = "length";  // content ""
    if (n == 4) reply["choices"][0]["message"]["content"] = nullptr;
    if (n == 4) reply["choices"][0]["message"]["refusal"] = "I can't help with that.";
    res.set_content(reply.dump(), "application/json");
  });
  ChatClient client(server.Options());
  auto no_choices = client.Complete(TextRequest());
  EXPECT_TRUE(no_choices.status().IsCorruption());
  EXPECT_NE(no_choices.status().message().find("no choices"), std::string::npos) << no_choices.status().ToString();
  EXPECT_NE(no_choices.status().message().find("chatcmpl-1"), std::string::npos) << no_choices.status().ToString();
  auto no_message = client.Complete(TextRequest());
  EXPECT_TRUE(no_message.status().IsCorruption());
  EXPECT_NE(no_message.status().message().find("no message"), std::string::npos) << no_message.status().ToString();
  auto empty = client.Complete(TextRequest());
  EXPECT_TRUE(empty.status().IsCorruption());
  EXPECT_NE(empty.status().message().find("empty content (finish_reason length)"), std::string::npos)
      << empty.status().ToString();
  auto refused = client.Complete(TextRequest());
  EXPECT_TRUE(refused.status().IsCorruption());
  EXPECT_NE(refused.status().message().find("I can't help with that."), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(server.Requests(), 4);  // none of these is retried
}

TEST(ChatClient, ABadRequestIsInvalidArgumentWithTheServicesMessageAndNotRetried) {
  FakeChatServer server;
  server.Respond([](int, const nlohmann::json&, httplib::Response& res) {
    res.status = 400;
    res.set_content(R"({"error":{"message":"Invalid image_url: unsupported MIME type","type":"invalid_request_error",)"
                    R"("param":null,"code":null}})",
                    "application/json");
  });
  auto reply = ChatClient(server.Options()).Complete(TextRequest());
  EXPECT_TRUE(reply.status().IsInvalidArgument()) << reply.status().ToString();
  EXPECT_NE(reply.status().message().find("Invalid image_url: unsupported MIME type"), std::string::npos)
      << reply.status().ToString();
  EXPECT_EQ(server.Requests(), 1);
}

TEST(ChatClient, CopiesShareTheConcurrencyLimit) {
  FakeChatServer server;
  server.Respond([](int, const nlohmann::json&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    res.set_content(Completion("done").dump(), "application/json");
  });
  ChatOptions options = server.Options();
  options.concurrency = 2;
  ChatClient client(options);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([client, &ok] {  // each thread its own copy
      if (client.Complete(TextRequest()).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(server.Requests(), 6);
  EXPECT_EQ(server.MaxInFlight(), 2);  // never more, and the two slots were used
  EXPECT_GE(SecondsSince(start), 3 * 0.15 - 0.01);
}

TEST(ChatClient, FromConfigNeedsABaseUrlAndAModel) {
  Config config = Config::Defaults();
  EXPECT_FALSE(ChatClient::Configured(config));
  auto none = ChatClient::FromConfig(config);
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(none.status().message().rfind("llm_not_configured:", 0), 0u) << none.status().ToString();
  ASSERT_OK(config.Set("llm.base_url", "http://127.0.0.1:1/v1"));
  EXPECT_FALSE(ChatClient::Configured(config));
  EXPECT_EQ(ChatClient::FromConfig(config).status().message().rfind("llm_not_configured:", 0), 0u);
  ASSERT_OK(config.Set("llm.model", "m"));
  EXPECT_TRUE(ChatClient::Configured(config));
  ASSERT_OK(config.Set("llm.concurrency", "0"));
  auto bad = ChatClient::FromConfig(config);
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("llm.concurrency"), std::string::npos) << bad.status().ToString();
}

TEST(ChatClient, FromConfigReadsTheKeyFromTheNamedVariableAndTheLimits) {
  FakeChatServer server;
  std::string var = "CUTROOM_CHAT_TEST_KEY_" + std::to_string(::getpid());
  ASSERT_EQ(::setenv(var.c_str(), "sk-from-env\n", 1), 0);
  Config config = Config::Defaults();
  EXPECT_EQ(config.GetInt("llm.timeout_s"), 120);
  EXPECT_EQ(config.GetInt("llm.concurrency"), 2);
  EXPECT_EQ(config.GetInt("llm.max_attempts"), 4);
  ASSERT_OK(config.Set("llm.base_url", server.BaseUrl() + "/"));
  ASSERT_OK(config.Set("llm.model", "llama3.2"));
  ASSERT_OK(config.Set("llm.vision_model", "llava"));
  ASSERT_OK(config.Set("llm.api_key_env", var));
  ASSERT_OK(config.Set("llm.timeout_s", "7"));
  ASSERT_OK(config.Set("llm.concurrency", "3"));
  ASSERT_OK(config.Set("llm.max_attempts", "5"));
  auto client = ChatClient::FromConfig(config);
  ::unsetenv(var.c_str());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const ChatOptions& o = client->options();
  EXPECT_EQ(o.http.base_url, server.BaseUrl());
  EXPECT_EQ(o.http.api_key, "sk-from-env");
  EXPECT_EQ(o.http.timeout_s, 7);
  EXPECT_EQ(o.http.max_attempts, 5);
  EXPECT_EQ(o.concurrency, 3);
  EXPECT_EQ(o.model, "llama3.2");
  EXPECT_EQ(o.vision_model, "llava");
  ASSERT_OK(client->Complete(TextRequest()).status());
  auto seen = server.Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].auth, "Bearer sk-from-env");
  EXPECT_EQ(seen[0].body["model"], "llama3.2");
}

TEST(ParseJsonReply, AcceptsABareObject) {
  auto j = ParseJsonReply("  {\"title\": \"Launch\", \"score\": 8}\n");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["score"], 8);
}

TEST(ParseJsonReply, TakesTheObjectOutOfAFence) {
  auto j = ParseJsonReply("Here you go:\n```json\n{\"title\": \"a } in a string\", \"tags\": [\"x\"]}\n```\nEnjoy!");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["title"], "a } in a string");
  auto plain = ParseJsonReply("```\n{\"a\": 1}\n```");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ((*plain)["a"], 1);
}

TEST(ParseJsonReply, FindsTheObjectInProseSkippingBracesThatAreNotJson) {
  auto j = ParseJsonReply(
      "Sure! I looked at {the frames} carefully. The answer is {\"clips\": [{\"start\": 1.5, \"end\": 9}], "
      "\"note\": \"uses \\\"quotes\\\" and {braces}\"} -- hope that helps.");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  ASSERT_EQ((*j)["clips"].size(), 1u);
  EXPECT_EQ((*j)["clips"][0]["end"], 9);
  EXPECT_EQ((*j)["note"], "uses \"quotes\" and {braces}");
}

TEST(ParseJsonReply, IgnoresReasoningBlocks) {
  auto j = ParseJsonReply("<think>Maybe {\"wrong\": true}? No.</think>\n{\"right\": true}");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_TRUE(j->contains("right"));
  EXPECT_FALSE(j->contains("wrong"));
}

TEST(ParseJsonReply, TextWithoutAnObjectIsCorruption) {
  for (const char* text : {"", "I cannot describe this image.", "[1, 2, 3]", "{\"cut off\": [1, 2", "{not json}"}) {
    auto j = ParseJsonReply(text);
    EXPECT_TRUE(j.status().IsCorruption()) << text << " -> " << (j.ok() ? j->dump() : j.status().ToString());
  }
}

}  // namespace
}  // namespace cutroom::ai
