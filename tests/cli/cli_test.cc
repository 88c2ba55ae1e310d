// The cutroom binary as users run it: separate processes, real signals.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "cli/sample_video.h"
#include "cli/process_helpers.h"
#include "core/subprocess.h"
#include "support/test_support.h"

namespace cutroom {
namespace {

using cutroom::testing::CutroomBinary;
using cutroom::testing::ReadFile;
using cutroom::testing::SourceDir;
using cutroom::testing::TempDir;
using cutroom::testing::WriteFile;
using cutroom::testing::FreePort;
using cutroom::testing::Spawn;
using cutroom::testing::WaitExit;

Status Cutroom(const std::vector<std::string>& args, std::string* out) {
  std::vector<std::string> argv = {CutroomBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, out);
}

TEST(Readme, CiRunsTheReadmesTestCommandVerbatim) {
  std::string readme = ReadFile(SourceDir() + "/README.md");
  std::string ci = ReadFile(SourceDir() + "/.ci/run");
  ASSERT_FALSE(readme.empty());
  ASSERT_FALSE(ci.empty());
  // The README's set-up commands are the first two lines of its first code block.
  auto start = readme.find("```");
  ASSERT_NE(start, std::string::npos);
  start = readme.find('\n', start) + 1;
  auto end = readme.find("```", start);
  std::istringstream block(readme.substr(start, end - start));
  std::vector<std::string> commands;
  for (std::string line; std::getline(block, line);) {
    if (!line.empty() && line[0] != '#') commands.push_back(line);
  }
  ASSERT_EQ(commands.size(), 2u) << "the README opens with exactly two commands";
  EXPECT_NE(commands[0].find("cutroom run --sample"), std::string::npos);
  EXPECT_NE(ci.find(commands[1]), std::string::npos) << ".ci/run must run: " << commands[1];
}

TEST(Serve, AnswersHealthzAndStopsCleanlyOnSigterm) {
  TempDir dir;
  int port = FreePort();
  pid_t pid = Spawn({"serve", "--listen", "127.0.0.1:" + std::to_string(port), "--data-dir", dir.path(),
                     "--log-format", "json"},
                    dir.File("serve.log"));
  httplib::Client client("127.0.0.1", port);
  int status = 0;
  for (int i = 0; i < 300 && status == 0; ++i) {
    if (auto r = client.Get("/healthz")) {
      status = r->status;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_EQ(status, 200) << ReadFile(dir.File("serve.log"));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0) << ReadFile(dir.File("serve.log"));
  std::string log = ReadFile(dir.File("serve.log"));
  EXPECT_NE(log.find("\"path\":\"/healthz\""), std::string::npos) << log;  // JSON access log
  EXPECT_NE(log.find("SIGTERM"), std::string::npos);
}

TEST(Serve, RefusesACorruptDatabaseAndLeavesItUntouched) {
  TempDir dir;
  std::string junk = "definitely not an SQLite database" + std::string(5000, '#');
  WriteFile(dir.File("cutroom.db"), junk);
  std::string out;
  Status st = Cutroom({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path()}, &out);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(out.find("not a cutroom database"), std::string::npos) << out;
  EXPECT_EQ(ReadFile(dir.File("cutroom.db")), junk);
}

TEST(Serve, RefusesANetworkAddressWithoutKeys) {
  TempDir dir;
  std::string out;
  Status st = Cutroom({"serve", "--listen", "0.0.0.0:" + std::to_string(FreePort()), "--data-dir", dir.path()}, &out);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(out.find("cutroom keys create --owner"), std::string::npos) << out;
}

TEST(Keys, CreatePrintsTheKeyOnceAndListShowsOnlyItsPrefix) {
  TempDir dir;
  std::string out;
  ASSERT_OK(Cutroom({"keys", "create", "--owner", "alice", "--data-dir", dir.path()}, &out));
  auto pos = out.find("cr_");
  ASSERT_NE(pos, std::string::npos) << out;
  std::string key = out.substr(pos, out.find('\n', pos) - pos);
  std::string listed;
  ASSERT_OK(Cutroom({"keys", "list", "--data-dir", dir.path()}, &listed));
  EXPECT_NE(listed.find(key.substr(0, 11)), std::string::npos) << listed;
  EXPECT_EQ(listed.find(key), std::string::npos) << "the full key must never be shown again";
}

TEST(Config, ShowPrintsEffectiveValuesWithTheirSources) {
  TempDir dir;
  WriteFile(dir.File("c.toml"), "[workers]\ncount = 3\n");
  std::string out;
  ASSERT_OK(Cutroom({"--config", dir.File("c.toml"), "config", "show", "--listen", "127.0.0.1:9999"}, &out));
  EXPECT_NE(out.find("127.0.0.1:9999"), std::string::npos) << out;
  EXPECT_NE(out.find("# flag"), std::string::npos);
  EXPECT_NE(out.find("# file"), std::string::npos);
  std::string bad;
  EXPECT_FALSE(Cutroom({"config", "show", "--set", "server.nope=1"}, &bad).ok());
  EXPECT_NE(bad.find("unknown config key 'server.nope'"), std::string::npos) << bad;
}

TEST(Migrate, IsIdempotentAndReportsTheVersion) {
  TempDir dir;
  std::string first, second;
  ASSERT_OK(Cutroom({"migrate", "--data-dir", dir.path()}, &first));
  EXPECT_NE(first.find("applied 0001_initial"), std::string::npos) << first;
  ASSERT_OK(Cutroom({"migrate", "--data-dir", dir.path()}, &second));
  EXPECT_NE(second.find("up to date"), std::string::npos) << second;
}

// Lower-case words, punctuation dropped ("Friday." -> "friday").
std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> words;
  std::string w;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '\'') {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!w.empty()) {
      words.push_back(w);
      w.clear();
    }
  }
  return words;
}

