// The request head parser, query and range parsing, and the chunked and
// multipart decoders, fed whole and one byte at a time.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/body_parsers.h"
#include "http/request_head.h"

namespace cutroom::http {
namespace {

std::optional<HeadError> Parse(const std::string& head, RequestHead& out) { return ParseRequestHead(head, out); }

TEST(RequestHead, FindsTheEndOfAHeadWithCrlfOrBareLf) {
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY"), 27u);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\nHost: x\n\nBODY"), 24u);
  EXPECT_FALSE(FindHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n"));
  // Empty lines before the request line are skipped, not taken as the end.
  EXPECT_EQ(FindHeadEnd("\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 22u);
}

TEST(RequestHead, ParsesMethodPathQueryVersionAndHeaders) {
  RequestHead head;
  auto error = Parse("PATCH /api/videos/v%201?x=1&y=a+b HTTP/1.1\r\nHost: h\r\nX-A:  two words \r\n"
                     "Content-Length: 12\r\n\r\n", head);
  ASSERT_FALSE(error) << error->message;
  EXPECT_EQ(head.method, "PATCH");
  EXPECT_EQ(head.path, "/api/videos/v 1");
  EXPECT_EQ(head.query, "x=1&y=a+b");
  EXPECT_EQ(head.minor_version, 1);
  EXPECT_TRUE(head.keep_alive);
  ASSERT_TRUE(head.content_length);
  EXPECT_EQ(*head.content_length, 12u);
  EXPECT_EQ(head.headers.find("x-a")->second, "two words");  // names are case-insensitive
  httplib::Params params;
  ParseQueryString(head.query, params);
  EXPECT_EQ(params.find("y")->second, "a b");
}

TEST(RequestHead, RefusesWhatCouldSmuggleARequest) {
  RequestHead head;
  auto both = Parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", head);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->status, 400);
  auto two = Parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", head);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->status, 400);
  auto gzip = Parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", head);
  ASSERT_TRUE(gzip);
  EXPECT_EQ(gzip->status, 501);
  auto folded = Parse("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", head);
  ASSERT_TRUE(folded);
  EXPECT_EQ(folded->status, 400);
  auto sign = Parse("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", head);
  ASSERT_TRUE(sign);
  EXPECT_EQ(sign->status, 400);
  auto space = Parse("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", head);
  ASSERT_TRUE(space);
  EXPECT_EQ(space->status, 400);
  // The same Content-Length twice is one length.
  EXPECT_FALSE(Parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", head));
}

TEST(RequestHead, AnswersWithTheRightStatusForEachKindOfBadHead) {
  RequestHead head;
  EXPECT_EQ(Parse("GET / HTTP/2.0\r\n\r\n", head)->status, 505);
  EXPECT_EQ(Parse("GET /\r\n\r\n", head)->status, 400);
  EXPECT_EQ(Parse("GET " + std::string(kMaxRequestTarget + 1, 'a') + " HTTP/1.1\r\n\r\n", head)->status, 414);
  std::string many = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i <= kMaxHeaderFields; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(Parse(many + "\r\n", head)->status, 431);
  EXPECT_EQ(Parse("GET relative HTTP/1.1\r\n\r\n", head)->status, 400);
  EXPECT_EQ(Parse("GET /%00 HTTP/1.1\r\n\r\n", head)->status, 400);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nExpect: something\r\n\r\n", head)->status, 417);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", head)->status, 400);
}

TEST(RequestHead, KeepAliveFollowsTheVersionAndConnectionHeader) {
  RequestHead head;
  ASSERT_FALSE(Parse("GET / HTTP/1.0\r\n\r\n", head));
  EXPECT_FALSE(head.keep_alive);
  ASSERT_FALSE(Parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", head));
  EXPECT_TRUE(head.keep_alive);
  ASSERT_FALSE(Parse("GET / HTTP/1.1\r\nConnection: Upgrade, close\r\n\r\n", head));
  EXPECT_FALSE(head.keep_alive);
  ASSERT_FALSE(Parse("GET http://example.com/a/b?c=1 HTTP/1.1\r\n\r\n", head));
  EXPECT_EQ(head.path, "/a/b");
  EXPECT_EQ(head.query, "c=1");
}

TEST(Ranges, ParsesSpecsAndRefusesNonsense) {
  auto r = ParseRangeHeader("bytes=0-99, 200-,-50");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0], std::make_pair(ssize_t{0}, ssize_t{99}));
  EXPECT_EQ((*r)[1], std::make_pair(ssize_t{200}, ssize_t{-1}));
  EXPECT_EQ((*r)[2], std::make_pair(ssize_t{-1}, ssize_t{50}));
  EXPECT_FALSE(ParseRangeHeader("bytes=-"));
  EXPECT_FALSE(ParseRangeHeader("items=0-1"));
  EXPECT_FALSE(ParseRangeHeader("bytes=a-b"));
  EXPECT_FALSE(ParseRangeHeader("bytes=99999999999999999999-"));
  std::string many = "bytes=0-0";
  for (int i = 0; i < 20; ++i) many += ",0-0";
  EXPECT_FALSE(ParseRangeHeader(many));
}

TEST(Multipart, FindsTheBoundaryParameter) {
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(MultipartBoundary("multipart/form-data; charset=x; BOUNDARY=\"a b\""), "a b");
  EXPECT_EQ(MultipartBoundary("multipart/form-data"), "");
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'x')), "");
}

