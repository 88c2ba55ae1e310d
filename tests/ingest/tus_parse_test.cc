#include <gtest/gtest.h>

#include "core/base64.h"
#include "ingest/tus_service.h"

namespace cutroom::ingest {
namespace {

TEST(Base64, RoundTripsAndRejectsGarbage) {
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x10", 3)}) {
    auto back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(Base64Decode("Zm9v!mFy").ok());
  EXPECT_FALSE(Base64Decode("Zm9").ok());
  EXPECT_FALSE(Base64Decode("Z===").ok());
  EXPECT_FALSE(Base64Decode("Zg==Zg==").ok());
}

TEST(TusMetadata, ParsesKeysWithAndWithoutValues) {
  auto m = ParseTusMetadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential,filetype dmlkZW8vbXA0");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["filename"], "world_domination_plan.pdf");
  EXPECT_EQ((*m)["is_confidential"], "");
  EXPECT_EQ((*m)["filetype"], "video/mp4");
  EXPECT_TRUE(ParseTusMetadata("")->empty());
}

TEST(TusMetadata, RejectsMalformedHeaders) {
  for (const char* bad : {"filename not-base64!", "a dGVzdA==,a dGVzdA==", ",", "k\x01y dGVzdA=="}) {
    EXPECT_TRUE(ParseTusMetadata(bad).status().IsInvalidArgument()) << bad;
  }
}

TEST(TusChecksum, ParsesSupportedAlgorithms) {
  auto c = ParseTusChecksum("sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->algorithm, "sha1");
  EXPECT_EQ(c->digest.size(), 20u);
  EXPECT_FALSE(ParseTusChecksum("crc32 AAAA").ok());
  EXPECT_FALSE(ParseTusChecksum("sha1").ok());
  EXPECT_FALSE(ParseTusChecksum("sha256 Kq5sNclPz7QV2+lfQIuc6R7oRu0=").ok());  // wrong length
}

TEST(HttpDate, FormatsRfc7231) { EXPECT_EQ(HttpDate(1403712000000), "Wed, 25 Jun 2014 16:00:00 GMT"); }

}  // namespace
}  // namespace cutroom::ingest