// Whether a JSON number is a whole number of milliseconds.
bool IsMilliseconds(const nlohmann::json& v) {
  double ms = v.get<double>() * 1000;
  return std::abs(ms - std::round(ms)) < 1e-6;
}

// The main job end to end: sample made, indexed, clips proposed and the
// best rendered as vertical clips with a report, into an output directory
// that did not exist.
TEST(Run, SampleBecomesRenderedClipsWithAReport) {
  TempDir dir;
  std::string out;
  Status st = Cutroom({"run", "--sample", "--data-dir", dir.File("data"), "--out", dir.File("out/first/run")}, &out);
  ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << out;
  EXPECT_NE(out.find("vid_"), std::string::npos) << out;
  EXPECT_NE(out.find("video (video/mp4, mp4)"), std::string::npos) << out;
  EXPECT_NE(out.find("1280x720"), std::string::npos) << out;
  EXPECT_NE(out.find("status       ready"), std::string::npos) << out;
  EXPECT_NE(out.find("keyframe"), std::string::npos) << out;
  EXPECT_NE(out.find("transcript"), std::string::npos) << out;
  EXPECT_NE(out.find("#   range"), std::string::npos) << out;
  auto report = nlohmann::json::parse(ReadFile(dir.File("out/first/run/report.json")));
  for (const auto& s : report["stages"]) EXPECT_EQ(s["status"], "succeeded") << s.dump();
  ASSERT_TRUE(report.contains("retention")) << report.dump(2);
  EXPECT_GT(report["retention"]["summary"]["at_end"].get<double>(), 0);
  EXPECT_GE(report["scenes"].get<int>(), 5);  // six scenes; a slide-to-slide cut may look alike
  ASSERT_FALSE(report["clips"].empty()) << report.dump(2);
  std::set<std::string> script;
  for (const auto& paragraph : cutroom::cli::SampleScript()) {
    for (const auto& w : Words(paragraph)) script.insert(w);
  }
  for (const auto& c : report["clips"]) {
    ASSERT_TRUE(c.contains("output")) << c.dump();
    std::string file = c["output"];
    EXPECT_TRUE(std::filesystem::exists(file)) << file;
    EXPECT_NE(out.find(file), std::string::npos) << out;
    // 9:16 at the platform size for a 720p source.
    EXPECT_EQ(c["width"], 720);
    EXPECT_EQ(c["height"], 1280);
    EXPECT_NEAR(c["duration_s"].get<double>(), c["end_s"].get<double>() - c["start_s"].get<double>(), 0.1);
    EXPECT_TRUE(IsMilliseconds(c["start_s"]) && IsMilliseconds(c["end_s"]) && IsMilliseconds(c["duration_s"]))
        << c.dump();
    // The title is a sentence of the script as recognised: pocketsphinx
    // reads flite's voice at about 10% WER, so allow one word in five off.
    auto title = Words(c["title"].get<std::string>());
    ASSERT_GE(title.size(), 3u) << c["title"];
    size_t known = std::count_if(title.begin(), title.end(), [&](const std::string& w) { return script.count(w); });
    EXPECT_GE(known * 5, title.size() * 4) << c["title"];
  }
}

