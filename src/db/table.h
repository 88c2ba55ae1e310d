// TableSpec<Row>: how a row struct maps onto a table.
//
// A spec lists each column once with a pointer to the struct member; the
// generic Repository (repository.h) derives every INSERT, SELECT, UPDATE and
// DELETE from it, so the column list is written once per table and the SQL
// cannot drift from the struct.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/rows.h"

namespace cutroom::db {

template <typename Row>
struct ColumnSpec {
  std::string name;
  std::function<DbValue(const Row&)> get;
  std::function<Status(Row&, const DbValue&)> set;
};

template <typename Row>
struct TableSpec {
  std::string table;
  std::string id_prefix;  // core/ids.h
  std::string Row::*id;   // primary key member
  std::vector<ColumnSpec<Row>> columns;  // the primary key first
};

namespace column_detail {

inline Status TypeError(const std::string& column, const char* want) {
  return Status::Corruption(std::string("column ") + column + " is not " + want);
}

// Conversions between member types and DbValue, one overload per type.
inline DbValue ToDb(const std::string& v) { return v; }
inline DbValue ToDb(const OptString& v) { return v ? DbValue(*v) : DbValue(); }
inline DbValue ToDb(int64_t v) { return v; }
inline DbValue ToDb(const OptInt& v) { return v ? DbValue(*v) : DbValue(); }
inline DbValue ToDb(double v) { return v; }
inline DbValue ToDb(const OptReal& v) { return v ? DbValue(*v) : DbValue(); }
inline DbValue ToDb(bool v) { return int64_t{v ? 1 : 0}; }
inline DbValue ToDb(const Json& v) { return v.is_null() ? DbValue() : DbValue(JsonText(v)); }

inline Status FromDb(const std::string& col, const DbValue& v, std::string& out) {
  if (const auto* s = std::get_if<std::string>(&v)) { out = *s; return Status::Ok(); }
  if (IsNull(v)) { out.clear(); return Status::Ok(); }
  return TypeError(col, "text");
}
inline Status FromDb(const std::string& col, const DbValue& v, OptString& out) {
  if (IsNull(v)) { out.reset(); return Status::Ok(); }
  std::string s;
  CUTROOM_RETURN_IF_ERROR(FromDb(col, v, s));
  out = std::move(s);
  return Status::Ok();
}
inline Status FromDb(const std::string& col, const DbValue& v, int64_t& out) {
  if (const auto* n = std::get_if<int64_t>(&v)) { out = *n; return Status::Ok(); }
  if (const auto* d = std::get_if<double>(&v)) { out = static_cast<int64_t>(*d); return Status::Ok(); }
  return TypeError(col, "an integer");
}
inline Status FromDb(const std::string& col, const DbValue& v, OptInt& out) {
  if (IsNull(v)) { out.reset(); return Status::Ok(); }
  int64_t n = 0;
  CUTROOM_RETURN_IF_ERROR(FromDb(col, v, n));
  out = n;
  return Status::Ok();
}
inline Status FromDb(const std::string& col, const DbValue& v, double& out) {
  if (const auto* d = std::get_if<double>(&v)) { out = *d; return Status::Ok(); }
  if (const auto* n = std::get_if<int64_t>(&v)) { out = static_cast<double>(*n); return Status::Ok(); }
  return TypeError(col, "a number");
}
inline Status FromDb(const std::string& col, const DbValue& v, OptReal& out) {
  if (IsNull(v)) { out.reset(); return Status::Ok(); }
  double d = 0;
  CUTROOM_RETURN_IF_ERROR(FromDb(col, v, d));
  out = d;
  return Status::Ok();
}
inline Status FromDb(const std::string& col, const DbValue& v, bool& out) {
  int64_t n = 0;
  CUTROOM_RETURN_IF_ERROR(FromDb(col, v, n));
  out = n != 0;
  return Status::Ok();
}
inline Status FromDb(const std::string& col, const DbValue& v, Json& out) {
  if (IsNull(v)) { out = nullptr; return Status::Ok(); }
  const auto* s = std::get_if<std::string>(&v);
  if (!s) return TypeError(col, "JSON text");
  out = Json::parse(*s, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) return Status::Corruption("column " + col + " holds invalid JSON");
  return Status::Ok();
}

}  // namespace column_detail

// Col("title", &MediaRow::title): a column bound to a member.
template <typename Row, typename Member>
ColumnSpec<Row> Col(std::string name, Member Row::*member) {
  return ColumnSpec<Row>{
      name,
      [member](const Row& row) { return column_detail::ToDb(row.*member); },
      [member, name](Row& row, const DbValue& v) { return column_detail::FromDb(name, v, row.*member); },
  };
}

// created_at and updated_at, shared by every table.
template <typename Row>
void AppendTimestampColumns(std::vector<ColumnSpec<Row>>& cols) {
  cols.push_back(Col<Row>("created_at", static_cast<std::string Row::*>(&Row::created_at)));
  cols.push_back(Col<Row>("updated_at", static_cast<std::string Row::*>(&Row::updated_at)));
}

}  // namespace cutroom::db
