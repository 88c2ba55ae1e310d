#include "support/test_support.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "db/database.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace cutroom::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/cutroom-test-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  char* made = ::mkdtemp(buf.data());
  if (!made) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool TestingPostgres() {
  const char* url = std::getenv("CUTROOM_TEST_POSTGRES_URL");
  return url && *url;
}

std::string TestDatabaseUrl(const TempDir& dir) {
  if (!TestingPostgres()) return "sqlite://" + dir.File("cutroom.db");
  const std::string admin = std::getenv("CUTROOM_TEST_POSTGRES_URL");
  // The temp dir's random suffix names the database: unique per test.
  std::string name = "t_";
  for (char c : dir.path().substr(dir.path().rfind('-') + 1)) {
    name += static_cast<char>(std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_');
  }
  name += "_" + std::to_string(::getpid());
  auto db = db::Database::Open(admin, Env::Default(), {});
  if (!db.ok()) {
    ADD_FAILURE() << "CUTROOM_TEST_POSTGRES_URL: " << db.status().ToString();
    return "";
  }
  Status made = (*db)->Execute("CREATE DATABASE " + name).status();
  if (!made.ok()) ADD_FAILURE() << "CREATE DATABASE " << name << ": " << made.ToString();
  return admin.substr(0, admin.rfind('/') + 1) + name;
}

std::string SharedData(const std::string& relative) {
  std::string path = std::string(CUTROOM_SHARED_DATA_DIR) + "/" + relative;
  return std::filesystem::exists(path) ? path : "";
}

std::string TestMedia(const std::string& name) { return std::string(CUTROOM_TEST_MEDIA_DIR) + "/" + name; }

std::string SourceDir() { return CUTROOM_SOURCE_DIR; }
std::string CutroomBinary() { return CUTROOM_BINARY; }

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace cutroom::testing