TEST(Run, RefusesAnOutputDirectoryItCannotWriteBeforeDoingAnyWork) {
  TempDir dir;
  cutroom::testing::WriteFile(dir.File("taken"), "a file, not a directory");
  std::string out;
  Status st = Cutroom({"run", cutroom::testing::TestMedia("small.mp4"), "--data-dir", dir.File("data"), "--out",
                       dir.File("taken/sub")},
                      &out);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(out.find("cannot create the output directory"), std::string::npos) << out;
  EXPECT_EQ(out.find("vid_"), std::string::npos) << "nothing was ingested: " << out;
}

TEST(Process, RunsTheAvailableStagesAndShowsJobsAndLogs) {
  TempDir dir;
  std::string out;
  ASSERT_OK(Cutroom({"ingest", cutroom::testing::TestMedia("small.mp4"), "--data-dir", dir.path()}, &out));
  std::string video = out.substr(out.find("vid_"), 30);
  std::string processed;
  ASSERT_OK(Cutroom({"process", video, "--all", "--data-dir", dir.path()}, &processed));
  EXPECT_NE(processed.find("thumbnails     queued as job_"), std::string::npos) << processed;
  EXPECT_NE(processed.find("scenes         queued as job_"), std::string::npos) << processed;
  EXPECT_NE(processed.find("retention      queued as job_"), std::string::npos) << processed;
  EXPECT_NE(processed.find("thumbnails succeeded"), std::string::npos) << processed;
  std::string jobs, logs;
  ASSERT_OK(Cutroom({"jobs", "--video", video, "--data-dir", dir.path()}, &jobs));
  EXPECT_NE(jobs.find("succeeded"), std::string::npos) << jobs;
  ASSERT_OK(Cutroom({"logs", video, "--data-dir", dir.path()}, &logs));
  EXPECT_NE(logs.find("stored 3 thumbnail asset(s)"), std::string::npos) << logs;
  std::string retention;
  ASSERT_OK(Cutroom({"retention", video, "--data-dir", dir.path()}, &retention));
  EXPECT_NE(retention.find("predicted"), std::string::npos) << retention;
  EXPECT_NE(retention.find("drop points:"), std::string::npos) << retention;
}

TEST(Scenes, ListsAFileLikeListScenesAndStoresAVideosScenes) {
  std::string path = cutroom::testing::TestMedia("scenes-a.mp4");
  REQUIRE_FILE(path, "synthetic scene video");
  auto truth = nlohmann::json::parse(ReadFile(path + ".truth.json"));
  TempDir dir;
  std::string out;
  ASSERT_OK(Cutroom({"scenes", path, "--format", "json"}, &out));
  auto j = nlohmann::json::parse(out.substr(out.find('{')));
  ASSERT_EQ(j["scenes"].size(), truth["cuts_frame"].size() + 1) << out;
  for (size_t i = 1; i < j["scenes"].size(); ++i) {
    EXPECT_NEAR(j["scenes"][i]["start_frame"].get<int64_t>(), truth["cuts_frame"][i - 1].get<int64_t>(), 1);
  }
  std::string csv;
  ASSERT_OK(Cutroom({"scenes", path, "--format", "csv", "--detector", "adaptive"}, &csv));
  EXPECT_NE(csv.find("Scene Number,Start Frame,Start Timecode"), std::string::npos) << csv;
  // A stored video: the job runs here and its scenes are kept.
  ASSERT_OK(Cutroom({"ingest", path, "--data-dir", dir.path()}, &out));
  std::string video = out.substr(out.find("vid_"), 30);
  std::string edl;
  ASSERT_OK(Cutroom({"scenes", video, "--format", "edl", "--data-dir", dir.path()}, &edl));
  EXPECT_NE(edl.find("FCM: NON-DROP FRAME"), std::string::npos) << edl;
  EXPECT_NE(edl.find(std::to_string(truth["cuts_frame"].size() + 1) + "  AX"), std::string::npos) << edl;
  std::string bad;
  EXPECT_FALSE(Cutroom({"scenes", path, "--threshold", "9999"}, &bad).ok());
  EXPECT_NE(bad.find("0 to 255"), std::string::npos) << bad;
}

