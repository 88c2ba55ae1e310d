// The libFuzzer entry point of one target, chosen at build time
// (CUTROOM_FUZZ_TARGET, a name from AllTargets()).
#include <cstdlib>
#include <cstring>

#include "fuzz/targets.h"

namespace {
cutroom::fuzz::Target Find() {
  for (const auto& t : cutroom::fuzz::AllTargets()) {
    if (std::strcmp(t.name, CUTROOM_FUZZ_TARGET) == 0) return t.fn;
  }
  std::abort();  // a build mistake, not an input
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const cutroom::fuzz::Target target = Find();
  return target(data, size);
}
