// Every fuzz target on its committed seeds (fuzz/corpus/<target>) and on
// every input that once broke it (fuzz/regressions/<target>), so a fixed
// crash stays fixed in the normal test run (under ASan/UBSan in
// scripts/test.sh), and on a few hostile inputs made here.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "fuzz/targets.h"
#include "support/test_support.h"

namespace cutroom::fuzz {
namespace {

size_t Replay(const NamedTarget& target, const std::string& folder) {
  size_t n = 0;
  std::error_code ec;
  const std::string dir = cutroom::testing::SourceDir() + "/fuzz/" + folder + "/" + target.name;
  if (!std::filesystem::is_directory(dir, ec)) return 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    std::string bytes = cutroom::testing::ReadFile(entry.path().string());
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(target.fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
    ++n;
  }
  return n;
}

TEST(FuzzReplay, EveryTargetHasSeedsAndSurvivesThemAndItsRegressions) {
  ASSERT_EQ(AllTargets().size(), 9u);
  for (const auto& target : AllTargets()) {
    SCOPED_TRACE(target.name);
    EXPECT_GE(Replay(target, "corpus"), 2u) << "seed corpus of " << target.name;
    Replay(target, "regressions");
  }
}

TEST(FuzzReplay, EveryTargetSurvivesEmptyTruncatedAndBinaryInput) {
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 131 + 7) & 0xff);
  const std::string hostile[] = {"", std::string(1, '\0'), std::string(10000, '{'), std::string(10000, '\\'),
                                 "\xff\xfe\x00", junk};
  for (const auto& target : AllTargets()) {
    for (const auto& input : hostile) {
      SCOPED_TRACE(std::string(target.name) + " on " + std::to_string(input.size()) + " bytes");
      EXPECT_EQ(target.fn(reinterpret_cast<const uint8_t*>(input.data()), input.size()), 0);
    }
    // Every seed cut short at each of a few lengths.
    const std::string dir = cutroom::testing::SourceDir() + "/fuzz/corpus/" + target.name;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      std::string bytes = cutroom::testing::ReadFile(entry.path().string());
      for (size_t cut : {size_t{1}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 1}) {
        if (cut == 0 || cut >= bytes.size()) continue;
        EXPECT_EQ(target.fn(reinterpret_cast<const uint8_t*>(bytes.data()), cut), 0);
      }
    }
  }
}

}  // namespace
}  // namespace cutroom::fuzz
