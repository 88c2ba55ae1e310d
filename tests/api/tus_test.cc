// The tus 1.0.0 endpoint against its checklist: every status code the
// protocol and its extensions define, over a real loopback server.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <fstream>

#include "core/base64.h"
#include "core/hash.h"
#include "server_fixture.h"

namespace cutroom::api {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TestMedia;

const httplib::Headers kTus = {{"Tus-Resumable", "1.0.0"}};

class Tus : public ServerFixture {
 protected:
  void ConfigureExtra(Config& c) override {
    ASSERT_OK(c.Set("ingest.max_upload_bytes", std::to_string(4 << 20)));
    ASSERT_OK(c.Set("ingest.upload_expiry_s", "3600"));
    ASSERT_OK(c.Set("ingest.sweep_interval_s", "1"));
    ASSERT_OK(c.Set("ingest.upload_durable_every_mb", "1"));
  }

  // Creates an upload; returns its path ("/api/uploads/upl_...").
  std::string Create(std::optional<uint64_t> length, const std::string& metadata = "") {
    httplib::Headers h = kTus;
    if (length) {
      h.emplace("Upload-Length", std::to_string(*length));
    } else {
      h.emplace("Upload-Defer-Length", "1");
    }
    if (!metadata.empty()) h.emplace("Upload-Metadata", metadata);
    auto r = client_->Post("/api/uploads/", h, "", "");
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 201) << r->body;
    return r->get_header_value("Location");
  }

  httplib::Result Patch(const std::string& path, uint64_t offset, const std::string& data,
                        httplib::Headers extra = {}) {
    httplib::Headers h = kTus;
    h.emplace("Upload-Offset", std::to_string(offset));
    for (auto& kv : extra) h.emplace(kv);
    return client_->Patch(path, h, data, "application/offset+octet-stream");
  }

  httplib::Result Head(const std::string& path) { return client_->Head(path, kTus); }

  std::string PartFile(const std::string& path) {
    return dir_.File("uploads/" + path.substr(path.find_last_of('/') + 1) + ".part");
  }
};

TEST_F(Tus, OptionsAdvertisesVersionExtensionsLimitsAndChecksums) {
  auto r = client_->Options("/api/uploads/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->get_header_value("Tus-Version"), "1.0.0");
  EXPECT_EQ(r->get_header_value("Tus-Resumable"), "1.0.0");
  std::string ext = r->get_header_value("Tus-Extension");
  for (const char* e : {"creation", "creation-with-upload", "creation-defer-length", "expiration", "checksum",
                        "termination"}) {
    EXPECT_NE(ext.find(e), std::string::npos) << e;
  }
  EXPECT_EQ(r->get_header_value("Tus-Max-Size"), std::to_string(4 << 20));
  EXPECT_EQ(r->get_header_value("Tus-Checksum-Algorithm"), "sha1,md5,sha256");
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Headers").find("Upload-Checksum"), std::string::npos);
  EXPECT_NE(r->get_header_value("Access-Control-Expose-Headers").find("Upload-Offset"), std::string::npos);
}

TEST_F(Tus, ChunkedUploadBecomesMediaWithItsVideoId) {
  std::string content = ReadFile(TestMedia("small.mp4"));
  std::string path = Create(content.size(), "filename " + Base64Encode("talk.mp4") + ",title " + Base64Encode("Talk"));
  ASSERT_EQ(path.rfind("/api/uploads/upl_", 0), 0u) << path;
  auto head = Head(path);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->get_header_value("Upload-Offset"), "0");
  EXPECT_EQ(head->get_header_value("Upload-Length"), std::to_string(content.size()));
  EXPECT_EQ(head->get_header_value("Cache-Control"), "no-store");
  EXPECT_FALSE(head->get_header_value("Upload-Expires").empty());
  EXPECT_NE(head->get_header_value("Upload-Metadata").find(Base64Encode("talk.mp4")), std::string::npos);

  size_t chunk = content.size() / 3 + 1;
  std::string video_id;
  for (size_t off = 0; off < content.size(); off += chunk) {
    auto r = Patch(path, off, content.substr(off, chunk));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 204) << r->body;
    EXPECT_EQ(r->get_header_value("Upload-Offset"), std::to_string(std::min(off + chunk, content.size())));
    video_id = r->get_header_value("Cutroom-Video-Id");
  }
  ASSERT_EQ(video_id.rfind("vid_", 0), 0u);
  auto v = Json(client_->Get("/api/videos/" + video_id));
  EXPECT_EQ(v["sha256"], Sha256Hex(content));
  EXPECT_EQ(v["status"], "ready");
  EXPECT_EQ(v["original_filename"], "talk.mp4");
  EXPECT_EQ(v["title"], "Talk");
  EXPECT_EQ(CountRows("upload_chunks"), 3);
  EXPECT_FALSE(std::filesystem::exists(PartFile(path)));
  auto done = Head(path);
  EXPECT_EQ(done->get_header_value("Upload-Offset"), std::to_string(content.size()));
  EXPECT_EQ(done->get_header_value("Cutroom-Video-Id"), video_id);
  EXPECT_EQ(Patch(path, content.size(), "x")->status, 409);
}

