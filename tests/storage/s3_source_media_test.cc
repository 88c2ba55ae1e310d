// Media stored in S3 is decoded in place through ranged reads
// (analysis::SourceMedia over the store's BlobReader).
#include <gtest/gtest.h>

#include "analysis/source_media.h"
#include "core/fake_env.h"
#include "fakes/s3_fake.h"
#include "media/decoder.h"
#include "media/probe.h"
#include "storage/s3_blob_store.h"
#include "support/test_support.h"

namespace cutroom::storage {
namespace {

using cutroom::testing::FakeS3;
using cutroom::testing::TempDir;

Result<int> CountFrames(const std::string& path) {
  media::DecodeOptions options;
  options.width = 64;
  CUTROOM_ASSIGN_OR_RETURN(auto decoder, media::VideoDecoder::Open(path, options));
  media::VideoFrame frame;
  int n = 0;
  while (true) {
    CUTROOM_ASSIGN_OR_RETURN(bool got, decoder->Next(frame));
    if (!got) break;
    ++n;
  }
  return n;
}

TEST(S3SourceMedia, StoredVideoIsProbedAndDecodedThroughRangedReads) {
  std::string file = cutroom::testing::TestMedia("small.mp4");
  REQUIRE_FILE(file, "test media (make_test_media.sh)");
  FakeS3 s3;
  REQUIRE_S3RVER(s3);
  TempDir dir;
  FakeEnv env{Env::Default()->NowMs()};  // S3 checks the request time
  auto store = OpenS3BlobStore(s3.Options(dir.File("staging")), &env);
  ASSERT_OK(store.status());
  std::string key = MakeKey("media", "vid_01", "source");
  {
    auto w = (*store)->NewWriter(key);
    ASSERT_OK(w.status());
    std::string bytes = cutroom::testing::ReadFile(file);
    ASSERT_OK((*w)->Append(bytes.data(), bytes.size()));
    ASSERT_OK((*w)->Commit());
  }

  Config config = Config::Defaults();
  jobs::JobServices services{&env, nullptr, store->get(), nullptr, &config};
  db::MediaRow row;
  row.video_id = "vid_01";
  row.storage_key = key;
  auto source = analysis::SourceMedia::Open(services, row);
  ASSERT_OK(source.status());
  EXPECT_TRUE(source->remote());
  EXPECT_TRUE(source->stored_blob());

  auto local = media::ProbeMedia(file);
  ASSERT_OK(local.status());
  auto remote = media::ProbeMedia(source->path());
  ASSERT_OK(remote.status());
  EXPECT_EQ(remote->container, local->container);
  EXPECT_EQ(remote->width, local->width);
  EXPECT_EQ(remote->duration_s, local->duration_s);

  auto expected = CountFrames(file);
  ASSERT_OK(expected.status());
  ASSERT_GT(*expected, 0);
  uint64_t gets_before = static_cast<uint64_t>(s3.Count("GetObject"));
  auto frames = CountFrames(source->path());
  ASSERT_OK(frames.status());
  EXPECT_EQ(*frames, *expected);
  EXPECT_GT(source->requests(), 0u);
  EXPECT_GE(static_cast<uint64_t>(s3.Count("GetObject")), gets_before);
  // Read-ahead: a small file takes a few GETs per open, not one per
  // demuxer read.
  EXPECT_LE(source->requests(), 12u) << source->requests() << " requests";
}

TEST(S3SourceMedia, MissingBlobFailsWithTheStoresReason) {
  FakeS3 s3;
  REQUIRE_S3RVER(s3);
  TempDir dir;
  FakeEnv env{Env::Default()->NowMs()};  // S3 checks the request time
  auto store = OpenS3BlobStore(s3.Options(dir.File("staging")), &env);
  ASSERT_OK(store.status());
  Config config = Config::Defaults();
  jobs::JobServices services{&env, nullptr, store->get(), nullptr, &config};
  db::MediaRow row;
  row.video_id = "vid_02";
  row.storage_key = MakeKey("media", "vid_02", "source");
  auto source = analysis::SourceMedia::Open(services, row);
  ASSERT_OK(source.status());
  auto probe = media::ProbeMedia(source->path());
  EXPECT_FALSE(probe.ok());
  Status why = source->Explain(probe.status());
  EXPECT_TRUE(why.IsNotFound()) << why.ToString();
  EXPECT_NE(why.message().find("vid_02"), std::string::npos) << why.ToString();
}

}  // namespace
}  // namespace cutroom::storage
