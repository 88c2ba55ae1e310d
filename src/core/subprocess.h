// Runs an external program (argv, no shell) and waits for it.
// Thread-safety: reentrant.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace cutroom {

// Runs argv[0] (searched on PATH) with stdin from /dev/null and stdout and
// stderr captured. NotFound when the program is not installed; Internal
// with the exit code and the last lines of its output when it fails.
Status RunProcess(const std::vector<std::string>& argv, std::string* output = nullptr);

}  // namespace cutroom
