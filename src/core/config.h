// Config: cutroom's effective configuration.
//
// Every key is declared once in the registry (config.cc) with its type,
// default and description. Values are layered, later layers winning:
// built-in defaults < TOML file < CUTROOM_* environment variables < flags.
// A key "section.key" maps to the variable CUTROOM_SECTION_KEY. Defaults may
// refer to other keys as "{storage.data_dir}"; references are resolved when
// read, so overriding the data directory moves the database with it.
// Unknown keys and values of the wrong type are load errors naming the key and
// the layer that set it.
// Thread-safety: immutable after Load(); safe to read from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"

namespace cutroom {

enum class ConfigType { kString, kInt, kBool };

struct ConfigKeySpec {
  std::string key;            // "server.listen"
  ConfigType type;
  std::string default_value;  // may contain {other.key} references
  std::string flag;           // CLI shortcut ("--listen"), or empty
  std::string description;
  bool secret = false;        // masked by `config show`
};

struct ConfigSources {
  // Explicit --config path; must exist when set. When empty, ./cutroom.toml
  // is read if present.
  std::string file;
  // Environment to read CUTROOM_* variables from (tests pass their own).
  std::map<std::string, std::string> environment;
  // Values from flags, keyed by config key.
  std::map<std::string, std::string> flags;
};

class Config {
 public:
  struct Entry {
    std::string key;
    std::string value;   // resolved
    std::string source;  // "default", "file", "env", "flag"
  };

  // The registry of every key cutroom understands.
  static const std::vector<ConfigKeySpec>& Registry();

  // Defaults only (tests start here and Set() what they need).
  static Config Defaults();
  static Result<Config> Load(const ConfigSources& sources);

  // The process environment as a map, for ConfigSources::environment.
  static std::map<std::string, std::string> ProcessEnvironment();

  // REQUIRES: key is in the registry (a typo is a programming error: aborts).
  std::string GetString(const std::string& key) const;
  int64_t GetInt(const std::string& key) const;
  bool GetBool(const std::string& key) const;

  // Sets a value as if from a flag; validates its type.
  Status Set(const std::string& key, const std::string& value);

  // Every key, resolved, in registry order.
  std::vector<Entry> Entries() const;

  // "CUTROOM_SERVER_LISTEN" for "server.listen".
  static std::string EnvironmentName(const std::string& key);

 private:
  Status SetFrom(const std::string& key, const std::string& value, const std::string& source);
  std::string Resolve(const std::string& value, int depth) const;

  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> sources_;
};

}  // namespace cutroom
