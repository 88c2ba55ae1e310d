// Owner isolation proven by enumeration (issue 16): two owners, alice and
// bob, each with a processed video, clips, an edit job, an AI edit job, a
// retention import, a tus upload and jobs. The test reads /api/openapi.json
// and calls every route in it:
//   - with no key and with a bogus key: 401 on every owner route (the owner
//     check runs before anything that could look at a resource);
//   - as alice with bob's ids (in the path, the query or the body, all of
//     them and one at a time among alice's own): 404 (or the empty answer of
//     a filter), byte for byte the answer for a fresh id of the same shape
//     that was never stored, also with a body that fails validation, and
//     never a trace of bob's ids, title, file name or transcript;
//   - GET routes again with alice's ?access_token= instead of her key;
//   - as alice with her own ids, as a positive control (so a 404 above is
//     the owner check, not a malformed request).
// Lists and search never show bob's rows, SSE never streams bob's events,
// and nothing of bob's changes. A route the test cannot fill in (a new path
// parameter, or a new route that takes a body) fails the test until it is
// described below, so new routes are covered by construction.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>

#include "api/auth.h"
#include "server_fixture.h"

namespace cutroom::api {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TestMedia;
using Params = std::map<std::string, std::string>;

// Path, query and body placeholders that name a stored resource, and the
// ones that are plain values (the same for every owner).
const std::set<std::string> kIdParams = {
    "video_id", "clip_id",   "job_id",     "edit_job_id", "ai_edit_job_id",
    "asset_id", "upload_id", "scenes_run", "frames_run",  "transcription_run"};
const std::set<std::string> kValueParams = {"stage", "word"};

struct Answer {
  bool ok = false;
  int status = 0;
  httplib::Headers headers;
  std::string body;
  std::string ContentType() const {
    auto it = headers.find("Content-Type");
    return it == headers.end() ? "" : it->second;
  }
};

// One way to call a route: templates with {placeholders}.
struct Call {
  std::string query;          // "?q={word}"
  std::string body;           // "" for none
  std::string bad_body;       // a body that fails validation ("" for none)
  int stranger_status = 404;  // when bob's ids sit only in the query or body
};

// How to call a route, and what alice's own call may answer.
struct RouteSpec {
  std::vector<Call> calls = {Call{}};
  std::string content_type = "application/json";
  httplib::Headers headers;
  std::set<int> own = {200};
  int own_order = 0;  // own calls that change things run last, in this order
};

const httplib::Headers kTus = {{"Tus-Resumable", "1.0.0"}};

// Every route that is not a plain GET, and the GETs that need a query to
// mean something. A route missing here that is not a GET fails the test.
std::map<std::string, RouteSpec> RouteSpecs(const std::string& retention_curve) {
  std::map<std::string, RouteSpec> s;
  const std::string edit_out = R"("ranges": [[0, 1]], "aspect": "source", "reframe": "center", )"
                               R"("captions": false, "output": {"width": 160, "height": 90})";
  s["GET /api/videos/{video_id}/transcription/search"] = {{{"?q={word}"}}};
  s["GET /api/search"] = {{{"?q={word}"}, {"?q={word}&video_id={video_id}", "", "", 200}}};
  s["GET /api/jobs"] = {{{""}, {"?video_id={video_id}", "", "", 200}}};
  s["GET /api/videos/{video_id}/logs"] = {{{""}, {"?job_id={job_id}", "", "", 200}}};
  s["GET /api/videos/{video_id}/scenes"] = {{{""}, {"?processing_id={scenes_run}"}}};
  s["GET /api/videos/{video_id}/frames"] = {{{""}, {"?processing_id={frames_run}"}}};
  s["GET /api/videos/{video_id}/transcription"] = {
      {{""}, {"?format=srt"}, {"?processing_id={transcription_run}"}}};
  s["GET /api/videos/{video_id}/clips/{clip_id}/export"] = {{{"?format=otio"}, {"?format=srt"}}};
  s["GET /api/ai-edit-jobs/{ai_edit_job_id}/export"] = {{{"?format=otio"}}};
  s["GET /api/videos/{video_id}/stream"] = {{{""}}, "", {}, {200, 206}};
  s["GET /api/events"] = {
      {{"?last_event_id=0"}, {"?last_event_id=0&video_id={video_id}", "", "", 200}}};
  s["GET /api/uploads/{upload_id}"] = {{{""}}, "", kTus, {200}};

  s["PATCH /api/videos/{video_id}"] = {
      {{"", R"({"title": "renamed by alice"})", R"({"colour": "red"})"}},
      "application/json",
      {},
      {200},
      1};
  s["POST /api/videos/{video_id}/process/{stage}"] = {
      {{"", "", "{not json"}}, "application/json", {}, {202}, 1};
  s["POST /api/videos/{video_id}/retention/import"] = {
      {{"", retention_curve, "not a curve"}}, "application/json", {}, {201}, 1};
  s["POST /api/retention/fit"] = {{{"", R"({"min_videos": 2})", R"({"min_videos": "many"})"}},
                                  "application/json",
                                  {},
                                  {201, 409},
                                  1};
  s["POST /api/jobs/{job_id}/cancel"] = {{{""}}, "application/json", {}, {200, 409}, 1};
  s["POST /api/edit-jobs"] = {
      {{"", "{\"video_id\": \"{video_id}\", " + edit_out + "}",
        "{\"video_id\": \"{video_id}\", \"ranges\": \"all of it\"}"},
       {"", R"({"clip_id": "{clip_id}", "output": {"width": 160, "height": 90}})",
        R"({"clip_id": "{clip_id}", "aspect": "round"})"},
       {"", R"({"video_id": "{video_id}", "clip_id": "{clip_id}", "captions": false})",
        R"({"video_id": "{video_id}", "clip_id": "{clip_id}", "reframe": 7})"}},
      "application/json",
      {},
      {202},
      1};
  s["POST /api/ai-edit-jobs"] = {
      {{"", R"({"video_id": "{video_id}", "instruction": "remove the silences", "render": false})",
        R"({"video_id": "{video_id}", "instruction": "remove the silences", "outputs": 99})"}},
      "application/json",
      {},
      {202},
      1};
  // Multipart uploads are made by hand (UploadBody); a URL on loopback is
  // refused before anything is fetched.
  s["POST /api/videos/upload"] = {
      {{"", R"({"url": "http://127.0.0.1:9/{word}.mp4"})", R"({"url": 5})"}},
      "application/json",
      {},
      {400},
      1};
  httplib::Headers create = kTus;
  create.emplace("Upload-Length", "5");
  s["POST /api/uploads"] = {{{""}}, "", create, {201}, 1};
  httplib::Headers patch = kTus;
  patch.emplace("Upload-Offset", "0");
  s["PATCH /api/uploads/{upload_id}"] = {
      {{"", "hello", ""}}, "application/offset+octet-stream", patch, {204}, 1};
  s["DELETE /api/uploads/{upload_id}"] = {{{""}}, "", kTus, {204}, 2};
  s["DELETE /api/videos/{video_id}"] = {{{""}}, "", {}, {204}, 3};
  // Public: tus capabilities.
  s["OPTIONS /api/uploads"] = {{{""}}, "", {}, {204}};
  s["OPTIONS /api/uploads/{upload_id}"] = {{{""}}, "", {}, {204}};
  return s;
}

// The {name} placeholders of a template.
std::set<std::string> Placeholders(const std::string& text) {
  std::set<std::string> out;
  static const std::regex kName(R"(\{([a-z_][a-z0-9_]*)\})");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kName);
       it != std::sregex_iterator(); ++it) {
    out.insert((*it)[1]);
  }
  return out;
}

std::string Fill(const std::string& text, const Params& p) {
  std::string out;
  static const std::regex kName(R"(\{([a-z_][a-z0-9_]*)\})");
  size_t last = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kName);
       it != std::sregex_iterator(); ++it) {
    out += text.substr(last, static_cast<size_t>(it->position()) - last);
    auto found = p.find((*it)[1]);
    out += found == p.end() ? it->str() : found->second;
    last = static_cast<size_t>(it->position() + it->length());
  }
  return out + text.substr(last);
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

