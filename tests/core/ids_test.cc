#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "core/fake_env.h"

namespace cutroom {
namespace {

TEST(IdGenerator, MakesPrefixedValidIds) {
  FakeEnv env;
  IdGenerator ids(&env);
  std::string id = ids.Next(kVideoIdPrefix);
  EXPECT_EQ(id.substr(0, 4), "vid_");
  EXPECT_EQ(id.size(), 4u + 26u);
  EXPECT_TRUE(IsValidId(id, kVideoIdPrefix));
  EXPECT_FALSE(IsValidId(id, kJobIdPrefix));
  EXPECT_FALSE(IsValidId("vid_../../etc/passwd", kVideoIdPrefix));
  EXPECT_FALSE(IsValidId("vid_0123456789ABCDEFGHJKMNPQRs", kVideoIdPrefix));  // lower case
}

TEST(IdGenerator, IdsSortByCreationTimeAcrossMilliseconds) {
  FakeEnv env;
  IdGenerator ids(&env);
  std::string a = ids.Next("vid");
  env.AdvanceMs(1);
  std::string b = ids.Next("vid");
  env.AdvanceMs(1000 * 3600 * 24);
  std::string c = ids.Next("vid");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST(IdGenerator, IdsAreStrictlyIncreasingWithinOneMillisecond) {
  FakeEnv env;  // the clock never moves
  IdGenerator ids(&env);
  std::string prev = ids.Next("job");
  for (int i = 0; i < 10000; ++i) {
    std::string next = ids.Next("job");
    ASSERT_LT(prev, next);
    prev = next;
  }
}

TEST(IdGenerator, IsUniqueAcrossThreads) {
  IdGenerator ids(Env::Default());
  std::vector<std::vector<std::string>> made(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) made[static_cast<size_t>(t)].push_back(ids.Next("vid"));
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (auto& v : made) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 8000u);
}

TEST(IdGenerator, EncodesTheTimestampInTheFirstTenCharacters) {
  FakeEnv env(0);
  IdGenerator ids(&env);
  EXPECT_EQ(ids.Next("vid").substr(4, 10), "0000000000");
}

}  // namespace
}  // namespace cutroom
