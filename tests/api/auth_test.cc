#include "api/auth.h"

#include <gtest/gtest.h>

#include "server_fixture.h"

namespace cutroom::api {
namespace {

class Auth : public ServerFixture {
 protected:
  KeyService keys() { return KeyService(db_.get(), env_, &ids_); }
  httplib::Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }
};

TEST_F(Auth, LocalModeNeedsNoKeyUntilOneExists) {
  auto m = AddMedia(db::kLocalOwnerId);
  EXPECT_EQ(client_->Get("/api/videos/" + m.video_id)->status, 200);
  auto created = keys().CreateKey("alice", "laptop");
  ASSERT_OK(created.status());
  auto r = client_->Get("/api/videos");
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(ErrorCode(r), "unauthenticated");
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
  // Public probes stay public.
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

TEST_F(Auth, KeysAreStoredOnlyAsHashes) {
  auto created = keys().CreateKey("alice", "");
  ASSERT_OK(created.status());
  EXPECT_EQ(created->key.rfind("cr_", 0), 0u);
  EXPECT_GE(created->key.size(), 40u);
  auto rows = db_->Query("SELECT key_hash, key_prefix FROM api_keys", {});
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_NE(*rows->Text(0, "key_hash"), created->key);
  EXPECT_EQ(rows->Text(0, "key_hash")->size(), 64u);
  EXPECT_EQ(created->key.find(*rows->Text(0, "key_hash")), std::string::npos);
}

TEST_F(Auth, AKeySeesOnlyItsOwnersMedia) {
  auto alice = keys().CreateKey("alice", "");
  auto bob = keys().CreateKey("bob", "");
  ASSERT_OK(alice.status());
  ASSERT_OK(bob.status());
  auto a = AddMedia(alice->owner.owner_id);
  auto b = AddMedia(bob->owner.owner_id);

  auto mine = client_->Get("/api/videos/" + a.video_id, Bearer(alice->key));
  EXPECT_EQ(mine->status, 200);
  auto theirs = client_->Get("/api/videos/" + b.video_id, Bearer(alice->key));
  EXPECT_EQ(theirs->status, 404);  // indistinguishable from a missing id
  EXPECT_EQ(client_->Delete("/api/videos/" + b.video_id, Bearer(alice->key))->status, 404);
  EXPECT_EQ(client_->Get("/api/videos/" + b.video_id, Bearer(bob->key))->status, 200);

  auto list = Json(client_->Get("/api/videos", Bearer(alice->key)));
  ASSERT_EQ(list["videos"].size(), 1u);
  EXPECT_EQ(list["videos"][0]["video_id"], a.video_id);
}

TEST_F(Auth, WrongMalformedAndRevokedKeysAre401) {
  auto alice = keys().CreateKey("alice", "");
  ASSERT_OK(alice.status());
  EXPECT_EQ(client_->Get("/api/videos", Bearer("cr_notarealkey"))->status, 401);
  EXPECT_EQ(client_->Get("/api/videos", {{"Authorization", "Basic abc"}})->status, 401);
  EXPECT_EQ(client_->Get("/api/videos", Bearer(alice->key))->status, 200);
  ASSERT_OK(keys().Revoke(alice->row.key_id));
  EXPECT_EQ(client_->Get("/api/videos", Bearer(alice->key))->status, 401);
  EXPECT_TRUE(keys().Revoke(alice->row.key_id).IsNotFound());
}

TEST_F(Auth, ANetworkAddressWithoutKeysRefusesToStart) {
  ApiServer exposed(Deps());
  Status st = exposed.Bind("0.0.0.0", 0);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("cutroom keys create"), std::string::npos);

  ASSERT_OK(keys().CreateKey("ops", "").status());
  ApiServer allowed(Deps());
  EXPECT_OK(allowed.Bind("0.0.0.0", 0));
}

TEST(Loopback, RecognisesLoopbackSpellings) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("[::1]"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("192.168.1.2"));
}

}  // namespace
}  // namespace cutroom::api