TEST_F(Tus, RequestsWithoutTusResumableAre412) {
  std::string path = Create(100);
  auto check = [](const httplib::Result& r) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 412);
    EXPECT_EQ(r->get_header_value("Tus-Version"), "1.0.0");
  };
  check(client_->Post("/api/uploads/", {{"Upload-Length", "10"}}, "", ""));
  check(client_->Head(path));
  check(client_->Patch(path, {{"Upload-Offset", "0"}}, "abc", "application/offset+octet-stream"));
  check(client_->Delete(path, {{"Tus-Resumable", "0.2.2"}}));
}

TEST_F(Tus, MalformedHeadersAre400) {
  auto post = [&](httplib::Headers extra) {
    httplib::Headers h = kTus;
    for (auto& kv : extra) h.emplace(kv);
    return client_->Post("/api/uploads/", h, "", "")->status;
  };
  EXPECT_EQ(post({}), 400);                                                   // no length at all
  EXPECT_EQ(post({{"Upload-Length", "10"}, {"Upload-Defer-Length", "1"}}), 400);  // both
  EXPECT_EQ(post({{"Upload-Length", "-5"}}), 400);
  EXPECT_EQ(post({{"Upload-Length", "ten"}}), 400);
  EXPECT_EQ(post({{"Upload-Defer-Length", "2"}}), 400);
  EXPECT_EQ(post({{"Upload-Length", "10"}, {"Upload-Metadata", "filename %%%"}}), 400);
  std::string path = Create(100);
  EXPECT_EQ(Patch(path, 0, "abc", {{"Upload-Checksum", "crc32 AAAA"}})->status, 400);
  auto bad_offset = client_->Patch(path, {{"Tus-Resumable", "1.0.0"}, {"Upload-Offset", "x"}}, "a",
                                   "application/offset+octet-stream");
  EXPECT_EQ(bad_offset->status, 400);
  EXPECT_EQ(ErrorCode(bad_offset), "invalid_argument");
  EXPECT_EQ(bad_offset->get_header_value("Tus-Resumable"), "1.0.0");  // errors keep tus headers
}

TEST_F(Tus, UnknownUploadsAre404) {
  std::string path = "/api/uploads/upl_00000000000000000000000000";
  EXPECT_EQ(Head(path)->status, 404);
  EXPECT_EQ(Patch(path, 0, "x")->status, 404);
  EXPECT_EQ(client_->Delete(path, kTus)->status, 404);
  EXPECT_EQ(Head("/api/uploads/../../etc/passwd")->status, 404);
}

