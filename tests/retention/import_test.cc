// Retention imports: a YouTube Analytics report in the API's shape, Studio
// CSV exports in the encodings and separators people upload, plain points,
// and the malformed bodies each refused with the line (or row) and column
// that is wrong. Fixtures are in tests/retention/data; UTF-16 bodies are
// made here from UTF-8 so the test shows their text.
#include "analysis/retention/import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analysis/retention/curve.h"
#include "support/test_support.h"

namespace cutroom::analysis {
namespace {

using ::testing::HasSubstr;

std::string Fixture(const std::string& name) {
  return testing::ReadFile(testing::SourceDir() + "/tests/retention/data/" + name);
}

// UTF-8 (ASCII is enough here) as UTF-16 LE or BE with a byte order mark.
std::string Utf16(std::string_view ascii, bool big_endian) {
  std::string out = big_endian ? "\xFE\xFF" : "\xFF\xFE";
  for (char c : ascii) {
    if (big_endian) out += '\0';
    out += c;
    if (!big_endian) out += '\0';
  }
  return out;
}

RetentionImport Parse(std::string_view body, double duration_s = 120) {
  auto r = ParseRetentionImport(body, duration_s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.value_or({});
}

// The refusal's message, for matching; fails the test unless it is
// InvalidArgument.
std::string Refusal(std::string_view body, double duration_s = 120) {
  auto r = ParseRetentionImport(body, duration_s);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  return r.status().message();
}

TEST(RetentionImport, ReadsAYouTubeAnalyticsReportAsItsHundredRatioPoints) {
  RetentionImport in = Parse(Fixture("youtube_analytics.json"));
  EXPECT_EQ(in.format, "youtube_analytics");
  ASSERT_EQ(in.points.size(), 100u);
  EXPECT_DOUBLE_EQ(in.points.front().first, 0.01);
  EXPECT_DOUBLE_EQ(in.points.front().second, 1.0339);  // re-watches count: above 1
  EXPECT_DOUBLE_EQ(in.points.back().first, 1.0);
  EXPECT_DOUBLE_EQ(in.points.back().second, 0.26);
  ASSERT_EQ(in.relative.size(), 100u);
  EXPECT_DOUBLE_EQ(in.relative[39].first, 0.4);
  EXPECT_DOUBLE_EQ(in.relative[39].second, 0.6);

  RetentionCurve curve = ResampleRatioPoints(in.points, 120);
  EXPECT_EQ(curve.share.size(), 121u);
  EXPECT_NEAR(curve.At(60), 0.4501, 1e-3);  // the row at 0.5
}

TEST(RetentionImport, FindsAnalyticsColumnsByNameInAnyOrderAndSortsUnsortedRows) {
  // Extra columns, metrics before the dimension, string cells (as older
  // client libraries return them) and no `sort` in the query.
  RetentionImport in = Parse(R"({
    "kind": "youtubeAnalytics#resultTable",
    "columnHeaders": [
      {"name": "video", "columnType": "DIMENSION", "dataType": "STRING"},
      {"name": "audienceWatchRatio", "columnType": "METRIC", "dataType": "FLOAT"},
      {"name": "startedWatching", "columnType": "METRIC", "dataType": "INTEGER"},
      {"name": "elapsedVideoTimeRatio", "columnType": "DIMENSION", "dataType": "FLOAT"}
    ],
    "rows": [["dQw4w9WgXcQ", 0.8, 3, 0.02], ["dQw4w9WgXcQ", "0.95", 12, "0.01"], ["dQw4w9WgXcQ", 0.7, 1, 0.03]]
  })");
  EXPECT_EQ(in.points, (std::vector<std::pair<double, double>>{{0.01, 0.95}, {0.02, 0.8}, {0.03, 0.7}}));
  EXPECT_TRUE(in.relative.empty());
  EXPECT_THAT(in.notes, ::testing::Contains(HasSubstr("sorted")));
}

TEST(RetentionImport, ReadsAUtf16LittleEndianStudioExportWithTabs) {
  RetentionImport in = Parse(Utf16(
      "Video position (%)\tAudience retention (%)\r\n"
      "0\t100\r\n"
      "25\t70.5\r\n"
      "50\t61\r\n"
      "75\t55.5\r\n"
      "100\t40\r\n",
      false));
  EXPECT_EQ(in.format, "studio_csv");
  EXPECT_EQ(in.points, (std::vector<std::pair<double, double>>{
                           {0, 1.0}, {0.25, 0.705}, {0.5, 0.61}, {0.75, 0.555}, {1.0, 0.4}}));
  EXPECT_THAT(in.notes, ::testing::Contains("decoded from UTF-16 LE"));
  EXPECT_THAT(in.notes, ::testing::Contains("separator: tab"));
}

TEST(RetentionImport, ReadsUtf16BigEndianToo) {
  RetentionImport in = Parse(Utf16("position,retention\n0,1\n1,0.5\n", true));
  EXPECT_EQ(in.points, (std::vector<std::pair<double, double>>{{0, 1}, {1, 0.5}}));
}

TEST(RetentionImport, ReadsAUtf8StudioExportWithBomCommasQuotedPercentagesAndATotalRow) {
  RetentionImport in = Parse(Fixture("studio_utf8_bom.csv"));
  EXPECT_EQ(in.format, "studio_csv");
  ASSERT_EQ(in.points.size(), 11u);
  EXPECT_DOUBLE_EQ(in.points[1].first, 0.1);
  EXPECT_DOUBLE_EQ(in.points[1].second, 0.712);
  EXPECT_DOUBLE_EQ(in.points.back().first, 1.0);
  EXPECT_DOUBLE_EQ(in.points.back().second, 0.314);
  // The last line leaves relative retention empty: only ten are given.
  ASSERT_EQ(in.relative.size(), 10u);
  EXPECT_DOUBLE_EQ(in.relative[4].second, 0.62);
  EXPECT_THAT(in.notes, ::testing::Contains("skipped the summary row on line 13"));
}

TEST(RetentionImport, ReadsSemicolonsWithDecimalCommasAndNoBreakSpacesBeforePercent) {
  RetentionImport in = Parse("Position;\"% of viewers\"\n0;100\xC2\xA0%\n50;62,5\xC2\xA0%\n100;40\xC2\xA0%\n");
  EXPECT_EQ(in.points, (std::vector<std::pair<double, double>>{{0, 1}, {0.5, 0.625}, {1, 0.4}}));
}

TEST(RetentionImport, ReadsRatioColumnsAsRatios) {
  RetentionImport in = Parse("Elapsed video time ratio,Audience watch ratio\n0.01,1.1\n0.5,0.6\n1,0.3\n");
  EXPECT_EQ(in.points, (std::vector<std::pair<double, double>>{{0.01, 1.1}, {0.5, 0.6}, {1, 0.3}}));
}

TEST(RetentionImport, ConvertsTimestampPositionsWithTheVideoDuration) {
  RetentionImport in = Parse("Time,Retention\n0:00,100%\n0:30,80%\n1:00,60%\n1:00:00,20%\n", 3600);
  ASSERT_EQ(in.points.size(), 4u);
  EXPECT_DOUBLE_EQ(in.points[1].first, 30.0 / 3600);
  EXPECT_DOUBLE_EQ(in.points[2].first, 60.0 / 3600);
  EXPECT_DOUBLE_EQ(in.points[3].first, 1.0);
}

TEST(RetentionImport, TakesATimeRoundedPastTheEndAsTheEnd) {
  RetentionImport in = Parse("Time,Retention\n0:00,1\n0:42,0.4\n0:43,0.3\n", 42.3);
  EXPECT_DOUBLE_EQ(in.points.back().first, 1.0);
}

TEST(RetentionImport, ReadsPlainPointsInSecondsAsRatiosOfTheDuration) {
  RetentionImport in = Parse(Fixture("points_seconds.json"), 60);
  EXPECT_EQ(in.format, "points");
  EXPECT_EQ(in.points, (std::vector<std::pair<double, double>>{
                           {0, 1.0}, {0.25, 0.72}, {0.5, 0.61}, {0.75, 0.58}, {1.0, 0.41}}));
}

TEST(RetentionImport, ReadsPlainPointsAsSecondsWhenATimeExceedsOneWithoutAUnit) {
  RetentionImport in = Parse(R"({"points": [[0, 1], [10, 0.5], [20, 0.25]]})", 20);
  EXPECT_EQ(in.points, (std::vector<std::pair<double, double>>{{0, 1}, {0.5, 0.5}, {1, 0.25}}));
}

TEST(RetentionImport, ReadsPlainPointsGivenAsRatiosWithPercentShares) {
  RetentionImport in = Parse(Fixture("points_ratio.json"));
  EXPECT_EQ(in.format, "points");
  EXPECT_EQ(in.points, (std::vector<std::pair<double, double>>{
                           {0, 1.0}, {0.25, 0.745}, {0.5, 0.62}, {0.75, 0.5525}, {1.0, 0.4}}));
}

// --- Refusals ---

TEST(RetentionImport, RefusesABadNumberNamingTheLineAndColumn) {
  EXPECT_EQ(Refusal("Video position (%),Audience retention (%)\n0,100\n10,abc\n20,80\n"),
            "line 3, column 'Audience retention (%)': 'abc' is not a number");
}

TEST(RetentionImport, RefusesAnAnalyticsCellThatIsNotANumberNamingTheRow) {
  EXPECT_EQ(Refusal(R"({"columnHeaders": [{"name": "elapsedVideoTimeRatio"}, {"name": "audienceWatchRatio"}],
                        "rows": [[0.01, 1.0], [0.02, "n/a"]]})"),
            "rows[1], column 'audienceWatchRatio': 'n/a' is not a number");
}

TEST(RetentionImport, RefusesACsvWithoutARetentionColumnListingTheHeadersFound) {
  std::string m = Refusal("Video position (%),Views\n0,100\n50,60\n");
  EXPECT_THAT(m, HasSubstr("line 1: no retention column"));
  EXPECT_THAT(m, HasSubstr("'Video position (%)', 'Views'"));
}

TEST(RetentionImport, RefusesAReportWithoutAudienceWatchRatio) {
  EXPECT_THAT(Refusal(R"({"columnHeaders": [{"name": "elapsedVideoTimeRatio"}, {"name": "views"}], "rows": []})"),
              HasSubstr("no 'audienceWatchRatio' column (found: 'elapsedVideoTimeRatio', 'views')"));
}

TEST(RetentionImport, RefusesAPositionGoingBackwards) {
  EXPECT_EQ(Refusal("Video position (%),Audience retention (%)\n0,100\n20,80\n10,70\n"),
            "line 4, column 'Video position (%)': '10' comes before '20' (line 3); positions must increase");
}

TEST(RetentionImport, RefusesADuplicatePosition) {
  EXPECT_EQ(Refusal("Video position (%),Audience retention (%)\n0,100\n20,80\n20.0,70\n"),
            "line 4, column 'Video position (%)': '20.0' repeats the position of line 3");
  EXPECT_EQ(Refusal(R"({"columnHeaders": [{"name": "elapsedVideoTimeRatio"}, {"name": "audienceWatchRatio"}],
                        "rows": [[0.01, 1.0], [0.02, 0.9], [0.02, 0.8]]})"),
            "rows[2], column 'elapsedVideoTimeRatio': '0.02' repeats the position of rows[1]");
}