std::string Dechunk(const std::string& body, size_t step, bool* failed = nullptr, size_t* used_total = nullptr) {
  ChunkedDecoder decoder;
  std::string out;
  size_t used = 0;
  for (size_t i = 0; i < body.size() && !decoder.done() && !decoder.failed(); i += step) {
    size_t n = std::min(step, body.size() - i);
    used += decoder.Feed(body.data() + i, n, [&](const char* d, size_t len) {
      out.append(d, len);
      return true;
    });
  }
  if (failed) *failed = decoder.failed() || !decoder.done();
  if (used_total) *used_total = used;
  return out;
}

TEST(Chunked, DecodesInAnyPiecesAndStopsAtTheEnd) {
  const std::string body = "5;ext=1\r\nhello\r\nA\r\n, chunked!\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  for (size_t step : {1u, 2u, 7u, 1000u}) {
    bool failed = true;
    size_t used = 0;
    EXPECT_EQ(Dechunk(body, step, &failed, &used), "hello, chunked!") << step;
    EXPECT_FALSE(failed);
    EXPECT_EQ(used, body.size() - 4) << "the next request's bytes are not consumed";
  }
}

TEST(Chunked, RefusesBadSizesAndMissingLineEnds) {
  bool failed = false;
  Dechunk("zz\r\n", 3, &failed);
  EXPECT_TRUE(failed);
  Dechunk("1234567890123456\r\n", 3, &failed);  // 16 hex digits could overflow
  EXPECT_TRUE(failed);
  Dechunk("3\r\nabcX\r\n0\r\n\r\n", 1, &failed);
  EXPECT_TRUE(failed);
  Dechunk(std::string(2000, '1'), 100, &failed);
  EXPECT_TRUE(failed);
}

struct Part {
  std::string name, filename, content_type, content;
};

std::vector<Part> ParseMultipart(const std::string& boundary, const std::string& body, size_t step, bool* ok) {
  MultipartParser parser(boundary);
  std::vector<Part> parts;
  bool good = true;
  for (size_t i = 0; i < body.size() && good; i += step) {
    good = parser.Feed(
        body.data() + i, std::min(step, body.size() - i),
        [&](const httplib::MultipartFormData& f) {
          parts.push_back({f.name, f.filename, f.content_type, ""});
          return true;
        },
        [&](const char* d, size_t n) {
          parts.back().content.append(d, n);
          return true;
        });
  }
  *ok = good && parser.done();
  return parts;
}

TEST(Multipart, StreamsPartsSplitAnywhere) {
  const std::string boundary = "----WebKitFormBoundary7MA4YWxk";
  std::string binary;
  for (int i = 0; i < 3000; ++i) binary.push_back(static_cast<char>(i * 37));
  binary += "\r\n--" + boundary.substr(0, 10);  // a near-delimiter inside the data
  const std::string body = "preamble\r\n--" + boundary + "\r\n" +
                           "Content-Disposition: form-data; name=\"title\"\r\n\r\nMy talk\r\n--" + boundary + "\r\n" +
                           "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".mp4\"\r\n" +
                           "Content-Type: video/mp4\r\n\r\n" + binary + "\r\n--" + boundary + "--\r\nepilogue";
  for (size_t step : {1u, 3u, 64u, 100000u}) {
    bool ok = false;
    auto parts = ParseMultipart(boundary, body, step, &ok);
    ASSERT_TRUE(ok) << step;
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].name, "title");
    EXPECT_EQ(parts[0].content, "My talk");
    EXPECT_EQ(parts[1].name, "file");
    EXPECT_EQ(parts[1].filename, "a \"b\".mp4");
    EXPECT_EQ(parts[1].content_type, "video/mp4");
    EXPECT_EQ(parts[1].content, binary) << step;
  }
}

TEST(Multipart, TakesAnRfc5987FilenameAndRefusesBrokenBodies) {
  bool ok = false;
  auto parts = ParseMultipart("b",
                              "--b\r\nContent-Disposition: form-data; name=file; filename=x; "
                              "filename*=UTF-8''caf%C3%A9.mp4\r\n\r\nDATA\r\n--b--",
                              5, &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(parts[0].filename, "caf\xC3\xA9.mp4");
  ParseMultipart("b", "--b\r\nNo-Colon\r\n\r\nx\r\n--b--", 4, &ok);
  EXPECT_FALSE(ok);
  ParseMultipart("b", "--b\r\nContent-Type: a/b\r\n\r\nx\r\n--b--", 4, &ok);
  EXPECT_FALSE(ok) << "a part must say its name";
  ParseMultipart("b", "--b\r\nContent-Disposition: form-data; name=f\r\n\r\nno end", 4, &ok);
  EXPECT_FALSE(ok) << "an unterminated body is not complete";
  ParseMultipart("b", std::string(70000, 'x'), 1000, &ok);
  EXPECT_FALSE(ok) << "a body with no boundary is refused early";
  ParseMultipart("b", "--b\r\n" + std::string(9000, 'H') + "\r\n\r\n", 512, &ok);
  EXPECT_FALSE(ok) << "part headers are limited";
}

TEST(Multipart, AReceiverThatSaysStopStopsTheParser) {
  MultipartParser parser("b");
  std::string body = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b\r\n"
                     "Content-Disposition: form-data; name=b\r\n\r\n2\r\n--b--";
  int headers = 0;
  bool ok = parser.Feed(body.data(), body.size(), [&](const httplib::MultipartFormData&) { return ++headers < 2; },
                        [](const char*, size_t) { return true; });
  EXPECT_FALSE(ok);
  EXPECT_TRUE(parser.aborted());
  EXPECT_EQ(headers, 2);
}

}  // namespace
}  // namespace cutroom::http