TEST_F(Tus, WrongOffsetsAre409AndSayWhereTheUploadStands) {
  std::string path = Create(100);
  ASSERT_EQ(Patch(path, 0, std::string(10, 'a'))->status, 204);
  auto r = Patch(path, 5, std::string(10, 'b'));
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(ErrorCode(r), "conflict");
  EXPECT_EQ(r->get_header_value("Upload-Offset"), "10");
}

TEST_F(Tus, ExpiredUploadsAre410AndTheSweeperRemovesTheirData) {
  std::string idle = Create(100);
  std::string touched = Create(100);
  ASSERT_EQ(Patch(idle, 0, "abc")->status, 204);
  ASSERT_TRUE(std::filesystem::exists(PartFile(idle)));
  fake_env_.AdvanceMs(3600 * 1000 + 1);
  // The sweeper runs every second of real time and sees the moved clock.
  for (int i = 0; i < 300 && std::filesystem::exists(PartFile(idle)); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(std::filesystem::exists(PartFile(idle)));
  EXPECT_EQ(Head(idle)->status, 410);
  auto r = Patch(touched, 0, "abc");
  EXPECT_EQ(r->status, 410);
  EXPECT_EQ(ErrorCode(r), "gone");
}

TEST_F(Tus, DataBeyondTheLimitsIs413) {
  auto r = client_->Post("/api/uploads/", {{"Tus-Resumable", "1.0.0"}, {"Upload-Length", std::to_string(5 << 20)}},
                         "", "");
  EXPECT_EQ(r->status, 413);
  std::string path = Create(10);
  auto over = Patch(path, 0, std::string(11, 'x'));
  EXPECT_EQ(over->status, 413);
  EXPECT_EQ(Head(path)->get_header_value("Upload-Offset"), "0");
}

TEST_F(Tus, PatchNeedsTheOffsetOctetStreamType) {
  std::string path = Create(10);
  auto r = client_->Patch(path, {{"Tus-Resumable", "1.0.0"}, {"Upload-Offset", "0"}}, "abc", "text/plain");
  EXPECT_EQ(r->status, 415);
}

TEST_F(Tus, AFinishedUploadThatIsNotMediaIs415AndKeepsNothing) {
  std::string junk = "this is a text file pretending to be a video";
  std::string path = Create(junk.size(), "filename " + Base64Encode("movie.mp4"));
  auto r = Patch(path, 0, junk);
  EXPECT_EQ(r->status, 415);
  EXPECT_EQ(ErrorCode(r), "unsupported_media_type");
  EXPECT_EQ(CountRows("media"), 0);
  EXPECT_FALSE(std::filesystem::exists(PartFile(path)));
  EXPECT_EQ(Head(path)->status, 410);
}

TEST_F(Tus, ChecksumMismatchIs460AndLeavesTheOffsetUnchanged) {
  std::string path = Create(100);
  std::string chunk = "0123456789";
  auto bad = Patch(path, 0, chunk, {{"Upload-Checksum", "sha1 " + Base64Encode(std::string(20, '\0'))}});
  EXPECT_EQ(bad->status, 460);
  EXPECT_EQ(ErrorCode(bad), "checksum_mismatch");
  EXPECT_EQ(Head(path)->get_header_value("Upload-Offset"), "0");
  for (const char* algo : {"sha1", "md5", "sha256"}) {
    uint64_t offset = std::stoull(Head(path)->get_header_value("Upload-Offset"));
    auto d = Digest::Create(algo);
    d->Update(chunk.data(), chunk.size());
    auto good = Patch(path, offset, chunk, {{"Upload-Checksum", std::string(algo) + " " + Base64Encode(d->FinishRaw())}});
    EXPECT_EQ(good->status, 204) << algo << good->body;
  }
  EXPECT_EQ(Head(path)->get_header_value("Upload-Offset"), "30");
  auto rows = db_->Query("SELECT checksum FROM upload_chunks ORDER BY \"offset\"", {});
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ(rows->Text(0, "checksum")->rfind("sha1 ", 0), 0u);
}

TEST_F(Tus, TerminationDeletesTheUpload) {
  std::string path = Create(100);
  ASSERT_EQ(Patch(path, 0, "abc")->status, 204);
  auto r = client_->Delete(path, kTus);
  EXPECT_EQ(r->status, 204);
  EXPECT_FALSE(std::filesystem::exists(PartFile(path)));
  EXPECT_EQ(Head(path)->status, 404);
  EXPECT_EQ(Patch(path, 3, "def")->status, 404);
}

TEST_F(Tus, CreationWithUploadStoresTheFirstChunk) {
  std::string content = ReadFile(TestMedia("small.mp4"));
  httplib::Headers h = kTus;
  h.emplace("Upload-Length", std::to_string(content.size()));
  auto r = client_->Post("/api/uploads/", h, content.substr(0, 1000), "application/offset+octet-stream");
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(r->get_header_value("Upload-Offset"), "1000");
  std::string path = r->get_header_value("Location");
  auto rest = Patch(path, 1000, content.substr(1000));
  ASSERT_EQ(rest->status, 204);
  EXPECT_EQ(rest->get_header_value("Cutroom-Video-Id").rfind("vid_", 0), 0u);
}

TEST_F(Tus, DeferredLengthIsSetByALaterPatch) {
  std::string content = ReadFile(TestMedia("tone.wav"));
  std::string path = Create(std::nullopt);
  auto head = Head(path);
  EXPECT_EQ(head->get_header_value("Upload-Defer-Length"), "1");
  EXPECT_FALSE(head->has_header("Upload-Length"));
  ASSERT_EQ(Patch(path, 0, content.substr(0, 5000))->status, 204);
  auto last = Patch(path, 5000, content.substr(5000), {{"Upload-Length", std::to_string(content.size())}});
  ASSERT_EQ(last->status, 204) << last->body;
  auto v = Json(client_->Get("/api/videos/" + last->get_header_value("Cutroom-Video-Id")));
  EXPECT_EQ(v["media_type"], "audio");
  EXPECT_EQ(v["sha256"], Sha256Hex(content));
}

TEST_F(Tus, ConcurrentPatchesToOneUploadAreSerialised) {
  std::string content = ReadFile(TestMedia("small.mp4"));
  std::string path = Create(content.size());
  std::string first = content.substr(0, content.size() / 2);
  std::vector<int> statuses(4, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", server_->port());
      httplib::Headers h = kTus;
      h.emplace("Upload-Offset", "0");
      auto r = c.Patch(path, h, first, "application/offset+octet-stream");
      statuses[static_cast<size_t>(i)] = r ? r->status : -1;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 204), 1);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 409), 3);
  EXPECT_EQ(Head(path)->get_header_value("Upload-Offset"), std::to_string(first.size()));
  auto last = Patch(path, first.size(), content.substr(first.size()));
  ASSERT_EQ(last->status, 204);
  EXPECT_EQ(Json(client_->Get("/api/videos/" + last->get_header_value("Cutroom-Video-Id")))["sha256"],
            Sha256Hex(content));
}

