// The web UI's static files and media access tokens.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "api/media_token.h"
#include "server_fixture.h"
#include "api/web_ui.h"

namespace cutroom::api {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

class WebUiTest : public ServerFixture {
 protected:
  void ConfigureExtra(Config& config) override {
    web_ = fs::path(dir_.path()) / "ui";
    WriteFile(web_ / "index.html", "<!doctype html><title>cutroom</title>");
    WriteFile(web_ / "assets/app-3f2a1b.js", "console.log('ui')");
    WriteFile(web_ / "assets/app-3f2a1b.css", "body{}");
    WriteFile(web_ / "favicon.svg", "<svg/>");
    WriteFile(fs::path(dir_.path()) / "secret.txt", "do not serve");
    fs::create_symlink(fs::path(dir_.path()) / "secret.txt", web_ / "assets/leak.js");
    ASSERT_OK(config.Set("server.web_dir", web_.string()));
  }
  fs::path web_;
};

TEST_F(WebUiTest, ServesTheShellWithRevalidationAndAssetsForever) {
  auto index = client_->Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->body, "<!doctype html><title>cutroom</title>");
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index->get_header_value("Cache-Control"), "no-cache");
  std::string csp = index->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;
  // References play from where they live (their /stream redirects there).
  EXPECT_NE(csp.find("media-src 'self' blob: https: http:;"), std::string::npos) << csp;
  std::string etag = index->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  auto again = client_->Get("/", {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);

  auto js = client_->Get("/assets/app-3f2a1b.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(client_->Get("/assets/app-3f2a1b.css")->get_header_value("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(client_->Get("/favicon.svg")->get_header_value("Content-Type"), "image/svg+xml");
}

TEST_F(WebUiTest, ClientRoutesGetTheShellButApiPathsNever) {
  auto route = client_->Get("/videos/vid_123?t=4.5");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->status, 200);
  EXPECT_EQ(route->body, "<!doctype html><title>cutroom</title>");
  // A missing file with an extension is a 404, not the shell.
  auto missing = client_->Get("/assets/gone-123.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(ErrorCode(missing), "not_found");
  // The API keeps its own 404 (JSON, never the UI).
  auto api = client_->Get("/api/no-such-route");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 404);
  EXPECT_EQ(ErrorCode(api), "not_found");
  EXPECT_EQ(client_->Get("/healthz")->body.find("<!doctype"), std::string::npos);
  // Only GET and HEAD.
  auto post = client_->Post("/videos/x", "", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
}

TEST_F(WebUiTest, NothingOutsideTheUiFolderIsServed) {
  for (const char* path : {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/assets/leak.js",
                           "/.hidden", "/assets/..%2f..%2fsecret.txt"}) {
    std::string reply = RawRequest(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(reply.find("do not serve"), std::string::npos) << path;
    EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0) == 0 && reply.find("<!doctype") == std::string::npos, false) << path;
  }
}

class NoWebUiTest : public ServerFixture {
 protected:
  void ConfigureExtra(Config& config) override {
    ASSERT_OK(config.Set("server.web_dir", (fs::path(dir_.path()) / "not-built").string()));
  }
};

TEST_F(NoWebUiTest, RootSaysHowToBuildTheUi) {
  auto r = client_->Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("npm --prefix web"), std::string::npos);
  EXPECT_NE(r->body.find("server.web_dir"), std::string::npos);
  EXPECT_EQ(client_->Get("/videos/abc")->status, 404);
}

class MediaTokenTest : public ServerFixture {
 protected:
  KeyService keys() { return KeyService(db_.get(), env_, &ids_); }
  httplib::Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }
};

TEST_F(MediaTokenTest, ATokenReadsTheOwnersMediaOnlyAndOnlyWithGet) {
  auto alice = keys().CreateKey("alice", "");
  auto bob = keys().CreateKey("bob", "");
  ASSERT_TRUE(alice.ok() && bob.ok());
  auto a = AddMedia(alice->owner.owner_id);
  auto b = AddMedia(bob->owner.owner_id);
  EXPECT_EQ(client_->Get("/api/media-token")->status, 401);
  auto issued = Json(client_->Get("/api/media-token", Bearer(alice->key)));
  ASSERT_TRUE(issued["token"].is_string()) << issued.dump();
  EXPECT_EQ(issued["expires_in_s"], 3600);
  std::string token = issued["token"];

  EXPECT_EQ(client_->Get("/api/videos/" + a.video_id + "?access_token=" + token)->status, 200);
  EXPECT_EQ(client_->Get("/api/videos/" + a.video_id + "/stream?access_token=" + token)->status, 200);
  // Another owner's media stays invisible.
  EXPECT_EQ(client_->Get("/api/videos/" + b.video_id + "?access_token=" + token)->status, 404);
  // Read-only: a token never deletes or writes.
  auto del = client_->Delete("/api/videos/" + a.video_id + "?access_token=" + token);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 401);
  EXPECT_EQ(client_->Get("/api/videos/" + a.video_id, Bearer(alice->key))->status, 200);
  // A token altered anywhere is refused.
  std::string forged = token;
  forged[forged.size() - 1] = forged.back() == '0' ? '1' : '0';
  auto bad = client_->Get("/api/videos/" + a.video_id + "?access_token=" + forged);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  EXPECT_EQ(ErrorCode(bad), "unauthenticated");
  // It lapses after an hour.
  fake_env_.AdvanceMs(MediaTokens::kLifetimeMs + 1000);
  EXPECT_EQ(client_->Get("/api/videos/" + a.video_id + "?access_token=" + token)->status, 401);
}

TEST(MediaTokens, TheKeyIsCreatedOncePrivatelyAndTokensSurviveARestart) {
  cutroom::testing::TempDir dir;
  Config config = Config::Defaults();
  ASSERT_OK(config.Set("storage.data_dir", dir.path()));
  auto first = MediaTokens::Open(Env::Default(), config);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() + "/secrets/media-token.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto token = first->Issue("owner_1", 1'000'000);
  auto second = MediaTokens::Open(Env::Default(), config);
  ASSERT_TRUE(second.ok());
  auto owner = second->Verify(token.token, 1'000'000 + 1000);
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  EXPECT_EQ(*owner, "owner_1");
  EXPECT_FALSE(second->Verify("mt1.zz.1.00", 0).ok());
  EXPECT_FALSE(second->Verify("", 0).ok());
  // A configured secret is used as given (shared across servers).
  ASSERT_OK(config.Set("server.token_secret", "0123456789abcdef0123"));
  auto shared = MediaTokens::Open(Env::Default(), config);
  ASSERT_TRUE(shared.ok());
  EXPECT_FALSE(shared->Verify(token.token, 1'000'000).ok());
}

TEST(WebUiMime, TypesByExtension) {
  EXPECT_EQ(MimeTypeForPath("a/b.WOFF2"), "font/woff2");
  EXPECT_EQ(MimeTypeForPath("x.map"), "application/json");
  EXPECT_EQ(MimeTypeForPath("noext"), "application/octet-stream");
}

}  // namespace
}  // namespace cutroom::api