TEST(RetentionImport, RefusesANegativeShare) {
  EXPECT_EQ(Refusal(R"({"points": [[0, 1], [0.5, -0.2], [1, 0.1]]})"),
            "points[1], column 'share': '-0.2' is negative");
}

TEST(RetentionImport, RefusesAnAbsurdShare) {
  EXPECT_THAT(Refusal("Position,Retention\n0,100%\n50,2500%\n"),
              HasSubstr("line 3, column 'Retention': '2500%' is over 20 times"));
}

TEST(RetentionImport, RefusesNanAndInfinity) {
  EXPECT_EQ(Refusal("Position,Retention\n0,1\n0.5,nan\n1,0.2\n"),
            "line 3, column 'Retention': 'nan' is not a finite number");
  EXPECT_EQ(Refusal("Position,Retention\n0,1\n0.5,1e999\n1,0.2\n"),
            "line 3, column 'Retention': '1e999' is not a finite number");
}

// nlohmann throws out_of_range, not parse_error, for a number past a
// double's range; found by mutating the fixtures.
TEST(RetentionImport, RefusesAJsonNumberTooLargeForADouble) {
  EXPECT_THAT(Refusal(R"({"points": [[0, 1], [0.5e316, 0.5]]})"), HasSubstr("does not parse"));
}

