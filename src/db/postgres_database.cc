// PostgreSQL backend of Database, on libpqxx: a pool of connections, SQL
// with '?' placeholders rewritten to $n and sent with PQexecParams (every
// parameter as text of unknown type, so the server infers it from the
// statement as it would for a literal), results typed by column OID.
//
// Transactions: fn runs in a READ COMMITTED transaction on one connection
// (the same guarantees the queries were written for under SQLite's single
// writer: every claim or update that must not race re-checks its condition
// in its WHERE clause, and the job claim locks its row with FOR UPDATE SKIP
// LOCKED). A serialization failure or deadlock rolls back and runs fn again,
// up to three times, so callers see Unavailable only when contention lasts.
// A broken connection is dropped from the pool, never reused.
#include "db/postgres_database.h"

#include <pqxx/pqxx>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

namespace cutroom::db {
namespace {

// Column type OIDs (pg_type.h), for typing results.
constexpr pqxx::oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701, kNumeric = 1700;

std::string Abbrev(std::string_view sql) {
  std::string s(sql.substr(0, 80));
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

// The one place PostgreSQL errors become Status codes, by SQLSTATE.
Status PgError(const std::exception& e, std::string_view what) {
  std::string msg = std::string(what) + ": " + e.what();
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) return Status::Unavailable(msg);
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (!sql) return Status::Internal(msg);
  const std::string state = sql->sqlstate();
  if (state == "23505") return Status::AlreadyExists(msg);
  if (state == "23503") return Status::FailedPrecondition(msg);
  if (state.rfind("23", 0) == 0 || state.rfind("22", 0) == 0) return Status::InvalidArgument(msg);
  if (state == "40001" || state == "40P01" || state == "55P03" || state == "57014" || state.rfind("08", 0) == 0 ||
      state.rfind("57P", 0) == 0) {
    return Status::Unavailable(msg);
  }
  if (state == "53100") {  // disk full: the API's 507 (ingest::IsInsufficientStorage's marker)
    return Status::ResourceExhausted("insufficient storage: the PostgreSQL server's disk is full (" + msg + ")");
  }
  if (state.rfind("53", 0) == 0) return Status::Unavailable(msg);
  return Status::Internal(msg);
}

bool IsRetryableConflict(const std::exception& e) {
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  return sql && (sql->sqlstate() == "40001" || sql->sqlstate() == "40P01");
}

bool IsBroken(const std::exception& e) { return dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr; }

// Parameters as libpq wants them: text, NULL as a null pointer.
class TextParams {
 public:
  explicit TextParams(const std::vector<DbValue>& params) {
    texts_.reserve(params.size());
    for (const DbValue& v : params) {
      if (const auto* n = std::get_if<int64_t>(&v)) {
        texts_.push_back(std::to_string(*n));
      } else if (const auto* d = std::get_if<double>(&v)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", *d);  // round-trips
        texts_.emplace_back(buf);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        texts_.push_back(*s);
      } else {
        texts_.emplace_back();
      }
    }
    for (size_t i = 0; i < params.size(); ++i) pointers_.push_back(IsNull(params[i]) ? nullptr : texts_[i].c_str());
  }
  const std::vector<const char*>& pointers() const { return pointers_; }

