// cutroom: one binary for the server, the workers and the command line.
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/commands.h"
#include "core/log.h"

namespace cutroom::cli {

int ReportError(const Status& status) {
  std::cerr << "error: " << status.message() << "\n";
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return 2;
    case StatusCode::kNotFound: return 3;
    case StatusCode::kFailedPrecondition: return 4;
    case StatusCode::kCorruption: return 5;
    default: return 1;
  }
}

}  // namespace cutroom::cli

int main(int argc, char** argv) {
  using namespace cutroom;
  using namespace cutroom::cli;

  CLI::App app{"cutroom: index long videos and cut them into good short clips", "cutroom"};
  app.require_subcommand(1);
  app.fallthrough();

  ConfigSources sources;
  std::vector<std::string> sets;
  std::map<std::string, std::string> shortcut_values;
  app.add_option("--config", sources.file, "TOML configuration file (default: ./cutroom.toml if present)");
  app.add_option("--set", sets, "override any config key: --set section.key=value (repeatable)");
  for (const auto& spec : Config::Registry()) {
    if (spec.flag.empty()) continue;
    app.add_option_function<std::string>(
        spec.flag, [&shortcut_values, key = spec.key](const std::string& v) { shortcut_values[key] = v; },
        spec.description + " (" + spec.key + ")");
  }

  CommandTable table;
  AddServeCommand(app, table);
  AddRunCommand(app, table);
  AddIngestCommand(app, table);
  AddKeysCommands(app, table);
  AddAdminCommands(app, table);
  AddJobCommands(app, table);
  AddScenesCommand(app, table);
  AddEditCommand(app, table);
  AddRetentionCommands(app, table);
  AddFsckCommand(app, table);
  AddMigrateStoreCommand(app, table);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  sources.environment = Config::ProcessEnvironment();
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      return ReportError(Status::InvalidArgument("--set expects section.key=value, got '" + s + "'"));
    }
    sources.flags[s.substr(0, eq)] = s.substr(eq + 1);
  }
  for (const auto& [k, v] : shortcut_values) sources.flags[k] = v;

  auto config = Config::Load(sources);
  if (!config.ok()) return ReportError(config.status());
  Status logging = InitLogging(config->GetString("log.format"), config->GetString("log.level"));
  if (!logging.ok()) return ReportError(logging);

  Runtime rt;
  rt.config = std::move(config).value();
  for (auto& [sub, body] : table.commands) {
    if (sub->parsed()) return body(rt);
  }
  std::cerr << app.help();
  return 2;
}
