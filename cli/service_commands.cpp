// `farmctl serve | farm put | farm list | account create | account list`:
// running the service and the records it keeps (service/).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/serve_options.h"
#include "compiler/values.h"
#include "service/accounts.h"
#include "service/farm_source.h"
#include "service/farm_source_cache.h"
#include "service/farm_status.h"
#include "service/farm_store.h"
#include "service/service_json.h"
#include "service/timestamps.h"
#include "service/work_order_automation.h"

namespace farmctl::cli {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CommandError(fmt::format("cannot read {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string quota_text(const std::optional<std::uint64_t>& quota_mb) {
  if (!quota_mb) return "no quota";
  if (*quota_mb % 1024 == 0) return fmt::format("quota {} GB", *quota_mb / 1024);
  return fmt::format("quota {} MB", *quota_mb);
}

}  // namespace

int run_serve(const ServeOptions& options, char** argv) {
  serve_config(options);  // a bad option is said here, by farmctl
  // farmctl-serve, beside this program, with the same command line: it
  // alone loads the HTTP server's libraries (serve_options.h).
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw CommandError(fmt::format("cannot find farmctl's own path: {}", ec.message()));
  std::string program = (self.parent_path() / kServeProgram).string();
  std::vector<char*> args;
  args.push_back(program.data());
  for (char** a = argv + 1; *a != nullptr; ++a) args.push_back(*a);
  args.push_back(nullptr);
  std::cout.flush();
  std::cerr.flush();
  ::execv(program.c_str(), args.data());
  throw CommandError(fmt::format("cannot run {}: {} (farmctl-serve must be beside farmctl)", program,
                                 std::strerror(errno)));
}

int run_farm_put(const FarmStoreOptions& options) {
  std::string text = read_text(options.file);
  std::shared_ptr<const service::FarmSource> source;
  try {
    source = service::FarmSource::parse(text, std::filesystem::path(options.file).stem().string());
  } catch (const service::FarmSourceError& e) {
    std::cerr << e.what();
    throw CommandError(fmt::format("{} has errors; nothing was stored", options.file));
  }
  auto inventory = open_inventory(options.db);
  runtime::Database& db = inventory->database();
  service::FarmStore farms(db);
  std::string name = source->plan().farm;
  std::optional<std::int64_t> owner;
  if (!options.owner.empty()) {
    auto account = service::AccountStore(db).by_name(options.owner);
    if (!account) throw CommandError(fmt::format("there is no account '{}'", options.owner));
    owner = account->id;
  }
  runtime::Transaction tx(db);
  auto existing = farms.farm(name);
  if (existing && existing->origin.starts_with("dir:"))
    throw CommandError(fmt::format("farm {} comes from the file {} (farmctl serve --farms); change that file",
                                   name, existing->origin.substr(4)));
  if (existing && owner && existing->owner_id != owner)
    throw CommandError(fmt::format("farm {} exists with another owner; a farm's owner does not change", name));
  int revision = farms.put(name, source->text(), "cli", owner);
  tx.commit();
  if (existing && existing->revision == revision)
    fmt::print("farm {}: unchanged (revision {})\n", name, revision);
  else
    fmt::print("farm {}: revision {} stored{}\n", name, revision,
               owner ? fmt::format(" (owner {})", options.owner) : "");
  return 0;
}

int run_farm_list(const FarmStoreOptions& options) {
  auto inventory = open_inventory(options.db);
  runtime::Database& db = inventory->database();
  service::FarmStore farms(db);
  service::FarmStatusStore statuses(db);
  service::AccountStore accounts(db);
  service::Json out = service::Json::array();
  std::vector<std::vector<std::string>> rows{{"FARM", "REVISION", "OWNER", "STATUS", "OBSERVED", "REASON"}};
  for (const service::StoredFarm& f : farms.farms()) {
    auto status = statuses.get(f.name);
    std::string owner = "-";
    if (f.owner_id)
      if (auto a = accounts.by_id(*f.owner_id)) owner = a->name;
    out.push_back({{"name", f.name},
                   {"revision", f.revision},
                   {"owner", owner == "-" ? service::Json(nullptr) : service::Json(owner)},
                   {"origin", f.origin},
                   {"status", status ? service::to_json(*status) : service::Json(nullptr)}});
    rows.push_back({f.name, std::to_string(f.revision), owner, status ? status->status : "-",
                    status ? std::to_string(status->observed_revision) : "-", status ? status->reason : ""});
  }
  if (options.json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::vector<std::size_t> widths(rows[0].size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], r[i].size());
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) line += fmt::format("{:<{}}  ", r[i], widths[i]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
  }
  return 0;
}

int run_farm_delete(const FarmStoreOptions& options) {
  auto inventory = open_inventory(options.db);
  runtime::Database& db = inventory->database();
  service::FarmStore farms(db);
  runtime::Transaction tx(db);
  auto farm = farms.farm(options.file);
  if (!farm) throw CommandError(fmt::format("there is no stored farm '{}'", options.file));
  if (farm->origin.starts_with("dir:"))
    throw CommandError(fmt::format("farm {} comes from the file {}; remove the file from the --farms directory first "
                                   "(or farmctl serve stores it again)",
                                   options.file, farm->origin.substr(4)));
  // Orders still waiting for this farm can no longer be carried out.
  db.prepare(
        "UPDATE work_orders SET state = 'failed', reason = 'the farm was deleted', updated_at = ?2, finished_at = ?2 "
        "WHERE farm = ?1 AND state IN ('new', 'open')")
      .bind_all(options.file, service::now_text())
      .run();
  int failed = db.changes();
  farms.remove(options.file);
  tx.commit();
  fmt::print("farm {}: no longer kept converged ({} revisions forgotten{}); its storage stays until farmctl destroy\n",
             options.file, farm->revision,
             failed > 0 ? fmt::format(", {} waiting work orders failed", failed) : "");
  return 0;
}

int run_account_create(const AccountOptions& options) {
  auto level = service::level_from(options.level);
  if (!level) throw CommandError(fmt::format("unknown level '{}'", options.level));
  std::optional<std::uint64_t> quota;
  if (!options.quota.empty()) {
    auto parsed = fml::parse_size_mb(options.quota);
    if (!parsed) throw CommandError(fmt::format("--quota: {}", parsed.error().message));
    quota = *parsed;
  }
  auto inventory = open_inventory(options.db);
  service::AccountStore accounts(inventory->database());
  try {
    auto [account, token] = accounts.create(options.name, *level, quota);
    fmt::print("account {} created (id {}, {}, {})\n", account.name, account.id, service::to_string(account.level),
               quota_text(account.quota_mb));
    fmt::print("token: {}\n", token);
    fmt::print("Keep the token: it is shown only this once (the inventory keeps only a hash of it).\n");
  } catch (const service::AccountError& e) {
    throw CommandError(e.what());
  }
  return 0;
}

int run_account_list(const AccountOptions& options) {
  auto inventory = open_inventory(options.db);
  runtime::Database& db = inventory->database();
  service::FarmSourceCache cache;
  service::Json out = service::Json::array();
  for (const service::Account& a : service::AccountStore(db).all()) {
    std::uint64_t used = service::storage_used_by(db, cache, a.id);
    service::Json j = service::to_json(a);
    j["storage_used_mb"] = used;
    out.push_back(j);
    if (!options.json)
      fmt::print("{:>4}  {:<24} {:<15} {:>12} MB used, {}\n", a.id, a.name, service::to_string(a.level), used,
                 quota_text(a.quota_mb));
  }
  if (options.json) std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace farmctl::cli