TEST(RetentionImport, RefusesAnEmptyBody) {
  EXPECT_EQ(Refusal(""), "the body is empty");
  EXPECT_EQ(Refusal("\xEF\xBB\xBF \r\n\n"), "the body is empty");
}

TEST(RetentionImport, RefusesAHeaderWithoutData) {
  EXPECT_EQ(Refusal("Video position (%),Audience retention (%)\n"),
            "need at least 2 points, found 0 data lines after the header on line 1");
}

TEST(RetentionImport, RefusesASinglePoint) {
  EXPECT_EQ(Refusal(R"({"points": [[0, 1]]})"), "need at least 2 points, found 1 in 'points'");
}

TEST(RetentionImport, RefusesAReportWithoutRows) {
  EXPECT_THAT(Refusal(R"({"kind": "youtubeAnalytics#resultTable",
                         "columnHeaders": [{"name": "elapsedVideoTimeRatio"}, {"name": "audienceWatchRatio"}]})"),
              HasSubstr("the table has no rows"));
}

TEST(RetentionImport, RefusesTruncatedJson) {
  std::string full = Fixture("youtube_analytics.json");
  EXPECT_THAT(Refusal(full.substr(0, full.size() / 2)), HasSubstr("does not parse"));
}

TEST(RetentionImport, RefusesUtf16WithAnOddByteCount) {
  std::string body = Utf16("Position\tRetention\n0\t1\n1\t0.5\n", false);
  body.pop_back();
  EXPECT_EQ(Refusal(body), "the body is UTF-16 LE but has an odd number of bytes (" + std::to_string(body.size()) +
                               "): it was cut short");
}

