// Result<T>: either a value or a non-OK Status.
//
// Used for functions that produce something and can fail in an expected way.
// Accessing value() of a failed Result is a programming error (asserts).
// Thread-safety: a value type.
#pragma once

#include <cassert>
#include <optional>
#include <utility>

#include "core/status.h"

namespace cutroom {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok() && "Result constructed from an OK Status without a value");
    if (status_.ok()) status_ = Status::Internal("Result built from OK status without a value");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  Status status_;
  std::optional<T> value_;
};

#define CUTROOM_CONCAT_INNER_(a, b) a##b
#define CUTROOM_CONCAT_(a, b) CUTROOM_CONCAT_INNER_(a, b)

// CUTROOM_ASSIGN_OR_RETURN(auto x, Foo()); declares x from Foo()'s value or
// returns its Status.
#define CUTROOM_ASSIGN_OR_RETURN(lhs, expr) \
  CUTROOM_ASSIGN_OR_RETURN_IMPL_(CUTROOM_CONCAT_(cutroom_result_, __LINE__), lhs, expr)
#define CUTROOM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()

}  // namespace cutroom
