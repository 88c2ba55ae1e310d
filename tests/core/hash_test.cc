#include "core/hash.h"

#include <gtest/gtest.h>

namespace cutroom {
namespace {

TEST(Digest, MatchesKnownVectors) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto md5 = Digest::Create("md5");
  ASSERT_TRUE(md5.ok());
  md5->Update("abc", 3);
  EXPECT_EQ(md5->FinishHex(), "900150983cd24fb0d6963f7d28e17f72");
  auto sha1 = Digest::Create("sha1");
  sha1->Update("a", 1);
  sha1->Update("bc", 2);
  EXPECT_EQ(sha1->FinishHex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Digest, RejectsUnknownAlgorithms) { EXPECT_TRUE(Digest::Create("crc32").status().IsInvalidArgument()); }

}  // namespace
}  // namespace cutroom
