// Repository<Row>: create, read, update, delete and list for one table.
//
// All SQL is derived from the table's TableSpec, with every identifier
// quoted so reserved words ("offset") work in both dialects. Ids are
// generated (sortable, prefixed) when a row arrives without one; created_at
// and updated_at come from the Env clock.
//
// Listing pages by primary key: ids sort by creation time, so "after this
// id" is a stable cursor that never skips or repeats rows when new ones
// arrive. Filters are equality on named columns; names are checked against
// the spec, never interpolated from user input.
//
// Thread-safety: as safe as the DbSession it wraps (a Database is; a
// transaction's session belongs to one thread).
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/ids.h"
#include "db/table.h"

namespace cutroom::db {

struct ListQuery {
  std::vector<std::pair<std::string, DbValue>> where;  // column = value, ANDed
  std::string after;          // cursor: the last id of the previous page
  int64_t limit = 50;         // 1..kMaxPageSize
  bool newest_first = false;  // order by id descending
};

inline constexpr int64_t kMaxPageSize = 1000;

template <typename Row>
struct Page {
  std::vector<Row> items;
  std::string next_cursor;  // empty on the last page
};

template <typename Row>
class Repository {
 public:
  Repository(DbSession& db, Env* env, IdGenerator* ids, const TableSpec<Row>& spec)
      : db_(db), env_(env), ids_(ids), spec_(spec) {}

  const TableSpec<Row>& spec() const { return spec_; }

  // Inserts row; assigns an id if it has none. Returns the stored row.
  // AlreadyExists on a duplicate key; FailedPrecondition when a referenced
  // row (media, owner) does not exist.
  Result<Row> Insert(Row row) {
    if ((row.*spec_.id).empty()) row.*spec_.id = ids_->Next(spec_.id_prefix);
    std::string now = FormatTimestamp(env_->NowMs());
    if (row.created_at.empty()) row.created_at = now;
    row.updated_at = now;
    std::string sql = "INSERT INTO " + Quote(spec_.table) + " (";
    std::string marks;
    std::vector<DbValue> params;
    for (size_t i = 0; i < spec_.columns.size(); ++i) {
      if (i) { sql += ", "; marks += ", "; }
      sql += Quote(spec_.columns[i].name);
      marks += "?";
      params.push_back(spec_.columns[i].get(row));
    }
    sql += ") VALUES (" + marks + ")";
    CUTROOM_RETURN_IF_ERROR(db_.Execute(sql, params).status().WithContext("insert into " + spec_.table));
    return row;
  }

  // NotFound when no row has this id.
  Result<Row> Get(const std::string& id) {
    CUTROOM_ASSIGN_OR_RETURN(auto rows, db_.Query(SelectSql() + " WHERE " + Quote(IdColumn()) + " = ?", {id}));
    if (rows.empty()) return Status::NotFound(Singular() + " " + id + " does not exist");
    return Decode(rows.rows[0]);
  }

  // Writes every column of row (matched by id); sets updated_at.
  // NotFound when the row is gone.
  Result<Row> Update(Row row) {
    row.updated_at = FormatTimestamp(env_->NowMs());
    std::string sql = "UPDATE " + Quote(spec_.table) + " SET ";
    std::vector<DbValue> params;
    bool first = true;
    for (const auto& col : spec_.columns) {
      if (col.name == IdColumn() || col.name == "created_at") continue;
      if (!first) sql += ", ";
      first = false;
      sql += Quote(col.name) + " = ?";
      params.push_back(col.get(row));
    }
    sql += " WHERE " + Quote(IdColumn()) + " = ?";
    params.push_back(row.*spec_.id);
    CUTROOM_ASSIGN_OR_RETURN(int64_t changed, db_.Execute(sql, params));
    if (changed == 0) return Status::NotFound(Singular() + " " + row.*spec_.id + " does not exist");
    return row;
  }

  // NotFound when no row has this id. Dependent rows go by ON DELETE CASCADE.
  Status Delete(const std::string& id) {
    CUTROOM_ASSIGN_OR_RETURN(int64_t changed,
                             db_.Execute("DELETE FROM " + Quote(spec_.table) + " WHERE " + Quote(IdColumn()) + " = ?",
                                         {id}));
    if (changed == 0) return Status::NotFound(Singular() + " " + id + " does not exist");
    return Status::Ok();
  }

