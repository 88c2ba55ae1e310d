// Helpers shared by the tests: temporary directories, paths to shared test
// data and the built binary, and Status matchers.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/result.h"

namespace cutroom::testing {

// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// ../shared/data/<relative>, or "" when the shared data is not present.
std::string SharedData(const std::string& relative);
// A file made by make_test_media.sh (small.mp4, tone.wav, still.png).
std::string TestMedia(const std::string& name);
std::string SourceDir();
std::string CutroomBinary();

// The database URL a test should use: a SQLite file in dir, or, when
// CUTROOM_TEST_POSTGRES_URL names a PostgreSQL server (the "pg." copies of
// the database-touching tests; tests/support/pg_cluster.sh), a new empty
// database created on it for this test.
std::string TestDatabaseUrl(const TempDir& dir);
bool TestingPostgres();

void WriteFile(const std::string& path, const std::string& contents);
std::string ReadFile(const std::string& path);

}  // namespace cutroom::testing

#define ASSERT_OK(expr)                                   \
  do {                                                    \
    const ::cutroom::Status assert_ok_st_ = (expr);       \
    ASSERT_TRUE(assert_ok_st_.ok()) << assert_ok_st_.ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                   \
  do {                                                    \
    const ::cutroom::Status expect_ok_st_ = (expr);       \
    EXPECT_TRUE(expect_ok_st_.ok()) << expect_ok_st_.ToString(); \
  } while (0)

// Skips the current test, saying why, when an input file made outside the
// project (shared data, Debian's opencv-doc, the shared test-video tool)
// is missing.
#define REQUIRE_FILE(path, what)                                                    \
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing " << (what) << ": " << (path)

// Skips the current test when shared data is missing (with the reason).
#define REQUIRE_SHARED_DATA(path_var, relative)                                     \
  std::string path_var = ::cutroom::testing::SharedData(relative);                  \
  if (path_var.empty()) GTEST_SKIP() << "shared test data missing: " << (relative)