 private:
  std::vector<std::string> texts_;
  std::vector<const char*> pointers_;
};

DbRows ToRows(const pqxx::result& r) {
  DbRows out;
  const auto ncol = static_cast<pqxx::row::size_type>(r.columns());
  std::vector<pqxx::oid> types;
  for (pqxx::row::size_type i = 0; i < ncol; ++i) {
    out.columns.emplace_back(r.column_name(i));
    types.push_back(r.column_type(i));
  }
  out.rows.reserve(r.size());
  for (const auto& row : r) {
    std::vector<DbValue> values;
    values.reserve(ncol);
    for (pqxx::row::size_type i = 0; i < ncol; ++i) {
      const pqxx::field f = row[i];
      if (f.is_null()) {
        values.emplace_back(std::monostate{});
        continue;
      }
      switch (types[i]) {
        case kInt2:
        case kInt4:
        case kInt8: values.emplace_back(static_cast<int64_t>(std::strtoll(f.c_str(), nullptr, 10))); break;
        case kBool: values.emplace_back(static_cast<int64_t>(f.c_str()[0] == 't' ? 1 : 0)); break;
        case kFloat4:
        case kFloat8:
        case kNumeric: values.emplace_back(std::strtod(f.c_str(), nullptr)); break;
        default: values.emplace_back(std::string(f.c_str(), f.size()));
      }
    }
    out.rows.push_back(std::move(values));
  }
  return out;
}

// One statement on a transaction (explicit, or a nontransaction for
// autocommit).
Result<pqxx::result> Run(pqxx::transaction_base& tx, std::string_view sql, const std::vector<DbValue>& params) {
  const std::string text = PostgresPlaceholders(sql);
  try {
    if (params.empty()) return tx.exec(text);
    TextParams p(params);
    return tx.exec_params(text, pqxx::prepare::make_dynamic_params(p.pointers()));
  } catch (const std::exception& e) {
    return PgError(e, Abbrev(sql));
  }
}

// The session a Transaction callback gets: statements on the open
// transaction. A failed statement aborts a PostgreSQL transaction, so the
// first error is remembered and the transaction is rolled back whatever fn
// returns.
class PgTransactionSession : public DbSession {
 public:
  explicit PgTransactionSession(pqxx::work& tx) : tx_(tx) {}
  Dialect dialect() const override { return Dialect::kPostgres; }
  Result<int64_t> Execute(std::string_view sql, const std::vector<DbValue>& params) override {
    auto r = Checked(Run(tx_, sql, params));
    if (!r.ok()) return r.status();
    return static_cast<int64_t>(r->affected_rows());
  }
  Result<DbRows> Query(std::string_view sql, const std::vector<DbValue>& params) override {
    auto r = Checked(Run(tx_, sql, params));
    if (!r.ok()) return r.status();
    return ToRows(*r);
  }
  Status ExecuteScript(std::string_view sql) override {
    return Checked(Run(tx_, sql, {})).status();
  }
  const Status& first_error() const { return first_error_; }

 private:
  Result<pqxx::result> Checked(Result<pqxx::result> r) {
    if (!r.ok() && first_error_.ok()) first_error_ = r.status();
    return r;
  }
  pqxx::work& tx_;
  Status first_error_ = Status::Ok();
};

// LISTEN on a connection of its own; notifications arrive while it waits.
class PgListener : public ChannelListener {
 public:
  static Result<std::unique_ptr<PgListener>> Open(const std::string& url, const std::string& channel) {
    try {
      auto listener = std::unique_ptr<PgListener>(new PgListener(url));
      listener->receiver_ = std::make_unique<Receiver>(*listener->conn_, channel, &listener->signalled_);
      return listener;
    } catch (const std::exception& e) {
      return PgError(e, "listen on " + channel);
    }
  }

  Result<bool> Wait(int timeout_ms) override {
    try {
      if (!signalled_) conn_->await_notification(timeout_ms / 1000, (timeout_ms % 1000) * 1000L);
      bool was = signalled_;
      signalled_ = false;
      return was;
    } catch (const std::exception& e) {
      return PgError(e, "wait for notifications");
    }
  }

 private:
  struct Receiver : pqxx::notification_receiver {
    Receiver(pqxx::connection_base& c, const std::string& channel, bool* flag)
        : pqxx::notification_receiver(c, channel), flag_(flag) {}
    void operator()(const std::string&, int) override { *flag_ = true; }
    bool* flag_;
  };
  explicit PgListener(const std::string& url) : conn_(std::make_unique<pqxx::connection>(url)) {}
  // Declared after the connection, so destroyed before it: the receiver
  // unregisters itself from the connection.
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<Receiver> receiver_;
  bool signalled_ = false;
};

class PostgresDatabase : public Database {
 public:
  PostgresDatabase(std::string url, DatabaseOptions options) : url_(std::move(url)), options_(options) {}

  Dialect dialect() const override { return Dialect::kPostgres; }

  Result<int64_t> Execute(std::string_view sql, const std::vector<DbValue>& params) override {
    int64_t changed = 0;
    CUTROOM_RETURN_IF_ERROR(Autocommit(sql, params, [&](const pqxx::result& r) { changed = r.affected_rows(); }));
    return changed;
  }

