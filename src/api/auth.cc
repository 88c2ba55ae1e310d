#include "api/auth.h"

#include <arpa/inet.h>

#include "core/hash.h"
#include "db/tables.h"

namespace cutroom::api {
namespace {

std::string Base64Url(const unsigned char* data, size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

}  // namespace

Result<CreatedKey> KeyService::CreateKey(const std::string& owner_name, const std::string& key_name) {
  if (owner_name.empty() || owner_name.size() > 128) {
    return Status::InvalidArgument("owner name must be 1 to 128 characters");
  }
  CreatedKey created;
  unsigned char secret[32];
  env_->RandomBytes(secret, sizeof secret);
  created.key = "cr_" + Base64Url(secret, sizeof secret);
  Status st = db_->Transaction([&](db::DbSession& tx) -> Status {
    db::Repositories repos(tx, env_, ids_);
    CUTROOM_ASSIGN_OR_RETURN(auto owners, repos.owners.List({.where = {{"name", owner_name}}, .limit = 1}));
    if (owners.items.empty()) {
      db::OwnerRow owner;
      owner.name = owner_name;
      CUTROOM_ASSIGN_OR_RETURN(created.owner, repos.owners.Insert(owner));
    } else {
      created.owner = owners.items.front();
    }
    db::ApiKeyRow key;
    key.owner_id = created.owner.owner_id;
    key.name = key_name;
    key.key_hash = Sha256Hex(created.key);
    key.key_prefix = created.key.substr(0, 11);
    CUTROOM_ASSIGN_OR_RETURN(created.row, repos.api_keys.Insert(key));
    return Status::Ok();
  });
  CUTROOM_RETURN_IF_ERROR(st);
  return created;
}

Result<std::string> KeyService::Authenticate(const std::string& key) {
  if (key.rfind("cr_", 0) != 0 || key.size() > 128) return Status::Unauthenticated("invalid API key");
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT key_id, owner_id, revoked_at, last_used_at FROM api_keys "
                                                 "WHERE key_hash = ?",
                                                 {Sha256Hex(key)}));
  if (rows.empty() || rows.Text(0, "revoked_at")) return Status::Unauthenticated("invalid or revoked API key");
  // Record use at most once a minute per key: a write per request would
  // serialise every reader on SQLite's write lock.
  std::string now = FormatTimestamp(env_->NowMs());
  auto last = rows.Text(0, "last_used_at");
  if (!last || last->substr(0, 16) != now.substr(0, 16)) {
    db_->Execute("UPDATE api_keys SET last_used_at = ? WHERE key_id = ?", {now, *rows.Text(0, "key_id")})
        .status()
        .IgnoreError();
  }
  return *rows.Text(0, "owner_id");
}

Status KeyService::Revoke(const std::string& key_id) {
  CUTROOM_ASSIGN_OR_RETURN(int64_t n, db_->Execute("UPDATE api_keys SET revoked_at = ?, updated_at = ? WHERE key_id = ? "
                                                   "AND revoked_at IS NULL",
                                                   {FormatTimestamp(env_->NowMs()), FormatTimestamp(env_->NowMs()),
                                                    key_id}));
  if (n == 0) return Status::NotFound("no active API key " + key_id);
  return Status::Ok();
}

Result<std::vector<db::ApiKeyRow>> KeyService::List() {
  db::Repositories repos(*db_, env_, ids_);
  std::vector<db::ApiKeyRow> out;
  db::ListQuery q{.limit = db::kMaxPageSize};
  while (true) {
    CUTROOM_ASSIGN_OR_RETURN(auto page, repos.api_keys.List(q));
    for (auto& k : page.items) out.push_back(std::move(k));
    if (page.next_cursor.empty()) break;
    q.after = page.next_cursor;
  }
  return out;
}

Result<bool> KeyService::AnyActiveKey() {
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT EXISTS(SELECT 1 FROM api_keys WHERE revoked_at IS NULL) AS "
                                                 "any_key",
                                                 {}));
  return rows.Int(0, "any_key").value_or(0) != 0;
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

}  // namespace cutroom::api
