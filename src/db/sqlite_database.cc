// SQLite backend of Database: a pool of connections in WAL mode with
// foreign keys on, a busy timeout, and a per-connection prepared-statement
// cache. All sqlite3 handles are owned by unique_ptrs with their deleters.
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>

#include "db/database.h"
#include "db/sqlite_database.h"

namespace cutroom::db {
namespace {

struct Sqlite3Closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using SqliteHandle = std::unique_ptr<sqlite3, Sqlite3Closer>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// The one place SQLite result codes become Status codes.
Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return Status::AlreadyExists(msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return Status::FailedPrecondition(msg);
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return Status::InvalidArgument(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Status::Unavailable(msg);
    case SQLITE_NOTADB: return Status::Corruption(msg);
    case SQLITE_CORRUPT: {
      const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
      return DatabaseCorrupt(file ? file : "", msg);
    }
    case SQLITE_FULL: {
      // The API's 507: the marker is ingest::IsInsufficientStorage's.
      const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
      return Status::ResourceExhausted("insufficient storage: the database " + std::string(file ? file : "") +
                                       " cannot grow, its disk is full (" + msg + ")");
    }
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_READONLY: return Status::IOError(msg);
    case SQLITE_INTERRUPT: return Status::Cancelled(msg);
    default: return Status::Internal(msg);
  }
}

class SqliteConnection : public DbSession {
 public:
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path, const DatabaseOptions& options) {
    sqlite3* raw = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
    if (options.create_if_missing) flags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    SqliteHandle db(raw);
    if (rc != SQLITE_OK) return SqliteError(db.get(), rc, "open " + path);
    sqlite3_extended_result_codes(db.get(), 1);
    sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
    auto conn = std::unique_ptr<SqliteConnection>(new SqliteConnection(std::move(db), path));
    // The first statement reads the header: a file that is not a database
    // fails here, before anything could be written to it.
    Status st = conn->ExecuteScript("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;");
    if (st.ok() && path != ":memory:") {
      auto mode = conn->Query("PRAGMA journal_mode = WAL", {});
      st = mode.status();
    }
    if (st.ok()) st = conn->Query("SELECT count(*) FROM sqlite_schema", {}).status();
    if (!st.ok()) {
      if (IsDatabaseCorrupt(st)) return Status::Corruption(st.message() + "; the file was left untouched");
      if (st.IsCorruption()) {
        return Status::Corruption(path + " is not a cutroom database (SQLite says: " + st.message() +
                                  "); it was left untouched. Point database.url elsewhere or move the file away.");
      }
      return st.WithContext("open " + path);
    }
    return conn;
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<int64_t> Execute(std::string_view sql, const std::vector<DbValue>& params) override {
    CUTROOM_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
    StmtReset reset(stmt);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return SqliteError(db_.get(), rc, Abbrev(sql));
    return static_cast<int64_t>(sqlite3_changes(db_.get()));
  }

  Result<DbRows> Query(std::string_view sql, const std::vector<DbValue>& params) override {
    CUTROOM_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
    StmtReset reset(stmt);
    DbRows out;
    int ncol = sqlite3_column_count(stmt);
    for (int i = 0; i < ncol; ++i) out.columns.emplace_back(sqlite3_column_name(stmt, i));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<DbValue> row;
      row.reserve(static_cast<size_t>(ncol));
      for (int i = 0; i < ncol; ++i) {
        switch (sqlite3_column_type(stmt, i)) {
          case SQLITE_INTEGER: row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, i))); break;
          case SQLITE_FLOAT: row.emplace_back(sqlite3_column_double(stmt, i)); break;
          case SQLITE_NULL: row.emplace_back(std::monostate{}); break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
            row.emplace_back(std::string(text ? text : "", static_cast<size_t>(sqlite3_column_bytes(stmt, i))));
          }
        }
      }
      out.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return SqliteError(db_.get(), rc, Abbrev(sql));
    return out;
  }

  Status ExecuteScript(std::string_view sql) override {
    char* err = nullptr;
    std::string text(sql);
    int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
    std::unique_ptr<char, decltype(&sqlite3_free)> err_guard(err, sqlite3_free);
    if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, "script");
    return Status::Ok();
  }

 private:
  // Resets and clears bindings when a cached statement goes back to the cache.
  struct StmtReset {
    explicit StmtReset(sqlite3_stmt* s) : stmt(s) {}
    ~StmtReset() {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    }
    sqlite3_stmt* stmt;
  };

  SqliteConnection(SqliteHandle db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  static std::string Abbrev(std::string_view sql) {
    std::string s(sql.substr(0, 80));
    for (char& c : s) if (c == '\n') c = ' ';
    return s;
  }

  Result<sqlite3_stmt*> Prepare(std::string_view sql, const std::vector<DbValue>& params) {
    std::string key(sql);
    auto it = cache_.find(key);
    sqlite3_stmt* stmt;
    if (it == cache_.end()) {
      sqlite3_stmt* raw = nullptr;
      int rc = sqlite3_prepare_v3(db_.get(), key.data(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT,
                                  &raw, nullptr);
      if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, "prepare " + Abbrev(sql));
      stmt = raw;
      cache_.emplace(std::move(key), StmtHandle(raw));
    } else {
      stmt = it->second.get();
    }
    int expected = sqlite3_bind_parameter_count(stmt);
    if (expected != static_cast<int>(params.size())) {
      return Status::Internal("statement expects " + std::to_string(expected) + " parameters, got " +
                              std::to_string(params.size()) + ": " + Abbrev(sql));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      int rc = std::visit(
          [&](const auto& v) -> int {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) return sqlite3_bind_null(stmt, idx);
            else if constexpr (std::is_same_v<T, int64_t>) return sqlite3_bind_int64(stmt, idx, v);
            else if constexpr (std::is_same_v<T, double>) return sqlite3_bind_double(stmt, idx, v);
            else return sqlite3_bind_text(stmt, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
          },
          params[i]);
      if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, "bind");
    }
    return stmt;
  }

  // Statements are finalized before the connection closes (member order).
  SqliteHandle db_;
  std::string path_;
  std::map<std::string, StmtHandle, std::less<>> cache_;
};