TEST(Search, FindsASpokenPhraseFromTheCommandLine) {
  REQUIRE_SHARED_DATA(wav, "speech/jfk.wav");
  TempDir dir;
  std::string out;
  ASSERT_OK(Cutroom({"ingest", wav, "--data-dir", dir.path()}, &out));
  std::string video = out.substr(out.find("vid_"), 30);
  ASSERT_OK(Cutroom({"process", video, "--stage", "transcription", "--data-dir", dir.path()}, &out));
  std::string found;
  ASSERT_OK(Cutroom({"search", "\"your country\"", "--data-dir", dir.path()}, &found));
  EXPECT_NE(found.find(video), std::string::npos) << found;
  EXPECT_NE(found.find("[your country]"), std::string::npos) << found;
  std::string srt;
  ASSERT_OK(Cutroom({"transcript", video, "--format", "srt", "--data-dir", dir.path()}, &srt));
  EXPECT_NE(srt.find(" --> "), std::string::npos) << srt;
}

TEST(Ingest, RefusesNonMediaAndKeepsNothing) {
  TempDir dir;
  WriteFile(dir.File("fake.mp4"), "<html>this is a web page, not a video</html>");
  std::string out;
  EXPECT_FALSE(Cutroom({"ingest", dir.File("fake.mp4"), "--data-dir", dir.File("data")}, &out).ok());
  EXPECT_NE(out.find("not a media file"), std::string::npos) << out;
  std::string media_dir = dir.File("data/blobs/media");
  EXPECT_FALSE(std::filesystem::exists(media_dir) && !std::filesystem::is_empty(media_dir));
}

TEST(Fsck, FindsAndRepairsWhatACrashOrAHandLeavesBehind) {
  TempDir dir;
  std::string data = dir.File("data");
  std::string out;
  ASSERT_TRUE(Cutroom({"ingest", cutroom::testing::TestMedia("small.mp4"), "--data-dir", data}, &out).ok()) << out;
  ASSERT_TRUE(Cutroom({"fsck", "--data-dir", data}, &out).ok()) << out;
  EXPECT_NE(out.find("ok: 0 orphan blob(s)"), std::string::npos) << out;

  // A file no row names, a staged write a crash left, a source deleted by hand.
  std::filesystem::create_directories(data + "/blobs/media/vid_gone");
  WriteFile(data + "/blobs/media/vid_gone/source", "orphan");
  WriteFile(data + "/blobs/.staging/0123456789abcdef", "half");
  std::filesystem::create_directories(data + "/uploads");
  WriteFile(data + "/uploads/upl_nobody.part", "tus bytes");
  std::string source;
  for (const auto& e : std::filesystem::recursive_directory_iterator(data + "/blobs/media")) {
    if (e.is_regular_file() && e.path().parent_path().filename() != "vid_gone") source = e.path();
  }
  ASSERT_FALSE(source.empty());
  std::filesystem::remove(source);

  // Young files are left alone (a stage may not have written its rows yet);
  // a missing file is a problem at any age.
  EXPECT_FALSE(Cutroom({"fsck", "--data-dir", data}, &out).ok()) << out;
  EXPECT_NE(out.find("ok: 0 orphan blob(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("ok: 0 stale staged write(s)"), std::string::npos) << out;
  Status found = Cutroom({"fsck", "--grace-s", "0", "--data-dir", data}, &out);
  EXPECT_FALSE(found.ok());
  EXPECT_NE(out.find("problem: 1 orphan blob(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("media/vid_gone/source"), std::string::npos) << out;
  EXPECT_NE(out.find("problem: 1 stale staged write(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("problem: 1 media whose source file is missing"), std::string::npos) << out;
  EXPECT_NE(out.find("problem: 1 upload file(s) of no active tus upload"), std::string::npos) << out;

  ASSERT_TRUE(Cutroom({"fsck", "--grace-s", "0", "--repair", "--data-dir", data}, &out).ok()) << out;
  EXPECT_NE(out.find("repaired"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(data + "/blobs/media/vid_gone/source"));
  EXPECT_FALSE(std::filesystem::exists(data + "/blobs/.staging/0123456789abcdef"));
  EXPECT_FALSE(std::filesystem::exists(data + "/uploads/upl_nobody.part"));
  // Clean now: the media row stays (failed, with the reason), so its missing
  // file is no longer a problem of a ready video.
  ASSERT_TRUE(Cutroom({"fsck", "--grace-s", "0", "--data-dir", data}, &out).ok()) << out;
  EXPECT_NE(out.find("0 blob(s), 1 referenced"), std::string::npos) << out;
}

}  // namespace
}  // namespace cutroom
