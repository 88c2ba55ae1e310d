// S3BlobStore against s3rver behind tests/fakes/s3_fault_proxy.py (which
// checks every signature and injects faults).
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "core/fake_env.h"
#include "core/hash.h"
#include "fakes/s3_fake.h"
#include "storage/blob_store.h"
#include "storage/s3_blob_store.h"
#include "support/test_support.h"

namespace cutroom::storage {
namespace {

using cutroom::testing::FakeS3;
using cutroom::testing::TempDir;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

class S3BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_S3RVER(s3_);
    store_ = Open(s3_.Options(dir_.File("staging")));
    ASSERT_TRUE(store_);
  }

  std::unique_ptr<BlobStore> Open(S3StoreOptions options) {
    auto s = OpenS3BlobStore(std::move(options), &env_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  std::string ReadAll(BlobStore& store, const std::string& key, size_t chunk = 1 << 20) {
    auto r = store.OpenReader(key);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    std::string out((*r)->size(), '\0');
    size_t done = 0;
    while (done < out.size()) {
      auto n = (*r)->ReadAt(done, out.data() + done, std::min(chunk, out.size() - done));
      EXPECT_TRUE(n.ok()) << n.status().ToString();
      if (!n.ok() || *n == 0) break;
      done += *n;
    }
    out.resize(done);
    return out;
  }

  std::vector<std::string> StagedFiles() {
    auto names = env_.ListDir(dir_.File("staging"));
    return names.ok() ? *names : std::vector<std::string>{};
  }

  TempDir dir_;
  // Real time (S3 refuses requests dated more than 15 minutes off), fake
  // sleeps (retries back off without waiting).
  FakeEnv env_{Env::Default()->NowMs()};
  FakeS3 s3_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(S3BlobStoreTest, PutGetRangeHeadListDelete) {
  std::string key = MakeKey("media", "vid_01", "source");
  ASSERT_OK(store_->Put(key, "hello world"));
  EXPECT_TRUE(store_->Exists(key));
  EXPECT_EQ(*store_->Size(key), 11u);
  EXPECT_EQ(ReadAll(*store_, key), "hello world");

  auto reader = store_->OpenReader(key);
  ASSERT_OK(reader.status());
  char buf[16];
  auto n = (*reader)->ReadAt(6, buf, 5);
  ASSERT_OK(n.status());
  EXPECT_EQ(std::string(buf, *n), "world");
  EXPECT_EQ(*(*reader)->ReadAt(11, buf, 5), 0u);
  EXPECT_EQ(*(*reader)->ReadAt(9, buf, 16), 2u);

  // Another prefix in the same bucket is another store.
  auto other = Open(s3_.Options(dir_.File("staging2"), "elsewhere"));
  ASSERT_OK(other->Put(MakeKey("media", "vid_02", "source"), "x"));
  auto listed = store_->List();
  ASSERT_OK(listed.status());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, key);
  EXPECT_EQ((*listed)[0].size, 11u);
  EXPECT_FALSE(store_->Exists(MakeKey("media", "vid_02", "source")));

  ASSERT_OK(store_->Delete(key));
  EXPECT_FALSE(store_->Exists(key));
  EXPECT_TRUE(store_->Delete(key).IsNotFound());
  EXPECT_TRUE(store_->OpenReader(key).status().IsNotFound());
  EXPECT_TRUE(store_->Size(key).status().IsNotFound());
  EXPECT_TRUE(store_->List()->empty());
}

TEST_F(S3BlobStoreTest, ListFollowsContinuationTokens) {
  // s3rver pages ListObjectsV2 at 1000 keys like S3.
  for (int i = 0; i < 1003; ++i) {
    ASSERT_OK(store_->Put(MakeKey("assets", "vid_" + std::to_string(i), "t.jpg"), "j"));
  }
  auto listed = store_->List();
  ASSERT_OK(listed.status());
  EXPECT_EQ(listed->size(), 1003u);
  EXPECT_GE(s3_.Count("ListObjects"), 2);
}

TEST_F(S3BlobStoreTest, NothingIsVisibleUntilCommit) {
  std::string key = MakeKey("media", "vid_03", "source");
  auto w = store_->NewWriter(key);
  ASSERT_OK(w.status());
  ASSERT_OK((*w)->Append("hello ", 6));
  ASSERT_OK((*w)->Append("world", 5));
  // Probing reads the staged bytes locally before anything is uploaded.
  std::string staged = (*w)->staging_path();
  EXPECT_EQ(cutroom::testing::ReadFile(staged), "hello world");
  EXPECT_FALSE(store_->Exists(key));
  EXPECT_TRUE(store_->List()->empty());
  EXPECT_EQ(s3_.Count("PutObject"), 0);
  ASSERT_OK((*w)->Commit());
  EXPECT_EQ(ReadAll(*store_, key), "hello world");
  EXPECT_FALSE(std::filesystem::exists(staged));
  EXPECT_TRUE((*w)->Commit().code() == StatusCode::kFailedPrecondition);
}

TEST_F(S3BlobStoreTest, AbandonedWriterLeavesNothingAnywhere) {
  std::string key = MakeKey("media", "vid_04", "source");
  {
    auto w = store_->NewWriter(key);
    ASSERT_OK((*w)->Append("partial", 7));
    EXPECT_EQ(StagedFiles().size(), 1u);
  }
  EXPECT_TRUE(StagedFiles().empty());
  EXPECT_FALSE(store_->Exists(key));
  EXPECT_EQ(s3_.Count("PutObject") + s3_.Count("CreateMultipartUpload"), 0);
  EXPECT_TRUE(store_->ListStaging()->empty());
}

TEST_F(S3BlobStoreTest, LargeBlobsGoUpInPartsAndReadBackWithFewRequests) {
  const std::string data = RandomBytes(20u << 20, 7);
  std::string key = MakeKey("media", "vid_05", "source");
  auto w = store_->NewWriter(key);
  ASSERT_OK(w.status());
  for (size_t i = 0; i < data.size(); i += 1 << 20) ASSERT_OK((*w)->Append(data.data() + i, 1 << 20));
  ASSERT_OK((*w)->Commit());
  EXPECT_EQ(s3_.Count("CreateMultipartUpload"), 1);
  EXPECT_EQ(s3_.Count("UploadPart"), 3);  // 8 + 8 + 4 MiB
  EXPECT_EQ(s3_.Count("CompleteMultipartUpload"), 1);
  EXPECT_EQ(s3_.Count("PutObject"), 0);
  EXPECT_EQ(*store_->Size(key), data.size());
  EXPECT_EQ(s3_.UnfinishedUploads(), 0u);

  // A demuxer's small sequential reads: the read-ahead grows to 4 MiB, so
  // 20 MiB in 32 KiB reads costs a handful of GETs, not 640.
  auto reader = store_->OpenReader(key);
  ASSERT_OK(reader.status());
  std::string back(data.size(), '\0');
  for (size_t off = 0; off < back.size(); off += 32 << 10) {
    auto n = (*reader)->ReadAt(off, back.data() + off, 32 << 10);
    ASSERT_OK(n.status());
    ASSERT_EQ(*n, 32u << 10);
  }
  EXPECT_EQ(Sha256Hex(back), Sha256Hex(data));
  EXPECT_LE((*reader)->fetch_requests(), 8u);
  EXPECT_EQ((*reader)->fetch_bytes(), data.size());
  EXPECT_EQ(static_cast<uint64_t>(s3_.Count("GetObject")), (*reader)->fetch_requests());
}

TEST_F(S3BlobStoreTest, PartThatFailsOnceIsRetried) {
  s3_.Fault("UploadPart", 500, 1);
  const std::string data = RandomBytes(17u << 20, 11);
  std::string path = dir_.File("render.mp4");
  cutroom::testing::WriteFile(path, data);
  std::string key = MakeKey("renders", "edj_01", "out.mp4");
  ASSERT_OK(store_->AdoptFile(path, key));
  EXPECT_EQ(s3_.Count("UploadPart"), 4);  // three parts, one of them twice
  EXPECT_EQ(s3_.Count("AbortMultipartUpload"), 0);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(Sha256Hex(ReadAll(*store_, key)), Sha256Hex(data));
}

TEST_F(S3BlobStoreTest, DroppedConnectionsAreRetried) {
  ASSERT_OK(store_->Put("a/b/c", "payload"));
  s3_.Fault("GetObject", 0, 2);
  EXPECT_EQ(ReadAll(*store_, "a/b/c"), "payload");
  EXPECT_EQ(s3_.Count("GetObject"), 3);
}

TEST_F(S3BlobStoreTest, FailedMultipartUploadIsAbortedAndLeavesNoParts) {
  s3_.Fault("UploadPart", 503, 100);
  std::string key = MakeKey("media", "vid_06", "source");
  auto w = store_->NewWriter(key);
  const std::string data = RandomBytes(9u << 20, 3);
  ASSERT_OK((*w)->Append(data.data(), data.size()));
  Status st = (*w)->Commit();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("aborted"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("503"), std::string::npos) << st.ToString();
  // Both parts (8 + 1 MiB) go up at once, each tried four times; the
  // second may not have started when the first gave up.
  int tries = s3_.Count("UploadPart");
  EXPECT_TRUE(tries == 4 || tries == 8) << tries;
  EXPECT_EQ(s3_.Count("AbortMultipartUpload"), 1);
  EXPECT_EQ(s3_.UnfinishedUploads(), 0u);
  EXPECT_FALSE(store_->Exists(key));
  // The staged file stays until the writer goes, so Commit can be retried.
  s3_.Reset();
  ASSERT_OK((*w)->Commit());
  EXPECT_EQ(Sha256Hex(ReadAll(*store_, key)), Sha256Hex(data));
}

TEST_F(S3BlobStoreTest, UploadLeftByACrashIsListedAndRemovedByDeleteStaging) {
  // Neither Complete nor Abort gets through: what a crash mid-Commit leaves.
  s3_.Fault("CompleteMultipartUpload", 500, 100);
  s3_.Fault("AbortMultipartUpload", 500, 100);
  std::string key = MakeKey("media", "vid_07", "source");
  const std::string data = RandomBytes(9u << 20, 5);
  std::string path = dir_.File("upload.part");
  cutroom::testing::WriteFile(path, data);
  Status st = store_->AdoptFile(path, key);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("fsck"), std::string::npos) << st.ToString();
  EXPECT_TRUE(std::filesystem::exists(path));  // not adopted: the caller still owns it
  EXPECT_EQ(s3_.UnfinishedUploads(), 1u);
  s3_.Reset();
  auto staging = store_->ListStaging();
  ASSERT_OK(staging.status());
  ASSERT_EQ(staging->size(), 1u);
  EXPECT_EQ((*staging)[0].key.rfind("multipart/", 0), 0u);
  EXPECT_NE((*staging)[0].key.find(key), std::string::npos);
  ASSERT_OK(store_->DeleteStaging((*staging)[0].key));
  EXPECT_EQ(s3_.UnfinishedUploads(), 0u);
  EXPECT_TRUE(store_->ListStaging()->empty());
  EXPECT_FALSE(store_->Exists(key));
}

TEST_F(S3BlobStoreTest, ObjectReplacedUnderAReaderFailsInsteadOfMixing) {
  std::string key = MakeKey("assets", "vid_08", "sprite.jpg");
  ASSERT_OK(store_->Put(key, RandomBytes(3u << 20, 1)));
  auto reader = store_->OpenReader(key);
  ASSERT_OK(reader.status());
  char buf[16];
  ASSERT_OK((*reader)->ReadAt(0, buf, sizeof buf).status());
  ASSERT_OK(store_->Put(key, RandomBytes(3u << 20, 2)));
  auto n = (*reader)->ReadAt(2u << 20, buf, sizeof buf);  // outside the first read-ahead
  EXPECT_EQ(n.status().code(), StatusCode::kFailedPrecondition) << n.status().ToString();
}

TEST_F(S3BlobStoreTest, WrongSecretIsARefusalNamingBucketEndpointAndCode) {
  S3StoreOptions o = s3_.Options(dir_.File("staging3"));
  o.client.credentials.secret_key = "not-the-secret";
  auto store = Open(o);
  Status st = store->CheckWritable();
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.ToString();
  EXPECT_NE(st.message().find("SignatureDoesNotMatch"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find(s3_.bucket()), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find(s3_.endpoint()), std::string::npos) << st.ToString();
  EXPECT_EQ(store->Put("a/b", "x").code(), StatusCode::kPermissionDenied);
  // Refusals are not retried: they will not change.
  EXPECT_EQ(s3_.Count("PutObject"), 2);
}

TEST_F(S3BlobStoreTest, UnknownAccessKeyIsARefusal) {
  S3StoreOptions o = s3_.Options(dir_.File("staging3"));
  o.client.credentials.access_key = "NOBODY";
  Status st = Open(o)->CheckWritable();
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.ToString();
  EXPECT_NE(st.message().find("InvalidAccessKeyId"), std::string::npos) << st.ToString();
}

TEST_F(S3BlobStoreTest, MissingBucketIsNotFoundNamingIt) {
  S3StoreOptions o = s3_.Options(dir_.File("staging3"));
  o.client.bucket = "no-such-bucket";
  Status st = Open(o)->CheckWritable();
  EXPECT_TRUE(st.IsNotFound()) << st.ToString();
  EXPECT_NE(st.message().find("NoSuchBucket"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("no-such-bucket"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find(s3_.endpoint()), std::string::npos) << st.ToString();
}

TEST_F(S3BlobStoreTest, CheckWritableLeavesNothingBehind) {
  ASSERT_OK(store_->CheckWritable());
  EXPECT_EQ(s3_.Count("PutObject"), 1);
  EXPECT_EQ(s3_.Count("DeleteObject"), 1);
  EXPECT_TRUE(store_->List()->empty());
}

TEST_F(S3BlobStoreTest, UnreachableServiceIsUnavailable) {
  S3StoreOptions o = s3_.Options(dir_.File("staging3"));
  o.client.endpoint = "http://127.0.0.1:1";  // nothing listens there
  auto store = Open(o);
  Status st = store->Put("a/b", "x");
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_FALSE(store->Exists("a/b"));
}

TEST_F(S3BlobStoreTest, NoLocalPathsAndFreeSpaceIsTheStagingDisk) {
  ASSERT_OK(store_->Put("media/vid_09/source", "x"));
  EXPECT_EQ(store_->LocalPath("media/vid_09/source").status().code(), StatusCode::kNotSupported);
  env_.free_space = 12345;
  EXPECT_EQ(*store_->FreeSpace(), 12345u);
  EXPECT_TRUE(store_->NewWriter("../x").status().IsInvalidArgument());
  EXPECT_EQ(store_->Describe(), "s3://cutroom-test/cutroom at " + s3_.endpoint());
}

TEST_F(S3BlobStoreTest, CopyBlobToFileGivesALocalCopyWithoutLocalPaths) {
  const std::string data = RandomBytes(9u << 20, 21);
  ASSERT_OK(store_->Put("renders/edj_02/out.mp4", data));
  std::string out = dir_.File("out.mp4");
  ASSERT_OK(CopyBlobToFile(*store_, "renders/edj_02/out.mp4", out, &env_));
  EXPECT_EQ(Sha256Hex(cutroom::testing::ReadFile(out)), Sha256Hex(data));
  Status missing = CopyBlobToFile(*store_, "renders/edj_03/out.mp4", dir_.File("missing.mp4"), &env_);
  EXPECT_TRUE(missing.IsNotFound()) << missing.ToString();
  EXPECT_FALSE(std::filesystem::exists(dir_.File("missing.mp4")));
}

TEST(S3StoreOptions, ComeFromConfigAndTheEnvironment) {
  Config config = Config::Defaults();
  ASSERT_OK(config.Set("storage.blob_url", "s3://media-bucket/team/a/"));
  ASSERT_OK(config.Set("storage.data_dir", "/srv/cutroom"));
  auto o = S3StoreOptions::FromConfig(config, {{"AWS_ACCESS_KEY_ID", "AK"}, {"AWS_SECRET_ACCESS_KEY", "SK"}});
  ASSERT_OK(o.status());
  EXPECT_EQ(o->client.bucket, "media-bucket");
  EXPECT_EQ(o->prefix, "team/a");
  EXPECT_EQ(o->client.endpoint, "https://s3.us-east-1.amazonaws.com");
  EXPECT_EQ(o->client.region, "us-east-1");
  EXPECT_FALSE(o->client.path_style);
  EXPECT_EQ(o->staging_dir, "/srv/cutroom/tmp/s3-staging");

  ASSERT_OK(config.Set("storage.s3_region", "auto"));
  ASSERT_OK(config.Set("storage.s3_endpoint", "https://acct.r2.cloudflarestorage.com"));
  ASSERT_OK(config.Set("storage.s3_path_style", "true"));
  o = S3StoreOptions::FromConfig(config, {{"AWS_ACCESS_KEY_ID", "AK"}, {"AWS_SECRET_ACCESS_KEY", "SK"},
                                          {"AWS_SESSION_TOKEN", "TOK"}});
  ASSERT_OK(o.status());
  EXPECT_EQ(o->client.region, "auto");
  EXPECT_EQ(o->client.endpoint, "https://acct.r2.cloudflarestorage.com");
  EXPECT_TRUE(o->client.path_style);
  EXPECT_EQ(o->client.credentials.session_token, "TOK");
}

TEST(S3StoreOptions, MissingCredentialsNameTheVariables) {
  Config config = Config::Defaults();
  ASSERT_OK(config.Set("storage.blob_url", "s3://media-bucket"));
  auto o = S3StoreOptions::FromConfig(config, {{"AWS_ACCESS_KEY_ID", "AK"}});
  EXPECT_TRUE(o.status().IsInvalidArgument());
  EXPECT_NE(o.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_NE(o.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(S3StoreOptions, BadUrlsAndEndpointsAreRefused) {
  Config config = Config::Defaults();
  std::map<std::string, std::string> env = {{"AWS_ACCESS_KEY_ID", "AK"}, {"AWS_SECRET_ACCESS_KEY", "SK"}};
  for (const char* bad : {"s3://", "s3://Upper_Case", "s3://ok-bucket/../x", "s3://ok-bucket/a b"}) {
    ASSERT_OK(config.Set("storage.blob_url", bad));
    EXPECT_TRUE(S3StoreOptions::FromConfig(config, env).status().IsInvalidArgument()) << bad;
  }
  ASSERT_OK(config.Set("storage.blob_url", "s3://ok-bucket"));
  TempDir dir;
  for (const char* bad : {"ftp://host", "http://host/path", "127.0.0.1:9000"}) {
    auto o = S3StoreOptions::FromConfig(config, env);
    ASSERT_OK(o.status());
    o->client.endpoint = bad;
    o->staging_dir = dir.File("s");
    EXPECT_TRUE(OpenS3BlobStore(*o, Env::Default()).status().IsInvalidArgument()) << bad;
  }
}

TEST_F(S3BlobStoreTest, BlobStoreOpenDispatchesOnTheScheme) {
  Config config = Config::Defaults();
  ASSERT_OK(config.Set("storage.blob_url", "s3://" + s3_.bucket() + "/via-open"));
  ASSERT_OK(config.Set("storage.s3_endpoint", s3_.endpoint()));
  ASSERT_OK(config.Set("storage.s3_path_style", "true"));
  ASSERT_OK(config.Set("storage.data_dir", dir_.path()));
  ::setenv("AWS_ACCESS_KEY_ID", FakeS3::kAccessKey, 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", FakeS3::kSecretKey, 1);
  ::unsetenv("AWS_SESSION_TOKEN");
  auto store = BlobStore::Open(config, &env_);
  ASSERT_OK(store.status());
  EXPECT_EQ((*store)->Describe().rfind("s3://" + s3_.bucket() + "/via-open", 0), 0u);
  ASSERT_OK((*store)->Put("k/v", "value"));
  EXPECT_EQ(ReadAll(**store, "k/v"), "value");
  EXPECT_TRUE(std::filesystem::is_directory(dir_.File("tmp/s3-staging")));

  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  auto refused = BlobStore::Open(config, &env_);
  EXPECT_TRUE(refused.status().IsInvalidArgument());
  EXPECT_NE(refused.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

}  // namespace
}  // namespace cutroom::storage
