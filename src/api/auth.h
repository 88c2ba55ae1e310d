// API keys and owners.
//
// A key is "cr_" followed by 43 base64url characters (32 random bytes). It
// is shown once, at creation; the database keeps only its SHA-256 (keys are
// high-entropy, so a fast hash is enough) and an 11-character prefix to tell
// keys apart in listings. Every request with a key acts as the key's owner.
//
// Local mode: when the server listens on loopback only and no (unrevoked)
// key exists, requests without a key act as the built-in "local" owner, so a
// laptop install needs no set-up. As soon as a key exists, keys are
// required everywhere.
// Thread-safety: safe to share.
#pragma once

#include <string>
#include <vector>

#include "core/ids.h"
#include "db/database.h"
#include "db/rows.h"

namespace cutroom::api {

struct CreatedKey {
  std::string key;  // the secret; never stored
  db::ApiKeyRow row;
  db::OwnerRow owner;
};

class KeyService {
 public:
  KeyService(db::Database* db, Env* env, IdGenerator* ids) : db_(db), env_(env), ids_(ids) {}

  // Creates the owner if it does not exist yet. InvalidArgument for an
  // empty or over-long owner name.
  Result<CreatedKey> CreateKey(const std::string& owner_name, const std::string& key_name);

  // The owner id for a presented key. Unauthenticated for an unknown or
  // revoked key.
  Result<std::string> Authenticate(const std::string& key);

  // NotFound when no key has this id.
  Status Revoke(const std::string& key_id);

  Result<std::vector<db::ApiKeyRow>> List();

  // Whether any unrevoked key exists.
  Result<bool> AnyActiveKey();

 private:
  db::Database* db_;
  Env* env_;
  IdGenerator* ids_;
};

// Whether host is a loopback address or "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace cutroom::api
