// Ingest into S3: what a tus upload does (the finished .part file is probed
// locally, then AdoptFile uploads it, in parts when large) and what a
// streamed multipart/form upload does (staged locally, probed, Commit
// uploads), against s3rver.
#include <gtest/gtest.h>

#include "core/fake_env.h"
#include "core/hash.h"
#include "core/ids.h"
#include "db/migrations.h"
#include "db/rows.h"
#include "fakes/s3_fake.h"
#include "ingest/ingest_service.h"
#include "storage/s3_blob_store.h"
#include "support/test_support.h"

namespace cutroom::storage {
namespace {

using cutroom::testing::FakeS3;
using cutroom::testing::TempDir;

class S3IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    media_ = cutroom::testing::TestMedia("small.mp4");
    REQUIRE_FILE(media_, "test media (make_test_media.sh)");
    REQUIRE_S3RVER(s3_);
    auto db = db::Database::Open("sqlite://" + dir_.File("cutroom.db"), &env_, {});
    ASSERT_OK(db.status());
    db_ = std::move(db).value();
    ASSERT_OK(db::Migrate(*db_, &env_).status());
    S3StoreOptions o = s3_.Options(dir_.File("tmp/s3-staging"));
    // small.mp4 is 160 KiB: small parts make it a multipart upload (s3rver,
    // unlike S3, takes parts under 5 MiB).
    o.part_size = 64 << 10;
    auto store = OpenS3BlobStore(o, &env_);
    ASSERT_OK(store.status());
    blobs_ = std::move(store).value();
    service_ = std::make_unique<ingest::IngestService>(
        ingest::IngestDeps{&env_, db_.get(), blobs_.get(), &ids_, 1ull << 30, nullptr, {}});
  }

  std::string ObjectSha(const std::string& key) {
    auto r = blobs_->OpenReader(key);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    std::string out((*r)->size(), '\0');
    auto n = (*r)->ReadAt(0, out.data(), out.size());
    EXPECT_TRUE(n.ok() && *n == out.size());
    return Sha256Hex(out);
  }

  std::string media_;
  TempDir dir_;
  FakeEnv env_{Env::Default()->NowMs()};  // S3 checks the request time
  IdGenerator ids_{&env_};
  FakeS3 s3_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<ingest::IngestService> service_;
};

TEST_F(S3IngestTest, FinishedTusFileIsProbedLocallyThenUploadedInParts) {
  std::string part = dir_.File("uploads/up_01.part");  // where tus assembles an upload
  std::filesystem::create_directories(dir_.File("uploads"));
  std::filesystem::copy_file(media_, part);
  ingest::IngestRequest request;
  request.owner_id = db::kLocalOwnerId;  // made by the migrations
  request.original_filename = "small.mp4";
  auto row = service_->IngestStagedFile(part, "", request);
  ASSERT_OK(row.status());
  EXPECT_EQ(row->status, "ready");
  ASSERT_TRUE(row->storage_key);
  EXPECT_EQ(ObjectSha(*row->storage_key), Sha256Hex(cutroom::testing::ReadFile(media_)));
  EXPECT_EQ(row->sha256, Sha256Hex(cutroom::testing::ReadFile(media_)));
  EXPECT_FALSE(std::filesystem::exists(part));  // adopted: the local copy is gone
  EXPECT_EQ(s3_.Count("CreateMultipartUpload"), 1);
  EXPECT_EQ(s3_.Count("UploadPart"), 3);
  EXPECT_EQ(s3_.Count("CompleteMultipartUpload"), 1);
}

TEST_F(S3IngestTest, StreamedUploadIsStagedProbedAndCommitted) {
  std::string bytes = cutroom::testing::ReadFile(media_);
  size_t offset = 0;
  auto row = service_->IngestFromReader(
      [&](char* buf, size_t n) -> Result<size_t> {
        size_t take = std::min(n, bytes.size() - offset);
        std::memcpy(buf, bytes.data() + offset, take);
        offset += take;
        return take;
      },
      ingest::IngestRequest{db::kLocalOwnerId, "small.mp4"});
  ASSERT_OK(row.status());
  EXPECT_EQ(row->media_type, "video");
  EXPECT_EQ(ObjectSha(*row->storage_key), Sha256Hex(bytes));
  EXPECT_TRUE(std::filesystem::is_empty(dir_.File("tmp/s3-staging")));
}

TEST_F(S3IngestTest, NonMediaIsRefusedBeforeAnythingReachesTheBucket) {
  std::string text = "this is not a video, just text\n";
  bool done = false;
  auto row = service_->IngestFromReader(
      [&](char* buf, size_t n) -> Result<size_t> {
        if (done) return size_t{0};
        done = true;
        std::memcpy(buf, text.data(), std::min(n, text.size()));
        return std::min(n, text.size());
      },
      ingest::IngestRequest{db::kLocalOwnerId, "x.mp4"});
  EXPECT_TRUE(ingest::IsUnsupportedMedia(row.status())) << row.status().ToString();
  EXPECT_EQ(s3_.Count("PutObject") + s3_.Count("CreateMultipartUpload"), 0);
  EXPECT_TRUE(blobs_->List()->empty());
  EXPECT_TRUE(std::filesystem::is_empty(dir_.File("tmp/s3-staging")));
}

}  // namespace
}  // namespace cutroom::storage
