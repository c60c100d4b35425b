// The farm routes: list, show (with status and what the farm asks for), its
// source and revisions, and uploading a new revision.
#include <charconv>
#include <map>

#include <fmt/format.h>

#include "service/api_handlers.h"

#include "runtime/backup_store.h"
#include "service/farm_status.h"
#include "service/farm_store.h"
#include "service/service_json.h"
#include "service/work_order_automation.h"

namespace farmctl::service::api {
namespace {

// The farm if the caller may see it; 404 otherwise, whether or not it exists.
StoredFarm visible_farm(Context& ctx, const std::string& name) {
  auto farm = FarmStore(ctx.db).farm(name);
  if (!farm || (!ctx.caller.is_provider() && farm->owner_id != ctx.caller.id))
    throw HttpError(404, fmt::format("no farm '{}'", name.substr(0, 64)));
  return *farm;
}

Json farm_summary(Context& ctx, const StoredFarm& farm) {
  Json j{{"name", farm.name}, {"revision", farm.revision}, {"updated_at", farm.updated_at}};
  j["owner"] = nullptr;
  if (farm.owner_id)
    if (auto owner = AccountStore(ctx.db).by_id(*farm.owner_id)) j["owner"] = owner->name;
  j["origin"] = farm.origin;
  auto status = FarmStatusStore(ctx.db).get(farm.name);
  j["status"] = status ? to_json(*status) : Json(nullptr);
  return j;
}

// Server -> the host it is placed on (what a migrate-server order moves).
std::map<std::string, std::string> placed_hosts(Context& ctx, const std::string& farm) {
  auto s = ctx.db.prepare(
      "SELECT p.server, h.name FROM placements p JOIN farms f ON f.id = p.farm_id JOIN hosts h ON h.id = p.host_id "
      "WHERE f.name = ?1");
  s.bind(1, farm);
  std::map<std::string, std::string> out;
  while (s.step()) out[s.text(0)] = s.text(1);
  return out;
}

}  // namespace

ApiResponse list_farms(Context& ctx) {
  FarmStore farms(ctx.db);
  Json out = Json::array();
  for (const StoredFarm& f : ctx.caller.is_provider() ? farms.farms() : farms.farms_of(ctx.caller.id))
    out.push_back(farm_summary(ctx, f));
  return json_response(200, {{"farms", out}});
}

ApiResponse show_farm(Context& ctx, const std::string& name) {
  StoredFarm farm = visible_farm(ctx, name);
  Json j = farm_summary(ctx, farm);
  auto head = FarmStore(ctx.db).current(farm.name);
  if (head) {
    try {
      auto source = ctx.cache.get(*head);
      j["total_mb"] = source->total_mb();
      Json volumes = Json::array();
      for (const plan::Volume& v : source->plan().volumes)
        volumes.push_back({{"id", v.id}, {"size_mb", v.size_mb}, {"shared", v.shared}, {"server", v.server}});
      j["volumes"] = volumes;
      std::map<std::string, std::string> hosts = placed_hosts(ctx, farm.name);
      Json servers = Json::array();
      for (const plan::Server& s : source->plan().servers) {
        auto host = hosts.find(s.name);
        servers.push_back({{"name", s.name},
                           {"tier", s.tier},
                           {"role", s.role},
                           {"host", host != hosts.end() ? Json(host->second) : Json(nullptr)}});
      }
      j["servers"] = servers;
      Json exports = Json::array();
      for (const plan::Export& e : source->plan().exports)
        exports.push_back({{"volume", e.volume}, {"server", e.server}, {"target", e.target}, {"protocol", e.protocol}});
      j["exports"] = exports;
    } catch (const FarmSourceError& e) {
      j["compile_errors"] = e.what();
    }
  }
  return json_response(200, j);
}

ApiResponse farm_source(Context& ctx, const std::string& name) {
  StoredFarm farm = visible_farm(ctx, name);
  int revision = farm.revision;
  if (auto it = ctx.request.query.find("revision"); it != ctx.request.query.end()) {
    auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), revision);
    if (ec != std::errc() || end != it->second.data() + it->second.size())
      throw HttpError(400, "revision must be a whole number", "revision");
  }
  auto r = FarmStore(ctx.db).revision(farm.name, revision);
  if (!r) throw HttpError(404, fmt::format("farm {} has no revision {}", farm.name, revision));
  ApiResponse response;
  response.content_type = "application/xml";
  response.headers["X-Farm-Revision"] = std::to_string(r->revision);
  response.body = r->fml;
  return response;
}