TEST_F(Tus, OffsetsSurviveARestart) {
  std::string content = ReadFile(TestMedia("small.mp4"));
  std::string path = Create(content.size());
  ASSERT_EQ(Patch(path, 0, content.substr(0, 20000))->status, 204);
  // Bytes written past the recorded offset (a crash mid-PATCH) are cut off.
  {
    std::ofstream tail(PartFile(path), std::ios::app | std::ios::binary);
    tail << "GARBAGE-FROM-AN-UNACKNOWLEDGED-WRITE";
  }
  RestartServer();
  EXPECT_EQ(Head(path)->get_header_value("Upload-Offset"), "20000");
  auto last = Patch(path, 20000, content.substr(20000));
  ASSERT_EQ(last->status, 204) << last->body;
  EXPECT_EQ(Json(client_->Get("/api/videos/" + last->get_header_value("Cutroom-Video-Id")))["sha256"],
            Sha256Hex(content));
}

TEST_F(Tus, ALongPatchIsMadeDurableAlongTheWayWhileItsBodyStillStreams) {
  // ingest.upload_durable_every_mb is 1 here: points at 1 and 2 MiB.
  const size_t body = 3 << 20, bulk = (1 << 20) - 4000, piece = 1000, pieces = 8;
  std::string path = Create(4 << 20);  // this PATCH brings 3 MiB of it
  std::string head = "PATCH " + path + " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                     "Content-Type: application/offset+octet-stream\r\nContent-Length: " + std::to_string(body) +
                     "\r\n\r\n";
  int fd = ConnectRaw();
  ASSERT_GE(fd, 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto send_all = [fd](const std::string& bytes) {
    return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  };
  ASSERT_TRUE(send_all(head));
  ASSERT_TRUE(send_all(std::string(bulk, 'x')));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Then small pieces, one at a time, which the server gathers before it
  // writes them: the first point falls among them and must cover them.
  for (size_t i = 0; i < pieces; ++i) {
    ASSERT_TRUE(send_all(std::string(piece, 'x')));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const size_t sent_first = bulk + pieces * piece;
  // The body pauses: the point is on record while the request is still open.
  int64_t recorded = 0;
  for (int i = 0; i < 500 && recorded < (1 << 20); ++i) {
    auto rows = db_->Query("SELECT \"offset\" AS o FROM uploads", {});
    ASSERT_OK(rows.status());
    recorded = rows->Int(0, "o").value_or(0);
    if (recorded < (1 << 20)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(recorded, 1 << 20);
  EXPECT_LE(recorded, static_cast<int64_t>(sent_first));
  EXPECT_EQ(CountRows("upload_chunks"), 1);
  // Whatever is recorded is in the part file, so a crash now resumes there.
  EXPECT_GE(std::filesystem::file_size(PartFile(path)), static_cast<uintmax_t>(recorded));

  const std::string rest(body - sent_first, 'y');
  ASSERT_TRUE(send_all(rest));
  const std::string answer = ReadAnswer(fd, 10000, true);
  EXPECT_EQ(answer.rfind("HTTP/1.1 204", 0), 0u) << answer;
  EXPECT_NE(answer.find("Upload-Offset: " + std::to_string(body)), std::string::npos) << answer;
  EXPECT_EQ(Head(path)->get_header_value("Upload-Offset"), std::to_string(body));
  EXPECT_EQ(CountRows("upload_chunks"), 3);  // the points at 1 and 2 MiB, then the end
  std::string stored = ReadFile(PartFile(path));
  ASSERT_EQ(stored.size(), body);
  EXPECT_EQ(stored, std::string(sent_first, 'x') + rest);
}

TEST_F(Tus, StoppingTheServerLetsAnInFlightRequestFinish) {
  std::string path = Create(50000);  // the upload stays unfinished: only its first 40000 bytes come
  std::string head = "PATCH " + path + " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                     "Content-Type: application/offset+octet-stream\r\nContent-Length: 40000\r\n\r\n";
  int fd = ConnectRaw();
  ASSERT_GE(fd, 0);
  ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  ::send(fd, std::string(20000, 'a').data(), 20000, MSG_NOSIGNAL);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // SIGTERM arrives while the body is half sent.
  std::thread stopper([this] { StopServer(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::send(fd, std::string(20000, 'b').data(), 20000, MSG_NOSIGNAL);
  const std::string answer = ReadAnswer(fd, 5000, true);
  stopper.join();
  EXPECT_EQ(answer.rfind("HTTP/1.1 204", 0), 0u) << answer;
  EXPECT_NE(answer.find("Upload-Offset: 40000"), std::string::npos) << answer;
}

TEST_F(Tus, CorsHeadersArePresentOnErrors) {
  auto r = client_->Head("/api/uploads/upl_00000000000000000000000000", kTus);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(r->get_header_value("Tus-Resumable"), "1.0.0");
}

}  // namespace
}  // namespace cutroom::api
