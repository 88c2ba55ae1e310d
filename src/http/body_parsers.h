// Incremental decoders for request bodies: chunked transfer coding and
// multipart/form-data.
//
// Both take bytes as they arrive, in pieces of any size (a delimiter split
// across two reads is found), hand the payload on without holding it (an
// upload streams through a few kilobytes of state), and stop at the first
// malformed byte with a reason. Every line and header block has a limit.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <string>

namespace cutroom::http {

// RFC 9112 7.1. Chunk extensions are ignored, trailer fields dropped.
class ChunkedDecoder {
 public:
  // Decodes from data, handing payload to on_data. Returns how many bytes
  // of data belong to the body: less than n once the last chunk and the
  // trailer are complete (the rest is the next request). Check failed()
  // and done() after each call. on_data returning false stops decoding
  // and sets aborted().
  size_t Feed(const char* data, size_t n, const httplib::ContentReceiver& on_data);

  bool done() const { return state_ == State::kDone; }
  bool failed() const { return state_ == State::kFailed; }
  bool aborted() const { return aborted_; }
  const std::string& error() const { return error_; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer, kDone, kFailed };
  void Fail(std::string why);

  State state_ = State::kSize;
  std::string line_;
  uint64_t remaining_ = 0;
  bool aborted_ = false;
  std::string error_;
};

// RFC 7578 multipart/form-data, streamed. Each part's headers go to
// on_header as an httplib::MultipartFormData (name, filename,
// content_type; content left empty), then its content to on_data in
// pieces. A part without a Content-Disposition naming it is malformed.
class MultipartParser {
 public:
  explicit MultipartParser(std::string boundary);

  // False when the body is malformed (see error()) or a callback said stop
  // (aborted()). Bytes after the closing delimiter are ignored.
  bool Feed(const char* data, size_t n, const httplib::MultipartContentHeader& on_header,
            const httplib::ContentReceiver& on_data);

  // Whether the closing delimiter has been seen.
  bool done() const { return state_ == State::kDone; }
  bool aborted() const { return aborted_; }
  const std::string& error() const { return error_; }

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kBody, kDone, kFailed };
  bool Fail(std::string why);
  bool ParsePartHeaders(std::string_view block, httplib::MultipartFormData& part);

  std::string delimiter_;  // "\r\n--" + boundary
  std::string buf_;        // bytes not yet handed on
  size_t preamble_seen_ = 0;
  State state_ = State::kPreamble;
  bool aborted_ = false;
  std::string error_;
};

}  // namespace cutroom::http
