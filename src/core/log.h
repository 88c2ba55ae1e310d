// Logging setup on top of spdlog.
//
// Human-readable lines on a terminal, one JSON object per line otherwise (or
// when asked with --log-format json), always on stderr so stdout stays for
// command output. LogEvent() attaches structured fields: in JSON mode they
// become top-level keys of the line, in human mode "key=value" pairs.
// Thread-safety: InitLogging is called once at start-up, before threads;
// everything else is safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <string>

#include "core/status.h"

namespace cutroom {

enum class LogFormat { kHuman, kJson };

// format: "auto", "human" or "json"; level: spdlog level names.
Status InitLogging(const std::string& format, const std::string& level);
LogFormat CurrentLogFormat();

// Logs message with structured fields (an object).
void LogEvent(spdlog::level::level_enum level, std::string_view message, const nlohmann::json& fields);

}  // namespace cutroom