  Result<DbRows> Query(std::string_view sql, const std::vector<DbValue>& params) override {
    DbRows rows;
    CUTROOM_RETURN_IF_ERROR(Autocommit(sql, params, [&](const pqxx::result& r) { rows = ToRows(r); }));
    return rows;
  }

  Status ExecuteScript(std::string_view sql) override {
    return Autocommit(sql, {}, [](const pqxx::result&) {});
  }

  Status Transaction(const std::function<Status(DbSession&)>& fn) override {
    constexpr int kAttempts = 3;
    Status last = Status::Ok();
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10 << attempt));
      CUTROOM_ASSIGN_OR_RETURN(auto conn, Acquire());
      bool retry = false, broken = false;
      try {
        pqxx::work tx(*conn);
        PgTransactionSession session(tx);
        Status st = fn(session);
        if (st.ok() && !session.first_error().ok()) st = session.first_error();
        if (st.ok()) {
          tx.commit();
        } else {
          tx.abort();
        }
        last = st;
        // A conflict inside fn comes back as its status: retry those too.
        retry = !st.ok() && st.code() == StatusCode::kUnavailable &&
                (st.message().find("could not serialize") != std::string::npos ||
                 st.message().find("deadlock detected") != std::string::npos);
      } catch (const std::exception& e) {
        last = PgError(e, "transaction");
        retry = IsRetryableConflict(e);
        broken = IsBroken(e);
      }
      if (!broken && conn->is_open()) Release(std::move(conn));
      if (!retry) return last;
    }
    return last;
  }

  Status Ping() override { return Query("SELECT 1", {}).status(); }

  Result<std::unique_ptr<ChannelListener>> Listen(const std::string& channel) override {
    CUTROOM_ASSIGN_OR_RETURN(auto listener, PgListener::Open(url_, channel));
    return std::unique_ptr<ChannelListener>(std::move(listener));
  }

  std::string Describe() const override { return described_; }

  Status Warm() {
    described_ = RedactUrl(url_);
    CUTROOM_ASSIGN_OR_RETURN(auto conn, Acquire());
    Release(std::move(conn));
    return Status::Ok();
  }

  // The URL without its password ("postgresql://cutroom:***@db/cutroom").
  static std::string RedactUrl(const std::string& url) {
    size_t scheme = url.find("://");
    size_t at = url.find('@');
    if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
    size_t colon = url.find(':', scheme + 3);
    if (colon == std::string::npos || colon > at) return url;
    return url.substr(0, colon + 1) + "***" + url.substr(at);
  }

 private:
  static constexpr size_t kMaxIdle = 8;

  Result<std::unique_ptr<pqxx::connection>> Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
    }
    try {
      auto conn = std::make_unique<pqxx::connection>(url_);
      // Statements that wait on a lock longer than the busy timeout give up
      // (Unavailable), as SQLite's busy timeout does.
      pqxx::nontransaction setup(*conn);
      setup.exec("SET lock_timeout = " + std::to_string(options_.busy_timeout_ms) +
                 "; SET client_min_messages = warning; SET TIME ZONE 'UTC'");
      return conn;
    } catch (const std::exception& e) {
      return PgError(e, "connect to " + RedactUrl(url_));
    }
  }

  void Release(std::unique_ptr<pqxx::connection> conn) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(conn));
  }

  template <typename Consume>
  Status Autocommit(std::string_view sql, const std::vector<DbValue>& params, Consume&& consume) {
    CUTROOM_ASSIGN_OR_RETURN(auto conn, Acquire());
    Status st = Status::Ok();
    bool broken = false;
    try {
      pqxx::nontransaction tx(*conn);
      auto r = Run(tx, sql, params);
      if (r.ok()) {
        consume(*r);
      } else {
        st = r.status();
      }
    } catch (const std::exception& e) {
      st = PgError(e, Abbrev(sql));
      broken = IsBroken(e);
    }
    if (!broken && conn->is_open()) Release(std::move(conn));
    return st;
  }

  std::string url_;
  std::string described_;
  DatabaseOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
};

}  // namespace

std::string PostgresPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$' + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& url, const DatabaseOptions& options) {
  auto db = std::make_unique<PostgresDatabase>(url, options);
  CUTROOM_RETURN_IF_ERROR(db->Warm());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace cutroom::db
