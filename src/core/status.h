// Status: the outcome of an operation that can fail in an expected way.
//
// Modelled on LevelDB's Status: OK is cheap (no allocation), failures carry a
// small code from a fixed set plus a message with context (path, video id,
// job id). Code that crosses a module boundary returns Status or Result<T>
// instead of throwing; HTTP and CLI layers translate codes in one table each.
// Thread-safety: a Status is a value; copies are independent.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace cutroom {

enum class StatusCode {
  kOk = 0,
  kNotFound,
  kInvalidArgument,
  kAlreadyExists,
  kFailedPrecondition,
  kCorruption,
  kIOError,
  kUnavailable,
  kCancelled,
  kNotSupported,
  kResourceExhausted,
  kPermissionDenied,
  kUnauthenticated,
  kInternal,
};

// Stable snake_case name of a code ("not_found"); used in logs and as the
// fallback error code of HTTP responses.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) { return {StatusCode::kFailedPrecondition, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status NotSupported(std::string msg) { return {StatusCode::kNotSupported, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) { return {StatusCode::kResourceExhausted, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }
  static Status Unauthenticated(std::string msg) { return {StatusCode::kUnauthenticated, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  // Empty for OK.
  const std::string& message() const;

  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsInvalidArgument() const { return code() == StatusCode::kInvalidArgument; }
  bool IsAlreadyExists() const { return code() == StatusCode::kAlreadyExists; }
  bool IsCorruption() const { return code() == StatusCode::kCorruption; }
  bool IsCancelled() const { return code() == StatusCode::kCancelled; }

  // Returns a Status with the same code and "context: message".
  Status WithContext(std::string_view context) const;

  // "not_found: video vid_01... does not exist", or "ok".
  std::string ToString() const;

  void IgnoreError() const {}

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const State> state_;  // null means OK; immutable so copies share it
};

// Propagates a non-OK Status from an expression to the caller.
#define CUTROOM_RETURN_IF_ERROR(expr)              \
  do {                                             \
    ::cutroom::Status cutroom_status_ = (expr);    \
    if (!cutroom_status_.ok()) return cutroom_status_; \
  } while (0)

}  // namespace cutroom