  // InvalidArgument for an unknown filter column or a limit out of range.
  Result<Page<Row>> List(const ListQuery& q) {
    if (q.limit < 1 || q.limit > kMaxPageSize) {
      return Status::InvalidArgument("limit must be between 1 and " + std::to_string(kMaxPageSize) + ", got " +
                                     std::to_string(q.limit));
    }
    std::string sql = SelectSql();
    std::vector<DbValue> params;
    std::string where;
    for (const auto& [column, value] : q.where) {
      if (!HasColumn(column)) return Status::InvalidArgument("cannot filter " + spec_.table + " by '" + column + "'");
      where += where.empty() ? " WHERE " : " AND ";
      if (IsNull(value)) {
        where += Quote(column) + " IS NULL";
      } else {
        where += Quote(column) + " = ?";
        params.push_back(value);
      }
    }
    if (!q.after.empty()) {
      where += where.empty() ? " WHERE " : " AND ";
      where += Quote(IdColumn()) + (q.newest_first ? " < ?" : " > ?");
      params.push_back(q.after);
    }
    sql += where + " ORDER BY " + Quote(IdColumn()) + (q.newest_first ? " DESC" : " ASC") + " LIMIT ?";
    params.push_back(q.limit + 1);  // one extra row tells whether another page exists
    CUTROOM_ASSIGN_OR_RETURN(auto rows, db_.Query(sql, params));
    Page<Row> page;
    for (size_t i = 0; i < rows.size() && static_cast<int64_t>(i) < q.limit; ++i) {
      CUTROOM_ASSIGN_OR_RETURN(Row row, Decode(rows.rows[i]));
      page.items.push_back(std::move(row));
    }
    if (static_cast<int64_t>(rows.size()) > q.limit) page.next_cursor = page.items.back().*spec_.id;
    return page;
  }

  // Rows matching the filters, without paging (for small child sets).
  Result<int64_t> Count(const std::vector<std::pair<std::string, DbValue>>& where) {
    std::string sql = "SELECT COUNT(*) AS n FROM " + Quote(spec_.table);
    std::vector<DbValue> params;
    for (size_t i = 0; i < where.size(); ++i) {
      if (!HasColumn(where[i].first)) return Status::InvalidArgument("unknown column '" + where[i].first + "'");
      sql += (i ? " AND " : " WHERE ") + Quote(where[i].first) + " = ?";
      params.push_back(where[i].second);
    }
    CUTROOM_ASSIGN_OR_RETURN(auto rows, db_.Query(sql, params));
    return rows.Int(0, "n").value_or(0);
  }

  Result<Row> Decode(const std::vector<DbValue>& values) const {
    Row row;
    for (size_t i = 0; i < spec_.columns.size() && i < values.size(); ++i) {
      CUTROOM_RETURN_IF_ERROR(spec_.columns[i].set(row, values[i]).WithContext(spec_.table));
    }
    return row;
  }

  std::string SelectSql() const {
    std::string sql = "SELECT ";
    for (size_t i = 0; i < spec_.columns.size(); ++i) {
      if (i) sql += ", ";
      sql += Quote(spec_.columns[i].name);
    }
    return sql + " FROM " + Quote(spec_.table);
  }

  static std::string Quote(const std::string& ident) { return "\"" + ident + "\""; }

 private:
  const std::string& IdColumn() const { return spec_.columns.front().name; }
  bool HasColumn(const std::string& name) const {
    return std::any_of(spec_.columns.begin(), spec_.columns.end(), [&](const auto& c) { return c.name == name; });
  }
  std::string Singular() const {
    std::string t = spec_.table;
    if (t == "media") return "video";
    if (t.size() > 1 && t.back() == 's') t.pop_back();
    return t;
  }

  DbSession& db_;
  Env* env_;
  IdGenerator* ids_;
  const TableSpec<Row>& spec_;
};

}  // namespace cutroom::db