bool IsBinary(const Answer& a) {
  const std::string ct = a.ContentType();
  return ct.rfind("video/", 0) == 0 || ct.rfind("image/jpeg", 0) == 0 ||
         ct.rfind("image/png", 0) == 0 || ct.rfind("image/webp", 0) == 0 ||
         ct.rfind("audio/", 0) == 0 || ct.rfind("application/octet-stream", 0) == 0;
}

class Isolation : public ServerWithWorkers {
 protected:
  struct Owner {
    std::string name, key, owner_id;
    Params ids;                        // one of each resource, by placeholder
    std::set<std::string> all_ids;     // every id the owner has
    std::vector<std::string> phrases;  // transcript word triples
    std::string title, filename;
  };

  void ConfigureExtra(Config& c) override { ASSERT_OK(c.Set("ingest.upload_expiry_s", "3600")); }

  httplib::Headers Bearer(const Owner& o) const { return {{"Authorization", "Bearer " + o.key}}; }

  Answer Send(const std::string& method, const std::string& target, const httplib::Headers& headers,
              const std::string& body = "", const std::string& content_type = "") {
    httplib::Request req;
    req.method = method;
    req.path = target;
    req.headers = headers;
    if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
      req.body = body;
      if (!content_type.empty()) req.set_header("Content-Type", content_type);
    }
    Answer a;
    if (target.rfind("/api/events", 0) == 0 && method == "GET") return Stream(target, headers, 700);
    auto r = client_->send(req);
    if (!r) return a;
    a.ok = true;
    a.status = r->status;
    a.headers = r->headers;
    a.body = r->body;
    ++requests_;
    return a;
  }

  // An SSE stream read until it has been quiet for quiet_ms.
  Answer Stream(const std::string& target, const httplib::Headers& headers, int quiet_ms) {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(0, quiet_ms * 1000);
    Answer a;
    c.Get(
        target, headers,
        [&](const httplib::Response& res) {
          a.ok = true;
          a.status = res.status;
          a.headers = res.headers;
          return true;
        },
        [&](const char* data, size_t n) {
          a.body.append(data, n);
          return true;
        });
    ++requests_;
    return a;
  }

  std::string Get(const Owner& o, const std::string& target) {
    auto a = Send("GET", target, Bearer(o));
    EXPECT_EQ(a.status, 200) << target << ": " << a.body;
    return a.body;
  }
  nlohmann::json GetJson(const Owner& o, const std::string& target) {
    return nlohmann::json::parse(Get(o, target), nullptr, false);
  }

  std::string UploadAs(const Owner& o, const std::string& path, const std::string& name,
                       const std::string& title) {
    httplib::MultipartFormDataItems items = {
        {"file", ReadFile(path), name, "application/octet-stream"}, {"title", title, "", ""}};
    auto r = client_->Post("/api/videos/upload", Bearer(o), items);
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    return r ? Json(r).value("video_id", "") : "";
  }

  nlohmann::json PostJson(const Owner& o, const std::string& target, const nlohmann::json& body,
                          int want) {
    auto a = Send("POST", target, Bearer(o), body.dump(), "application/json");
    EXPECT_EQ(a.status, want) << target << " " << body.dump() << ": " << a.body;
    return nlohmann::json::parse(a.body, nullptr, false);
  }

  // Waits until none of the owner's jobs is queued or running.
  void WaitIdle(const Owner& o) {
    for (int i = 0; i < 3000; ++i) {
      auto queued = GetJson(o, "/api/jobs?status=queued&limit=1");
      auto running = GetJson(o, "/api/jobs?status=running&limit=1");
      if (queued["jobs"].empty() && running["jobs"].empty()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << o.name << "'s jobs never finished";
  }

  // Everything the owner has, as they see it, ids collected.
  void Collect(Owner& o) {
    const std::string v = o.ids["video_id"];
    auto add = [&](const nlohmann::json& j, const char* field) {
      if (j.contains(field) && j[field].is_string()) o.all_ids.insert(j[field].get<std::string>());
    };
    for (const auto& vid : GetJson(o, "/api/videos")["videos"]) add(vid, "video_id");
    for (const auto& job : GetJson(o, "/api/jobs?limit=200")["jobs"]) {
      add(job, "job_id");
      add(job, "processing_id");
    }
    auto assets = GetJson(o, "/api/videos/" + v + "/assets")["assets"];
    for (const auto& a : assets) add(a, "asset_id");
    ASSERT_FALSE(assets.empty()) << o.name;
    o.ids["asset_id"] = assets[0]["asset_id"];
    auto clips = GetJson(o, "/api/videos/" + v + "/clips")["clips"];
    for (const auto& c : clips) add(c, "clip_id");
    ASSERT_FALSE(clips.empty()) << o.name;
    o.ids["clip_id"] = clips[0]["clip_id"];
    for (const char* kind : {"scenes", "frames", "transcription"}) {
      auto run = GetJson(o, "/api/videos/" + v + "/" + kind);
      ASSERT_TRUE(run["processing_id"].is_string()) << o.name << " " << kind << ": " << run.dump();
      o.ids[std::string(kind) + "_run"] = run["processing_id"];
      if (std::string(kind) == "transcription") add(run, "transcription_id");
      if (std::string(kind) == "frames") {
        for (const auto& f : run["frames"]) add(f, "frame_id");
      }
    }
    for (const auto& e : GetJson(o, "/api/videos/" + v + "/edit-jobs")["edit_jobs"])
      add(e, "edit_job_id");
    for (const auto& e : GetJson(o, "/api/videos/" + v + "/ai-edit-jobs")["ai_edit_jobs"])
      add(e, "ai_edit_job_id");
    auto retention = GetJson(o, "/api/videos/" + v + "/retention");
    for (const char* part : {"predicted", "imported"}) {
      if (retention.contains(part) && retention[part].is_object())
        add(retention[part], "retention_id");
    }
    for (const auto& [name, id] : o.ids) {
      if (kIdParams.count(name)) o.all_ids.insert(id);
    }
    o.all_ids.insert(o.owner_id);
  }

  // What bob's own view looks like (compared before and after alice's calls).
  std::string Snapshot(const Owner& o) {
    const std::string v = "/api/videos/" + o.ids.at("video_id");
    std::string out;
    for (const std::string& t :
         {v, v + "/clips", v + "/edit-jobs", v + "/ai-edit-jobs", v + "/retention",
          v + "/transcription", std::string("/api/jobs?limit=200"), std::string("/api/videos")}) {
      out += t + " " + Get(o, t) + "\n";
    }
    auto up = Send("GET", "/api/uploads/" + o.ids.at("upload_id"), [&] {
      auto h = Bearer(o);
      h.emplace("Tus-Resumable", "1.0.0");
      return h;
    }());
    out += "upload " + std::to_string(up.status) + " offset " +
           (up.headers.count("Upload-Offset") ? up.headers.find("Upload-Offset")->second : "") +
           "\n";
    return out;
  }

  // Fails when the answer shows anything of the other owner's but the ids
  // the request itself named.
  void ExpectNothingOf(const Owner& other, const Answer& a, const std::set<std::string>& sent,
                       const std::string& what) {
    std::string text = a.body;
    for (const auto& [k, v] : a.headers) text += "\n" + k + ": " + v;
    for (const auto& id : other.all_ids) {
      if (sent.count(id)) continue;
      EXPECT_EQ(text.find(id), std::string::npos)
          << what << " shows " << other.name << "'s " << id << ":\n"
          << text.substr(0, 2000);
    }
    for (const std::string& secret : {other.title, other.filename}) {
      EXPECT_EQ(text.find(secret), std::string::npos)
          << what << " shows " << other.name << "'s " << secret;
    }
    if (IsBinary(a)) return;
    for (const auto& phrase : other.phrases) {
      EXPECT_EQ(text.find(phrase), std::string::npos)
          << what << " shows " << other.name << "'s words '" << phrase << "':\n"
          << text.substr(0, 2000);
    }
  }

  // The answer with the given ids written as their names, without what
  // differs between any two requests.
  static std::string Normal(const Answer& a, const Params& ids) {
    std::string out = std::to_string(a.status) + "\n";
    for (const auto& [k, v] : a.headers) {
      if (k == "X-Request-Id" || k == "Date" || k == "Content-Length" || k == "Keep-Alive" ||
          k == "Connection") {
        continue;
      }
      out += k + ": " + v + "\n";
    }
    out += a.body;
    for (const auto& [name, id] : ids) out = ReplaceAll(out, id, "<" + name + ">");
    static const std::regex kRequestId(R"("request_id":"[^"]*")");
    return std::regex_replace(out, kRequestId, R"("request_id":"")");
  }

  KeyService keys() { return KeyService(db_.get(), env_, &ids_); }

  Owner alice_, bob_;
  std::atomic<int> requests_{0};
};

TEST_F(Isolation, EveryRouteInTheOpenApiDocumentHidesAnotherOwnersResources) {
  const std::string talk = TestMedia("talk.mp4");
  const std::string small = TestMedia("small.mp4");
  REQUIRE_FILE(talk, "synthetic talk video");
  REQUIRE_FILE(small, "small test video");
  const auto t0 = std::chrono::steady_clock::now();

  for (auto* o : {&alice_, &bob_}) {
    o->name = o == &alice_ ? "alice" : "bob";
    auto created = keys().CreateKey(o->name, "isolation");
    ASSERT_OK(created.status());
    o->key = created->key;
    o->owner_id = created->owner.owner_id;
    o->title = o->name + "-title-quokka-" + ids_.Next("t");
    o->filename = o->name + "-file-narwhal.mp4";
  }

  // Alice listens to her events from before anything exists to the end of
  // the set-up (reconnecting with Last-Event-ID whenever the stream is quiet).
  std::atomic<bool> stop_events{false};
  std::string alice_events;
  std::thread listener([&] {
    std::string last = "0";
    while (!stop_events) {
      auto a = Stream("/api/events?last_event_id=" + last, Bearer(alice_), 500);
      static const std::regex kId(R"((^|\n)id: (\d+)\n)");
      for (auto it = std::sregex_iterator(a.body.begin(), a.body.end(), kId);
           it != std::sregex_iterator(); ++it) {
        last = (*it)[2];
      }
      alice_events += a.body;
    }
  });

  // Bob: the talk (a transcript to search); alice: the small clip. Both run
  // every stage.
  bob_.ids["video_id"] = UploadAs(bob_, talk, bob_.filename, bob_.title);
  alice_.ids["video_id"] = UploadAs(alice_, small, alice_.filename, alice_.title);
  PostJson(bob_, "/api/videos/" + bob_.ids["video_id"] + "/process/all", nlohmann::json::object(),
           202);
  PostJson(alice_, "/api/videos/" + alice_.ids["video_id"] + "/process/all",
           {{"clips", {{"min_s", 3}, {"max_s", 4}, {"count", 2}}}}, 202);
  WaitIdle(bob_);
  WaitIdle(alice_);
  for (auto* o : {&alice_, &bob_}) {
    const std::string v = o->ids["video_id"];
    // small.mp4 says nothing, so it has no clip from the stage: one is stored.
    if (GetJson(*o, "/api/videos/" + v + "/clips")["clips"].empty()) {
      db::Repositories repos(*db_, env_, &ids_);
      db::ClipCandidateRow clip;
      clip.video_id = v;
      clip.start_s = 0.5;
      clip.end_s = 2.5;
      clip.score = 0.5;
      clip.title = o->name + " clip";
      ASSERT_OK(repos.clip_candidates.Insert(clip).status());
    }
    auto edit = PostJson(*o, "/api/edit-jobs",
                         {{"video_id", v},
                          {"ranges", {{0, 1}}},
                          {"aspect", "source"},
                          {"reframe", "center"},
                          {"captions", false},
                          {"output", {{"width", 160}, {"height", 90}}}},
                         202);
    o->ids["edit_job_id"] = edit.value("edit_job_id", "");
    o->ids["job_id"] = edit.value("job_id", "");
    auto ai =
        PostJson(*o, "/api/ai-edit-jobs",
                 {{"video_id", v}, {"instruction", "remove the silences"}, {"render", false}}, 202);
    o->ids["ai_edit_job_id"] = ai.value("ai_edit_job_id", "");
    auto imported =
        Send("POST", "/api/videos/" + v + "/retention/import", Bearer(*o),
             ReadFile(std::string(CUTROOM_SOURCE_DIR) + "/tests/retention/data/points_ratio.json"),
             "application/json");
    EXPECT_EQ(imported.status, 201) << imported.body;
    auto h = Bearer(*o);
    h.emplace("Tus-Resumable", "1.0.0");
    h.emplace("Upload-Length", "1000");
    auto up = Send("POST", "/api/uploads", h, "", "");
    ASSERT_EQ(up.status, 201) << up.body;
    std::string location = up.headers.find("Location")->second;
    o->ids["upload_id"] = location.substr(location.find_last_of('/') + 1);
    o->ids["stage"] = "frames";
  }
  WaitIdle(bob_);
  WaitIdle(alice_);
  stop_events = true;
  listener.join();
  for (auto* o : {&alice_, &bob_}) Collect(*o);
  ASSERT_FALSE(HasFatalFailure());

  // Bob's words: a word his search finds, and triples of his transcript.
  {
    std::string text =
        GetJson(bob_, "/api/videos/" + bob_.ids["video_id"] + "/transcription")["text"];
    std::vector<std::string> words;
    std::istringstream in(text);
    for (std::string w; in >> w;) words.push_back(w);
    ASSERT_GE(words.size(), 6u) << "bob's transcript is too short to look for: " << text;
    for (size_t i = 0; i + 2 < words.size() && bob_.phrases.size() < 8; i += 3) {
      std::string phrase = words[i] + " " + words[i + 1] + " " + words[i + 2];
      if (phrase.size() >= 12) bob_.phrases.push_back(phrase);
    }
    std::sort(words.begin(), words.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& w : words) {
      if (!std::all_of(w.begin(), w.end(),
                       [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }))
        continue;
      auto hits = GetJson(bob_, "/api/search?q=" + w)["hits"];
      if (!hits.empty()) {
        bob_.ids["word"] = alice_.ids["word"] = w;
        break;
      }
    }
    ASSERT_TRUE(bob_.ids.count("word")) << "bob's search finds none of his words";
  }
  const std::string bob_before = Snapshot(bob_);

  // The SSE stream alice held during all of that: her events, none of bob's.
  EXPECT_NE(alice_events.find(alice_.ids["job_id"]), std::string::npos)
      << alice_events.substr(0, 2000);
  {
    Answer a;
    a.body = alice_events;
    ExpectNothingOf(bob_, a, {}, "alice's event stream");
    static const std::regex kData(R"((^|\n)data: ([^\n]*))");
    int events = 0;
    for (auto it = std::sregex_iterator(alice_events.begin(), alice_events.end(), kData);
         it != std::sregex_iterator(); ++it, ++events) {
      auto data = nlohmann::json::parse((*it)[2].str(), nullptr, false);
      EXPECT_TRUE(alice_.all_ids.count(data.value("video_id", ""))) << data.dump();
    }
    EXPECT_GT(events, 5);
  }

  // Alice's media token, for the GET routes browsers load.
  const std::string token = GetJson(alice_, "/api/media-token")["token"];

  // The document, enumerated.
  auto doc = nlohmann::json::parse(Send("GET", "/api/openapi.json", {}).body, nullptr, false);
  ASSERT_TRUE(doc.is_object() && doc["paths"].is_object());
  const auto specs = RouteSpecs(
      ReadFile(std::string(CUTROOM_SOURCE_DIR) + "/tests/retention/data/points_ratio.json"));
  struct OwnCall {
    int order;
    std::string method, target, body, content_type, route;
    httplib::Headers headers;
    std::set<int> want;
  };
  std::vector<OwnCall> own_calls;
  std::set<std::string> routes, covered, public_routes;
  int stranger_probes = 0;

  for (const auto& [pattern, methods] : doc["paths"].items()) {
    for (const auto& [lower, op] : methods.items()) {
      std::string method = lower;
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const std::string route = method + " " + pattern;
      routes.insert(route);
      SCOPED_TRACE(route);
      const bool is_public = !op.contains("security");
      auto found = specs.find(route);
      if (found == specs.end() && method != "GET") {
        ADD_FAILURE() << route
                      << " is not described in RouteSpecs (its body and what its owner gets)";
        continue;
      }
      const RouteSpec spec = found == specs.end() ? RouteSpec{} : found->second;
      bool known = true;
      for (const auto& name : Placeholders(pattern)) {
        if (!kIdParams.count(name) && !kValueParams.count(name)) {
          ADD_FAILURE() << route << " has a path parameter {" << name
                        << "} the isolation test does not know: map it";
          known = false;
        }
      }
      if (!known) continue;
      if (is_public) public_routes.insert(route);

      for (const auto& call : spec.calls) {
        const std::string target_t = pattern + call.query;
        std::set<std::string> id_names;
        for (const auto& t : {target_t, call.body, call.bad_body}) {
          for (const auto& n : Placeholders(t)) {
            if (kIdParams.count(n)) id_names.insert(n);
            if (!kIdParams.count(n) && !kValueParams.count(n))
              ADD_FAILURE() << route << ": unknown {" << n << "}";
          }
        }
        // No key, an unknown key, another scheme: 401 before any lookup.
        {
          const std::string target = Fill(target_t, bob_.ids);
          const std::string body = Fill(call.body, bob_.ids);
          for (const httplib::Headers& auth :
               {httplib::Headers{},
                httplib::Headers{{"Authorization", "Bearer cr_" + std::string(43, 'A')}},
                httplib::Headers{{"Authorization", "Basic " + bob_.key}}}) {
            httplib::Headers h = spec.headers;
            for (const auto& kv : auth) h.insert(kv);
            auto a = Send(method, target, h, body, spec.content_type);
            if (is_public) {
              EXPECT_NE(a.status, 401) << target;
            } else {
              EXPECT_EQ(a.status, 401) << target << ": " << a.body;
              EXPECT_EQ(a.headers.count("WWW-Authenticate"), 1u) << target;
            }
            ExpectNothingOf(bob_, a, {}, "no key: " + target);
            ExpectNothingOf(alice_, a, {}, "no key: " + target);
          }
          // Alice's media token is for GET (and HEAD) only.
          if (!is_public && method != "GET") {
            std::string sep = target.find('?') == std::string::npos ? "?" : "&";
            auto a = Send(method, Fill(target_t, alice_.ids) + sep + "access_token=" + token,
                          spec.headers, Fill(call.body, alice_.ids), spec.content_type);
            EXPECT_EQ(a.status, 401) << method << " with a media token: " << a.body;
          }
        }

        // Bob's ids as alice: all of them, and each alone among alice's.
        std::vector<std::set<std::string>> variants;
        if (!id_names.empty()) variants.push_back(id_names);
        if (id_names.size() > 1) {
          for (const auto& n : id_names) variants.push_back({n});
        }
        for (const auto& from_bob : variants) {
          Params stranger = alice_.ids, missing = alice_.ids, names;
          std::set<std::string> sent;
          for (const auto& n : from_bob) {
            stranger[n] = bob_.ids[n];
            const std::string& id = bob_.ids[n];
            missing[n] = ids_.Next(id.substr(0, id.find('_')));
            ASSERT_EQ(missing[n].size(), id.size());
            names[n + ":bob"] = bob_.ids[n];
            names[n + ":missing"] = missing[n];
            sent.insert(id);
          }
          bool in_path = false;
          for (const auto& n : from_bob) in_path |= Placeholders(pattern).count(n) > 0;
          const int want = in_path ? 404 : call.stranger_status;
          std::vector<std::pair<std::string, std::string>> bodies = {{"valid", call.body}};
          if (!call.bad_body.empty()) bodies.push_back({"invalid", call.bad_body});
          for (const auto& [kind, body_t] : bodies) {
            const std::string what =
                route + " " + kind + " body, bob's " + nlohmann::json(from_bob).dump();
            httplib::Headers h = spec.headers;
            for (const auto& kv : Bearer(alice_)) h.insert(kv);
            auto theirs = Send(method, Fill(target_t, stranger), h, Fill(body_t, stranger),
                               spec.content_type);
            auto nobodys =
                Send(method, Fill(target_t, missing), h, Fill(body_t, missing), spec.content_type);
            ++stranger_probes;
            if (kind == "valid" && !is_public) {
              EXPECT_EQ(theirs.status, want) << what << ": " << theirs.body;
            }
            // Names normalised: a stranger's id and a missing one read alike.
            Params norm;
            for (const auto& n : from_bob) norm[n] = stranger[n];
            Params norm_missing;
            for (const auto& n : from_bob) norm_missing[n] = missing[n];
            EXPECT_EQ(Normal(theirs, norm), Normal(nobodys, norm_missing))
                << what << ": a stranger's resource answers unlike a missing one";
            ExpectNothingOf(bob_, theirs, sent, what);
            // The same GET with alice's media token in the URL.
            if (method == "GET" && !is_public && kind == "valid") {
              std::string target = Fill(target_t, stranger);
              target += (target.find('?') == std::string::npos ? "?" : "&") +
                        std::string("access_token=") + token;
              auto by_token = Send(method, target, spec.headers);
              EXPECT_EQ(by_token.status, want)
                  << what << " with alice's media token: " << by_token.body;
              ExpectNothingOf(bob_, by_token, sent, what + " (media token)");
            }
          }
        }

        // Alice's own call: the positive control (and a scan for bob's data,
        // which matters most for the routes that take no id: lists, search).
        httplib::Headers h = spec.headers;
        for (const auto& kv : Bearer(alice_)) h.insert(kv);
        std::string own_target = Fill(target_t, alice_.ids);
        if (is_public && method == "OPTIONS") h = spec.headers;
        int order = method == "GET" || method == "OPTIONS" ? 0 : std::max(spec.own_order, 1);
        own_calls.push_back({order, method, own_target, Fill(call.body, alice_.ids),
                             spec.content_type, route, h, spec.own});
      }
      covered.insert(route);
    }
  }

  // Nothing of bob's changed (a PATCH, DELETE, cancel or import with his
  // ids took no effect).
  EXPECT_EQ(Snapshot(bob_), bob_before);

  // Lists and search, explicitly.
  for (const auto& v : GetJson(alice_, "/api/videos?limit=200")["videos"]) {
    EXPECT_TRUE(alice_.all_ids.count(v["video_id"])) << v.dump();
  }
  for (const auto& j : GetJson(alice_, "/api/jobs?limit=200")["jobs"]) {
    EXPECT_FALSE(bob_.all_ids.count(j.value("video_id", ""))) << j.dump();
  }
  EXPECT_TRUE(GetJson(alice_, "/api/jobs?video_id=" + bob_.ids["video_id"])["jobs"].empty());
  auto bob_hits = GetJson(bob_, "/api/search?q=" + bob_.ids["word"])["hits"];
  ASSERT_FALSE(bob_hits.empty());
  for (const auto& hit : GetJson(alice_, "/api/search?q=" + bob_.ids["word"])["hits"]) {
    EXPECT_FALSE(bob_.all_ids.count(hit.value("video_id", ""))) << hit.dump();
  }
  // Alice's token reads her stream, and not bob's.
  EXPECT_EQ(
      Send("GET", "/api/videos/" + alice_.ids["video_id"] + "/stream?access_token=" + token, {})
          .status,
      200);
  EXPECT_EQ(Send("GET", "/api/videos/" + bob_.ids["video_id"] + "/stream?access_token=" + token, {})
                .status,
            404);
  EXPECT_EQ(
      Send("GET", "/api/videos/" + bob_.ids["video_id"] + "/thumbnail?access_token=" + token, {})
          .status,
      404);

  // Positive controls: reads first, then what changes things, deleting last.
  std::stable_sort(own_calls.begin(), own_calls.end(),
                   [](const auto& a, const auto& b) { return a.order < b.order; });
  for (const auto& c : own_calls) {
    auto a = Send(c.method, c.target, c.headers, c.body, c.content_type);
    EXPECT_TRUE(c.want.count(a.status)) << c.route << " as its owner (" << c.target << ") answered "
                                        << a.status << ": " << a.body.substr(0, 500);
    ExpectNothingOf(bob_, a, {}, "alice's own " + c.target);
  }
  // Bob still has everything.
  EXPECT_EQ(Send("GET", "/api/videos/" + bob_.ids["video_id"], Bearer(bob_)).status, 200);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "isolation: " << covered.size() << " of " << routes.size()
            << " routes in the OpenAPI document (" << public_routes.size() << " public), "
            << stranger_probes << " stranger probes, " << requests_ << " requests, " << seconds
            << " s\n";
  EXPECT_EQ(covered, routes) << "routes the isolation test did not cover";
  EXPECT_GT(routes.size(), 40u);
}

}  // namespace
}  // namespace cutroom::api
