#include <gtest/gtest.h>

#include <cstdlib>

#include "core/fake_env.h"
#include "storage/blob_store.h"
#include "support/test_support.h"

namespace cutroom::storage {
namespace {

using cutroom::testing::TempDir;

class LocalBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = BlobStore::Open("file://" + dir_.File("blobs"), &env_);
    ASSERT_OK(s.status());
    store_ = std::move(s).value();
  }
  std::string ReadAll(const std::string& key) {
    auto r = store_->OpenReader(key);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    std::string out((*r)->size(), '\0');
    auto n = (*r)->ReadAt(0, out.data(), out.size());
    out.resize(n.value_or(0));
    return out;
  }

  TempDir dir_;
  FakeEnv env_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(LocalBlobStoreTest, CommittedBlobsAreReadableWithRanges) {
  std::string key = MakeKey("media", "vid_01", "source");
  auto w = store_->NewWriter(key);
  ASSERT_OK(w.status());
  ASSERT_OK((*w)->Append("hello ", 6));
  ASSERT_OK((*w)->Append("world", 5));
  EXPECT_FALSE(store_->Exists(key));  // invisible until committed
  ASSERT_OK((*w)->Commit());
  EXPECT_TRUE(store_->Exists(key));
  EXPECT_EQ(*store_->Size(key), 11u);
  EXPECT_EQ(ReadAll(key), "hello world");
  auto reader = store_->OpenReader(key);
  char buf[5];
  auto n = (*reader)->ReadAt(6, buf, 5);
  ASSERT_OK(n.status());
  EXPECT_EQ(std::string(buf, *n), "world");
  EXPECT_EQ(*(*reader)->ReadAt(11, buf, 5), 0u);
}

TEST_F(LocalBlobStoreTest, AbandonedWritersLeaveNothingBehind) {
  std::string key = MakeKey("media", "vid_02", "source");
  {
    auto w = store_->NewWriter(key);
    ASSERT_OK((*w)->Append("partial", 7));
  }
  EXPECT_FALSE(store_->Exists(key));
  EXPECT_TRUE(env_.ListDir(dir_.File("blobs/.staging"))->empty());
}

TEST_F(LocalBlobStoreTest, PutReplacesAtomically) {
  std::string key = MakeKey("assets", "vid_03", "thumb.jpg");
  ASSERT_OK(store_->Put(key, "v1"));
  ASSERT_OK(store_->Put(key, "version two"));
  EXPECT_EQ(ReadAll(key), "version two");
}

TEST_F(LocalBlobStoreTest, RejectsKeysThatCouldEscapeTheRoot) {
  for (const char* bad : {"../etc/passwd", "/etc/passwd", "media/../../x", "media//x", "media/./x", "a/b\\c",
                          "media/x/", "", "media/x y", "media/\xc3\xa9"}) {
    EXPECT_TRUE(store_->NewWriter(bad).status().IsInvalidArgument()) << bad;
    EXPECT_TRUE(store_->OpenReader(bad).status().IsInvalidArgument()) << bad;
    EXPECT_FALSE(store_->Exists(bad)) << bad;
  }
}

TEST_F(LocalBlobStoreTest, DeleteAndMissingBlobs) {
  std::string key = MakeKey("media", "vid_04", "source");
  EXPECT_TRUE(store_->OpenReader(key).status().IsNotFound());
  EXPECT_TRUE(store_->Delete(key).IsNotFound());
  ASSERT_OK(store_->Put(key, "x"));
  ASSERT_OK(store_->Delete(key));
  EXPECT_FALSE(store_->Exists(key));
}

TEST_F(LocalBlobStoreTest, FullDiskFailsTheWriteAndKeepsTheOldBlob) {
  std::string key = MakeKey("media", "vid_05", "source");
  ASSERT_OK(store_->Put(key, "old"));
  env_.fail_writes_with = Status::ResourceExhausted("no space left on device");
  Status st = store_->Put(key, "new");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadAll(key), "old");
}

TEST_F(LocalBlobStoreTest, ReportsFreeSpaceAndWritability) {
  env_.free_space = 12345;
  EXPECT_EQ(*store_->FreeSpace(), 12345u);
  EXPECT_OK(store_->CheckWritable());
}

TEST_F(LocalBlobStoreTest, CopyBlobToFileCopiesAndLeavesNothingOnFailure) {
  ASSERT_OK(store_->Put("renders/edj_01/out.mp4", "rendered bytes"));
  ASSERT_OK(CopyBlobToFile(*store_, "renders/edj_01/out.mp4", dir_.File("copy.mp4"), &env_));
  EXPECT_EQ(cutroom::testing::ReadFile(dir_.File("copy.mp4")), "rendered bytes");
  EXPECT_TRUE(CopyBlobToFile(*store_, "renders/edj_02/out.mp4", dir_.File("none.mp4"), &env_).IsNotFound());
  EXPECT_FALSE(env_.FileExists(dir_.File("none.mp4")));
}

TEST(BlobStoreOpen, RejectsUnknownSchemes) {
  EXPECT_TRUE(BlobStore::Open("ftp://x", Env::Default()).status().IsInvalidArgument());
}

TEST(BlobStoreOpen, S3WithoutCredentialsSaysWhichVariablesToSet) {
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  auto s = BlobStore::Open("s3://bucket", Env::Default());
  EXPECT_TRUE(s.status().IsInvalidArgument()) << s.status().ToString();
  EXPECT_NE(s.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << s.status().ToString();
}

}  // namespace
}  // namespace cutroom::storage
