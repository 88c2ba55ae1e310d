// cutroom migrate, cutroom config show, cutroom keys ...
#include <iomanip>
#include <iostream>

#include "api/auth.h"
#include "cli/commands.h"
#include "db/migrations.h"

namespace cutroom::cli {

void AddAdminCommands(CLI::App& app, CommandTable& table) {
  auto* migrate = app.add_subcommand("migrate", "apply database migrations and print the schema version");
  table.Add(migrate, [](Runtime& rt) {
    rt.ids = std::make_unique<IdGenerator>(rt.env);
    db::DatabaseOptions options;
    options.busy_timeout_ms = static_cast<int>(rt.config.GetInt("database.busy_timeout_ms"));
    auto db = db::Database::Open(rt.config.GetString("database.url"), rt.env, options);
    if (!db.ok()) return ReportError(db.status());
    auto report = db::Migrate(**db, rt.env);
    if (!report.ok()) return ReportError(report.status());
    for (const auto& name : report->applied) std::cout << "applied " << name << "\n";
    std::cout << (*db)->Describe() << ": schema version " << report->to_version
              << (report->applied.empty() ? " (up to date)" : "") << "\n";
    return 0;
  });

  auto* config = app.add_subcommand("config", "inspect the configuration");
  config->require_subcommand(1);
  auto* show = config->add_subcommand("show", "print every key's effective value and where it came from");
  table.Add(show, [](Runtime& rt) {
    size_t width = 0;
    for (const auto& e : rt.config.Entries()) width = std::max(width, e.key.size());
    for (const auto& e : rt.config.Entries()) {
      std::cout << std::left << std::setw(static_cast<int>(width) + 2) << e.key << std::setw(0) << e.value
                << "    # " << e.source << "\n";
    }
    return 0;
  });
}

void AddKeysCommands(CLI::App& app, CommandTable& table) {
  auto* keys = app.add_subcommand("keys", "manage API keys");
  keys->require_subcommand(1);

  auto* create = keys->add_subcommand("create", "create an API key for an owner (printed once)");
  auto owner = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  create->add_option("--owner", *owner, "owner name (created if new)")->required();
  create->add_option("--name", *name, "a label for the key");
  table.Add(create, [owner, name](Runtime& rt) {
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    api::KeyService keys(rt.db.get(), rt.env, rt.ids.get());
    auto created = keys.CreateKey(*owner, *name);
    if (!created.ok()) return ReportError(created.status());
    std::cout << created->key << "\n";
    std::cerr << "Created key " << created->row.key_id << " for owner '" << created->owner.name << "' ("
              << created->owner.owner_id << ").\nStore it now: cutroom keeps only a hash and cannot show it again.\n";
    return 0;
  });

  auto* list = keys->add_subcommand("list", "list API keys (never the secrets)");
  table.Add(list, [](Runtime& rt) {
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    api::KeyService keys(rt.db.get(), rt.env, rt.ids.get());
    auto all = keys.List();
    if (!all.ok()) return ReportError(all.status());
    for (const auto& k : *all) {
      std::cout << k.key_id << "  " << k.key_prefix << "...  owner=" << k.owner_id << "  created=" << k.created_at
                << (k.revoked_at ? "  revoked=" + *k.revoked_at : std::string()) << "\n";
    }
    return 0;
  });

  auto* revoke = keys->add_subcommand("revoke", "revoke an API key by its id");
  auto key_id = std::make_shared<std::string>();
  revoke->add_option("KEY_ID", *key_id, "the key's id (key_...)")->required();
  table.Add(revoke, [key_id](Runtime& rt) {
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    api::KeyService keys(rt.db.get(), rt.env, rt.ids.get());
    st = keys.Revoke(*key_id);
    if (!st.ok()) return ReportError(st);
    std::cout << "revoked " << *key_id << "\n";
    return 0;
  });
}

}  // namespace cutroom::cli