class SqliteDatabase : public Database {
 public:
  SqliteDatabase(std::string path, DatabaseOptions options) : path_(std::move(path)), options_(options) {}

  Result<std::unique_ptr<SqliteConnection>> Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
    }
    return SqliteConnection::Open(path_, options_);
  }

  void Release(std::unique_ptr<SqliteConnection> conn) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(conn));
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<int64_t> Execute(std::string_view sql, const std::vector<DbValue>& params) override {
    CUTROOM_ASSIGN_OR_RETURN(auto conn, Acquire());
    auto r = conn->Execute(sql, params);
    Release(std::move(conn));
    return r;
  }

  Result<DbRows> Query(std::string_view sql, const std::vector<DbValue>& params) override {
    CUTROOM_ASSIGN_OR_RETURN(auto conn, Acquire());
    auto r = conn->Query(sql, params);
    Release(std::move(conn));
    return r;
  }

  Status ExecuteScript(std::string_view sql) override {
    CUTROOM_ASSIGN_OR_RETURN(auto conn, Acquire());
    Status st = conn->ExecuteScript(sql);
    Release(std::move(conn));
    return st;
  }

  Status Transaction(const std::function<Status(DbSession&)>& fn) override {
    CUTROOM_ASSIGN_OR_RETURN(auto conn, Acquire());
    Status st = conn->ExecuteScript("BEGIN IMMEDIATE");
    if (!st.ok()) {
      Release(std::move(conn));
      return st.WithContext("begin transaction");
    }
    st = fn(*conn);
    if (st.ok()) {
      st = conn->ExecuteScript("COMMIT");
      if (!st.ok()) conn->ExecuteScript("ROLLBACK").IgnoreError();
    } else {
      conn->ExecuteScript("ROLLBACK").IgnoreError();
    }
    Release(std::move(conn));
    return st;
  }

  Status Ping() override { return Query("SELECT 1", {}).status(); }

  std::string Describe() const override { return "sqlite://" + path_; }

  // Opens one connection eagerly so a bad path or a foreign file fails Open().
  Status Warm() {
    CUTROOM_ASSIGN_OR_RETURN(auto conn, SqliteConnection::Open(path_, options_));
    Release(std::move(conn));
    return Status::Ok();
  }

 private:
  static constexpr size_t kMaxIdle = 8;
  std::string path_;
  DatabaseOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path, Env* env,
                                                     const DatabaseOptions& options) {
  std::string file = path;
  if (file != ":memory:") {
    auto dir = std::filesystem::path(file).parent_path();
    if (!dir.empty() && !env->FileExists(dir.string())) {
      if (!options.create_if_missing) return Status::NotFound("database directory " + dir.string() + " does not exist");
      CUTROOM_RETURN_IF_ERROR(env->CreateDirs(dir.string()));
    }
    if (!options.create_if_missing && !env->FileExists(file)) {
      return Status::NotFound("database " + file + " does not exist");
    }
  } else {
    // A private in-memory database per connection would lose data between
    // pooled connections; share one by URI.
    static std::atomic<int> counter{0};
    file = "file:cutroom-mem-" + std::to_string(counter++) + "?mode=memory&cache=shared";
  }
  auto db = std::make_unique<SqliteDatabase>(file, options);
  CUTROOM_RETURN_IF_ERROR(db->Warm());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace cutroom::db
