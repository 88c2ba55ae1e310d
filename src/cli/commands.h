// The cutroom subcommands. Each registers itself on the CLI11 app and runs
// against a Runtime; main.cc parses flags, builds the configuration and
// dispatches. Commands return a process exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "cli/runtime.h"

namespace cutroom::cli {

// A registered command's body, run after configuration and logging are up.
using CommandBody = std::function<int(Runtime&)>;

struct CommandTable {
  std::vector<std::pair<CLI::App*, CommandBody>> commands;
  void Add(CLI::App* sub, CommandBody body) { commands.emplace_back(sub, std::move(body)); }
};

void AddServeCommand(CLI::App& app, CommandTable& table);
void AddRunCommand(CLI::App& app, CommandTable& table);
void AddIngestCommand(CLI::App& app, CommandTable& table);
void AddKeysCommands(CLI::App& app, CommandTable& table);
void AddAdminCommands(CLI::App& app, CommandTable& table);  // migrate, config show
void AddJobCommands(CLI::App& app, CommandTable& table);    // process, jobs, logs
void AddScenesCommand(CLI::App& app, CommandTable& table);
void AddEditCommand(CLI::App& app, CommandTable& table);     // edit: AI edits
void AddRetentionCommands(CLI::App& app, CommandTable& table);  // retention, retention fit
void AddFsckCommand(CLI::App& app, CommandTable& table);
void AddMigrateStoreCommand(CLI::App& app, CommandTable& table);

// Prints "error: <message>" to stderr and returns the exit code for status.
int ReportError(const Status& status);

}  // namespace cutroom::cli
