#include "support/test_support.h"

#include <unistd.h>

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
