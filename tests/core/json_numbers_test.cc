#include "core/json_numbers.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace cutroom {
namespace {

TEST(JsonNumbers, TimesGoToTheMillisecondAndPrintShort) {
  nlohmann::json j = {{"start_s", 36.39999999999999},
                      {"end_s", 42.12345},
                      {"t", 0.0004},
                      {"ranges", {{1.23456, 2.5, 1.0}}},
                      {"words", {{{"word", "hi"}, {"start", 0.1 + 0.2}, {"end", 0.70049}}}}};
  TidyJsonNumbers(j);
  EXPECT_EQ(j.dump(),
            R"({"end_s":42.123,"ranges":[[1.235,2.5,1.0]],"start_s":36.4,"t":0.0,"words":[{"end":0.7,"start":0.3,"word":"hi"}]})");
}

TEST(JsonNumbers, EverythingBelowATimeKeyIsATime) {
  nlohmann::json j = {{"drop_points_s", {{{"at", 3.14159}}}}, {"duration_s", -0.0001}};
  TidyJsonNumbers(j);
  EXPECT_EQ(j["drop_points_s"][0]["at"].get<double>(), 3.142);
  EXPECT_EQ(j.dump(), R"({"drop_points_s":[{"at":3.142}],"duration_s":0.0})");  // no -0.0
}

TEST(JsonNumbers, OtherFractionsKeepNineDigitsWithoutBinaryNoise) {
  nlohmann::json j = {{"score", 0.1 + 0.2}, {"fps", 30000.0 / 1001}, {"ratio", 1.0 / 3}, {"tiny", 1.5e-12}};
  TidyJsonNumbers(j);
  EXPECT_EQ(j["score"].get<double>(), 0.3);
  EXPECT_EQ(j["fps"].get<double>(), 29.97003);
  EXPECT_EQ(j["ratio"].get<double>(), 0.333333333);
  EXPECT_EQ(j["tiny"].get<double>(), 1.5e-12);
}

TEST(JsonNumbers, LeavesIntegersStringsAndNonFiniteValuesAlone) {
  nlohmann::json j = {{"size_bytes", 9007199254740993LL},
                      {"width", 1280},
                      {"start_s", "12.3456"},
                      {"end_s", std::numeric_limits<double>::infinity()},
                      {"score", nullptr}};
  TidyJsonNumbers(j);
  EXPECT_EQ(j["size_bytes"].get<int64_t>(), 9007199254740993LL);
  EXPECT_EQ(j["width"], 1280);
  EXPECT_EQ(j["start_s"], "12.3456");
  EXPECT_TRUE(std::isinf(j["end_s"].get<double>()));
  EXPECT_TRUE(j["score"].is_null());
}

TEST(JsonNumbers, RoundToMillisecond) {
  EXPECT_EQ(RoundToMillisecond(1.0006), 1.001);
  EXPECT_EQ(RoundToMillisecond(-2.0004), -2.0);
  EXPECT_EQ(RoundToMillisecond(7200.12345), 7200.123);
}

}  // namespace
}  // namespace cutroom
