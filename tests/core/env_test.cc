#include "core/env.h"

#include <gtest/gtest.h>

#include "core/fake_env.h"
#include "support/test_support.h"

namespace cutroom {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TempDir;

TEST(Timestamps, FormatIsFixedWidthUtcAndRoundTrips) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(1'780'000'000'123), "2026-05-28T20:26:40.123Z");
  auto back = ParseTimestamp("2026-05-28T20:26:40.123Z");
  ASSERT_OK(back.status());
  EXPECT_EQ(*back, 1'780'000'000'123);
  EXPECT_EQ(*ParseTimestamp("2026-05-28T20:26:40Z"), 1'780'000'000'000);
  EXPECT_FALSE(ParseTimestamp("yesterday").ok());
  EXPECT_FALSE(ParseTimestamp("2026-05-28T20:26:40+02:00").ok());
}

TEST(Env, WriteFileAtomicReplacesWholeFilesAndLeavesNoTemp) {
  TempDir dir;
  Env* env = Env::Default();
  ASSERT_OK(env->WriteFileAtomic(dir.File("a"), "first"));
  ASSERT_OK(env->WriteFileAtomic(dir.File("a"), "second version"));
  EXPECT_EQ(ReadFile(dir.File("a")), "second version");
  auto names = env->ListDir(dir.path());
  ASSERT_OK(names.status());
  EXPECT_EQ(names->size(), 1u);
}

TEST(Env, FailedWritesLeaveTheOldFileInPlace) {
  TempDir dir;
  FakeEnv env;
  ASSERT_OK(env.WriteFileAtomic(dir.File("a"), "old"));
  env.fail_writes_with = Status::ResourceExhausted("disk full");
  Status st = env.WriteFileAtomic(dir.File("a"), "new");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadFile(dir.File("a")), "old");
  EXPECT_EQ(env.ListDir(dir.path())->size(), 1u);
}

TEST(Env, MissingFilesAreNotFound) {
  Env* env = Env::Default();
  EXPECT_TRUE(env->NewReadableFile("/nonexistent/x").status().IsNotFound());
  EXPECT_TRUE(env->RemoveFile("/nonexistent/x").IsNotFound());
}

TEST(FakeEnv, ClockMovesOnlyWhenAdvanced) {
  FakeEnv env(1000);
  EXPECT_EQ(env.NowMs(), 1000);
  env.SleepForMicros(2'500'000);
  EXPECT_EQ(env.NowMs(), 3500);
  EXPECT_EQ(env.MonotonicMicros(), 3'500'000);
}

TEST(FakeEnv, RandomnessIsSeeded) {
  FakeEnv a(0, 7), b(0, 7), c(0, 8);
  unsigned char x[16], y[16], z[16];
  a.RandomBytes(x, 16);
  b.RandomBytes(y, 16);
  c.RandomBytes(z, 16);
  EXPECT_EQ(0, memcmp(x, y, 16));
  EXPECT_NE(0, memcmp(x, z, 16));
}

}  // namespace
}  // namespace cutroom
