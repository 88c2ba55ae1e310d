#include "core/status.h"

#include <gtest/gtest.h>

#include "core/result.h"

namespace cutroom {
namespace {

TEST(Status, DefaultIsOkAndCheap) {
  Status st;
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kOk);
  EXPECT_EQ(st.message(), "");
  EXPECT_EQ(st.ToString(), "ok");
}

TEST(Status, FactoriesCarryCodeAndMessage) {
  Status st = Status::NotFound("video vid_1 does not exist");
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(st.IsNotFound());
  EXPECT_EQ(st.ToString(), "not_found: video vid_1 does not exist");
  EXPECT_EQ(StatusCodeName(Status::ResourceExhausted("x").code()), "resource_exhausted");
}

TEST(Status, WithContextPrefixesTheMessageAndKeepsTheCode) {
  Status st = Status::IOError("disk full").WithContext("write /data/a");
  EXPECT_EQ(st.code(), StatusCode::kIOError);
  EXPECT_EQ(st.message(), "write /data/a: disk full");
  EXPECT_TRUE(Status::Ok().WithContext("ignored").ok());
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  CUTROOM_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(Result, PropagatesErrorsThroughAssignOrReturn) {
  EXPECT_EQ(*Quarter(8), 2);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_EQ(bad.value_or(-1), -1);
}

}  // namespace
}  // namespace cutroom