ApiResponse farm_revisions(Context& ctx, const std::string& name) {
  StoredFarm farm = visible_farm(ctx, name);
  Json out = Json::array();
  for (const FarmRevision& r : FarmStore(ctx.db).history(farm.name))
    out.push_back({{"revision", r.revision},
                   {"origin", r.origin},
                   {"work_order", r.work_order_id ? Json(*r.work_order_id) : Json(nullptr)},
                   {"created_at", r.created_at}});
  return json_response(200, {{"farm", farm.name}, {"revisions", out}});
}

ApiResponse farm_backups(Context& ctx, const std::string& name) {
  StoredFarm farm = visible_farm(ctx, name);
  Json out = Json::array();
  auto id = ctx.db.prepare("SELECT id FROM farms WHERE name = ?");
  id.bind_all(farm.name);
  if (id.step())
    for (const runtime::BackupRow& c : runtime::BackupStore(ctx.db).of_farm(id.int64(0)))
      out.push_back({{"copy", c.id},           {"volume", c.source},     {"level", c.level},
                     {"schedule", c.schedule}, {"taken_at", c.taken_at}, {"size_mb", c.size_mb},
                     {"manual", c.manual}});
  return json_response(200, {{"farm", farm.name}, {"backups", out}});
}

ApiResponse put_farm(Context& ctx, const std::string& name) {
  require_level(ctx, Level::customer_admin, "uploading a farm");
  FarmStore farms(ctx.db);
  auto existing = farms.farm(name);
  if (existing && !ctx.caller.is_provider() && existing->owner_id != ctx.caller.id)
    throw HttpError(403, fmt::format("farm {} belongs to another account", name.substr(0, 64)));
  if (existing && existing->origin.starts_with("dir:"))
    throw HttpError(409, fmt::format("farm {} comes from the file {}; change that file instead", name,
                                     existing->origin.substr(4)));
  std::optional<std::int64_t> owner;
  if (!ctx.caller.is_provider()) owner = ctx.caller.id;
  if (auto it = ctx.request.query.find("owner"); it != ctx.request.query.end()) {
    if (!ctx.caller.is_provider()) throw HttpError(403, "only a provider admin may name a farm's owner");
    auto account = AccountStore(ctx.db).by_name(it->second);
    if (!account) throw HttpError(400, fmt::format("no account '{}'", it->second.substr(0, 64)), "owner");
    if (existing && existing->owner_id != account->id)
      throw HttpError(409, fmt::format("farm {} has an owner already; its owner does not change", name));
    owner = account->id;
  }
  if (!existing && !valid_account_name(name))
    throw HttpError(400, fmt::format("'{}' is not a name for a new farm: use 1-63 of a-z, 0-9 and '-'",
                                     name.substr(0, 64)));
  std::shared_ptr<const FarmSource> source;
  try {
    source = FarmSource::parse(ctx.request.body, name);
  } catch (const FarmSourceError& e) {
    throw HttpError(400, fmt::format("the farm does not compile:\n{}", e.what()));
  }
  if (source->plan().farm != name)
    throw HttpError(400, fmt::format("the file names its farm '{}', but it is put as '{}'", source->plan().farm, name));
  std::optional<std::int64_t> billed = existing ? existing->owner_id : owner;
  if (billed) {
    auto account = AccountStore(ctx.db).by_id(*billed);
    std::uint64_t before = 0;
    if (existing)
      if (auto head = farms.current(name)) before = ctx.cache.get(*head)->total_mb();
    if (account && account->quota_mb && source->total_mb() > before) {
      std::uint64_t used = storage_used_by(ctx.db, ctx.cache, account->id);
      if (used - before + source->total_mb() > *account->quota_mb)
        throw HttpError(403, fmt::format("account {} would use {} MB, over its quota of {} MB", account->name,
                                         used - before + source->total_mb(), *account->quota_mb));
    }
  }
  runtime::Transaction tx(ctx.db);
  auto now = farms.farm(name);
  if ((now ? now->revision : 0) != (existing ? existing->revision : 0))
    throw HttpError(409, fmt::format("farm {} changed while this was checked; send it again", name));
  int revision = farms.put(name, source->text(), fmt::format("api:{}", ctx.caller.name), owner);
  tx.commit();
  ctx.log.info("farm.revision", {{"farm", name}, {"revision", revision}, {"origin", "api:" + ctx.caller.name}});
  ctx.wake();
  return json_response(existing ? 200 : 201, {{"farm", name}, {"revision", revision}});
}

}  // namespace farmctl::service::api
