#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "core/env.h"

namespace cutroom {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kHuman};

// A structured event travels through spdlog as its message prefixed by this
// byte and followed by the JSON fields, so both formatters can unpack it.
constexpr char kFieldsMarker = '\x1e';

void SplitEvent(std::string_view payload, std::string_view& message, nlohmann::json& fields) {
  message = payload;
  auto pos = payload.find(kFieldsMarker);
  if (pos == std::string_view::npos) return;
  message = payload.substr(0, pos);
  fields = nlohmann::json::parse(payload.substr(pos + 1), nullptr, /*allow_exceptions=*/false);
  if (!fields.is_object()) fields = nlohmann::json::object();
}

class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view message;
    nlohmann::json fields = nlohmann::json::object();
    SplitEvent(std::string_view(msg.payload.data(), msg.payload.size()), message, fields);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    nlohmann::json line = {{"ts", FormatTimestamp(ms)},
                           {"level", spdlog::level::to_string_view(msg.level).data()},
                           {"msg", std::string(message)}};
    for (auto& [k, v] : fields.items()) line[k] = v;
    std::string out = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(out.data(), out.data() + out.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// Human lines: the pattern formatter, with fields rendered as key=value.
class HumanFormatter : public spdlog::formatter {
 public:
  HumanFormatter() : inner_("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v") {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view message;
    nlohmann::json fields = nlohmann::json::object();
    SplitEvent(std::string_view(msg.payload.data(), msg.payload.size()), message, fields);
    std::string text(message);
    for (auto& [k, v] : fields.items()) {
      text += ' ';
      text += k;
      text += '=';
      text += v.is_string() ? v.get<std::string>() : v.dump();
    }
    spdlog::details::log_msg copy(msg.time, msg.source, msg.logger_name, msg.level, text);
    inner_.format(copy, dest);
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<HumanFormatter>(); }

 private:
  spdlog::pattern_formatter inner_;
};

}  // namespace

Status InitLogging(const std::string& format, const std::string& level) {
  LogFormat fmt;
  if (format == "json") {
    fmt = LogFormat::kJson;
  } else if (format == "human") {
    fmt = LogFormat::kHuman;
  } else if (format == "auto") {
    fmt = ::isatty(STDERR_FILENO) ? LogFormat::kHuman : LogFormat::kJson;
  } else {
    return Status::InvalidArgument("log format must be auto, human or json, got '" + format + "'");
  }
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return Status::InvalidArgument("unknown log level '" + level + "' (trace, debug, info, warn, error, off)");
  }
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  if (fmt == LogFormat::kJson) {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink->set_formatter(std::make_unique<HumanFormatter>());
  }
  auto logger = std::make_shared<spdlog::logger>("cutroom", sink);
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  g_format = fmt;
  return Status::Ok();
}

LogFormat CurrentLogFormat() { return g_format.load(); }

void LogEvent(spdlog::level::level_enum level, std::string_view message, const nlohmann::json& fields) {
  if (!spdlog::default_logger_raw()->should_log(level)) return;
  std::string payload(message);
  payload += kFieldsMarker;
  payload += fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  spdlog::default_logger_raw()->log(level, payload);
}

}  // namespace cutroom
