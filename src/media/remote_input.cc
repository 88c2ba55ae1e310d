#include "media/remote_input.h"

#include <atomic>
#include <map>
#include <mutex>

namespace cutroom::media {
namespace {

constexpr std::string_view kPrefix = "cutroom-remote:";

struct Registry {
  std::mutex mu;
  std::map<std::string, SourceFactory> factories;
  std::atomic<uint64_t> next{1};
};

Registry& TheRegistry() {
  static Registry* registry = new Registry();  // used until exit
  return *registry;
}

}  // namespace

ScopedRemoteInput::ScopedRemoteInput(const std::string& name, SourceFactory factory) {
  Registry& r = TheRegistry();
  std::string safe;
  for (char c : name.substr(0, 80)) safe.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '.' ? c : '_');
  path_ = std::string(kPrefix) + std::to_string(r.next.fetch_add(1)) + "/" + safe;
  std::lock_guard lock(r.mu);
  r.factories.emplace(path_, std::move(factory));
}

ScopedRemoteInput::~ScopedRemoteInput() {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  r.factories.erase(path_);
}

bool IsRemoteInputPath(const std::string& path) { return path.rfind(kPrefix, 0) == 0; }

Result<std::unique_ptr<RandomAccessSource>> OpenRemoteInput(const std::string& path) {
  SourceFactory factory;
  {
    Registry& r = TheRegistry();
    std::lock_guard lock(r.mu);
    auto it = r.factories.find(path);
    if (it == r.factories.end()) return Status::NotFound("no remote input " + path);
    factory = it->second;
  }
  return factory();
}

}  // namespace cutroom::media