TEST(RetentionImport, RefusesAPositionOf150Percent) {
  EXPECT_EQ(Refusal("Video position (%),Audience retention (%)\n0,100\n50,60\n150%,40\n"),
            "line 4, column 'Video position (%)': '150%' is outside 0..100%");
}

TEST(RetentionImport, RefusesARatioPositionAboveOne) {
  EXPECT_EQ(Refusal(R"({"columnHeaders": [{"name": "elapsedVideoTimeRatio"}, {"name": "audienceWatchRatio"}],
                        "rows": [[0.5, 1.0], [1.2, 0.9]]})"),
            "rows[1], column 'elapsedVideoTimeRatio': '1.2' is outside 0..1");
}

TEST(RetentionImport, RefusesTimesPastTheEndOrWithoutADuration) {
  EXPECT_EQ(Refusal("Time,Retention\n0:00,1\n2:05,0.5\n", 120),
            "line 3, column 'Time': '2:05' is past the end of the video (120 s)");
  EXPECT_THAT(Refusal("Time,Retention\n0:00,1\n0:30,0.5\n", 0), HasSubstr("the video's duration is unknown"));
  EXPECT_EQ(Refusal("Time,Retention\n0:00,1\n0:3x,0.5\n"),
            "line 3, column 'Time': '0:3x' is not a time (m:ss or h:mm:ss)");
}

TEST(RetentionImport, RefusesAnUnknownFormatListingWhatWasFound) {
  EXPECT_THAT(Refusal("hello world\nthis is not a table\n"), HasSubstr("unknown format"));
  EXPECT_THAT(Refusal(R"({"data": [1, 2]})"), HasSubstr("unknown format: a JSON object without 'columnHeaders'"));
  EXPECT_THAT(Refusal(R"({"data": [1, 2]})"), HasSubstr("keys found: 'data'"));
}

TEST(RetentionImport, RefusesAnUnclosedQuote) {
  EXPECT_EQ(Refusal("Position,Retention\n0,1\n1,\"0.5\n"), "line 3: a quoted field is never closed");
}

TEST(RetentionImport, RefusesALineMissingTheRetentionCell) {
  EXPECT_EQ(Refusal("Position,Retention\n0,1\n1\n"),
            "line 3, column 'Retention': missing (the line has 1 fields, the header 2)");
}

TEST(RetentionImport, RefusesAReportHoldingSeveralVideos) {
  EXPECT_THAT(Refusal(R"({"columnHeaders": [{"name": "video"}, {"name": "elapsedVideoTimeRatio"},
                                            {"name": "audienceWatchRatio"}],
                        "rows": [["a", 0.01, 1.0], ["a", 0.02, 0.9], ["b", 0.01, 1.0], ["b", 0.02, 0.8]]})"),
              HasSubstr("the table holds 2 videos"));
}

TEST(RetentionImport, RefusesABodyOverFiveMegabytes) {
  std::string body = "Position,Retention\n";
  while (body.size() <= kMaxRetentionImportBytes) body += "0.5,0.5\n";
  EXPECT_THAT(Refusal(body), HasSubstr("limited to 5 MB"));
}

}  // namespace
}  // namespace cutroom::analysis
