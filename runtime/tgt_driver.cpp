// The tgt driver: the Driver interface over tgtd's management socket and the
// backing files. This file's external interface is make_tgt_driver; the
// TgtDriver class is private.
//
// Threads: run() and discover() may be called from many threads at once. Each
// array has a mutex around its tgtd conversation and its cached show; file
// work that may take long (copy, scrub) runs outside it.
#include "runtime/tgt_driver.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>

#include "runtime/tgt_admin_client.h"
#include "runtime/tgt_backing_store.h"
#include "runtime/tgt_naming.h"
#include "runtime/tgt_show_parser.h"

namespace farmctl::runtime {
namespace {

constexpr int kDefaultConcurrency = 4;

std::string attribute(const DeviceConfig& device, const std::string& key) {
  auto it = device.attributes.find(key);
  return it == device.attributes.end() ? std::string() : it->second;
}

int whole_number(const DeviceConfig& device, const std::string& key, int fallback, int low, int high) {
  std::string text = attribute(device, key);
  if (text.empty()) return fallback;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high)
    throw DeviceError(fmt::format("tgt array {}: {}=\"{}\" is not a whole number from {} to {}", device.name, key,
                                  text, low, high));
  return value;
}

std::string absolute_path(const DeviceConfig& device, const std::string& key, bool required) {
  std::string path = attribute(device, key);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.empty()) {
    if (!required) return {};
    throw DeviceError(fmt::format(
        "tgt array {} has no {}=\"/path\": the directory for its backing files and images", device.name, key));
  }
  if (path.front() != '/')
    throw DeviceError(fmt::format("tgt array {}: {}=\"{}\" must be an absolute path", device.name, key, path));
  if (path.find_first_of(",=\n") != std::string::npos)  // tgtd splits its parameters at ',' and '='
    throw DeviceError(fmt::format("tgt array {}: {}=\"{}\" must not contain ',' or '='", device.name, key, path));
  return path;
}

// The array's iSCSI port whose IQN prefixes its target names: the first by id.
const DevicePort& iscsi_port(const DeviceConfig& device) {
  const DevicePort* found = nullptr;
  for (const DevicePort& p : device.ports)
    if (!p.iqn.empty() && (found == nullptr || p.id < found->id)) found = &p;
  if (found == nullptr)
    throw DeviceError(fmt::format(
        "tgt array {} has no <port iqn=\"...\"/>: its targets are named <port IQN>:<host>", device.name));
  return *found;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// One tgt array: where its tgtd and its files are, and what tgtd held when
// last asked.
struct TgtArray {
  TgtArray(const DeviceConfig& device, const DriverContext& context)
      : name(device.name),
        portal(attribute(device, "portal")),
        control_port(whole_number(device, "control-port", 0, 0, 65535)),
        client(tgt_socket_path(attribute(device, "socket"), control_port)),
        store(absolute_path(device, "dir", true), absolute_path(device, "images", false)),
        port_id(iscsi_port(device).id),
        naming(iscsi_port(device).iqn, context.initiator_hosts) {
    if (device.kind != DeviceKind::array)
      throw DeviceError(fmt::format("a tgt device is a disk array; {} is declared as a {}", device.name,
                                    to_string(device.kind)));
    if (const char* trace = std::getenv("FARMCTL_TGT_TRACE"); trace != nullptr && *trace != '\0' && *trace != '0')
      client.set_trace([this](const std::string& line) { std::fprintf(stderr, "tgt %s: %s\n", name.c_str(), line.c_str()); });
  }

  std::string name;
  std::string portal;
  int control_port;
  TgtAdminClient client;
  TgtBackingStore store;
  std::string port_id;
  TgtNaming naming;
  std::optional<TgtShow> cache;
  std::mutex mutex;  // guards client and cache
  std::mutex stats_mutex;  // guards the two below (FARMCTL_TGT_STATS)
  int actions = 0;
  std::chrono::nanoseconds in_actions{0};
};

// Refusals that can mean "the cache was wrong": someone changed tgtd since it was read.
bool stale_cache(TgtErrc code) {
  switch (code) {
    case TgtErrc::no_target:
    case TgtErrc::target_exists:
    case TgtErrc::no_lun:
    case TgtErrc::lun_exists:
    case TgtErrc::acl_exists:
    case TgtErrc::acl_missing: return true;
    default: return false;
  }
}

// ---- what an action does to tgtd; each expects the array's mutex held ----------

TgtShow& current(TgtArray& a) {
  if (!a.cache) a.cache = parse_tgt_show(a.client.show());
  return *a.cache;
}

TgtShow& refreshed(TgtArray& a) {
  a.cache.reset();
  return current(a);
}

TgtTarget& by_tid(TgtArray& a, int tid) {
  for (TgtTarget& t : current(a).targets)
    if (t.tid == tid) return t;
  throw DeviceError(fmt::format("target {} vanished from tgtd of array {}", tid, a.name));
}

int ensure_target(TgtArray& a, const std::string& target_name) {
  TgtShow& show = current(a);
  if (const TgtTarget* t = show.find(target_name)) return t->tid;
  TgtTarget t;
  t.tid = show.next_free_tid();
  t.name = target_name;
  t.luns.push_back({0, "controller", "", ""});
  a.client.new_target(t.tid, target_name);
  show.targets.push_back(std::move(t));
  return show.targets.back().tid;
}

// Returns whether it had to add the rule.
bool ensure_acl(TgtArray& a, int tid, const std::string& initiator) {
  TgtTarget& t = by_tid(a, tid);
  if (t.admits_name(initiator)) return false;
  try {
    a.client.bind_initiator_name(tid, initiator);
  } catch (const TgtRefused& e) {
    if (e.code() != TgtErrc::acl_exists) throw;
  }
  by_tid(a, tid).acl_names.push_back(initiator);
  return true;
}

// Closes the target's connections from initiators `unwanted` names. Sessions
// come and go without farmctl, so they are read afresh for this one target.
void close_sessions_of(TgtArray& a, int tid, const std::function<bool(const std::string&)>& unwanted) {
  TgtTarget& t = by_tid(a, tid);
  t.sessions = parse_tgt_connections(a.client.show_connections(tid));
  for (const TgtSession& s : t.sessions) {
    if (!unwanted(s.initiator)) continue;
    for (std::uint32_t cid : s.connections) {
      try {
        a.client.close_connection(tid, s.sid, cid);
      } catch (const TgtRefused& e) {
        if (e.code() != TgtErrc::no_session && e.code() != TgtErrc::no_connection) throw;
      }
    }
  }
  auto& sessions = by_tid(a, tid).sessions;
  sessions.erase(std::remove_if(sessions.begin(), sessions.end(),
                                [&](const TgtSession& s) { return unwanted(s.initiator); }),
                 sessions.end());
}

// The initiator may no longer log in to the target, and its open sessions
// there end now: ACLs are only checked at login. Rule first, so it cannot
// log straight back in.
void revoke(TgtArray& a, int tid, const std::string& initiator) {
  if (by_tid(a, tid).admits_name(initiator)) {
    try {
      a.client.unbind_initiator_name(tid, initiator);
    } catch (const TgtRefused& e) {
      if (e.code() != TgtErrc::acl_missing) throw;
    }
    auto& names = by_tid(a, tid).acl_names;
    names.erase(std::remove(names.begin(), names.end(), initiator), names.end());
  }
  close_sessions_of(a, tid, [&](const std::string& who) { return who == initiator; });
}

void drop_address_rule(TgtArray& a, int tid, const std::string& rule) {
  try {
    a.client.unbind_initiator_address(tid, rule);
  } catch (const TgtRefused& e) {
    if (e.code() != TgtErrc::acl_missing) throw;
    a.client.unbind_initiator_name(tid, rule);  // a name rule that does not look like an IQN
  }
  TgtTarget& t = by_tid(a, tid);
  for (auto* list : {&t.acl_addresses, &t.acl_names}) list->erase(std::remove(list->begin(), list->end(), rule), list->end());
  // Whoever the rule let in and no name rule admits loses its sessions.
  close_sessions_of(a, tid, [&](const std::string& who) { return !by_tid(a, tid).admits_name(who); });
}

std::vector<int> luns_presenting(const TgtTarget& t, const TgtVolumeFile& v) {
  std::vector<int> out;
  std::vector<TgtVolumeFile> one{v};
  for (const TgtLogicalUnit& lu : t.luns)
    if (lu.lun != 0 && tgt_volume_of(lu, one) != nullptr) out.push_back(lu.lun);
  return out;
}

void delete_lun(TgtArray& a, int tid, int lun) {
  try {
    a.client.delete_logical_unit(tid, lun);
  } catch (const TgtRefused& e) {
    if (e.code() != TgtErrc::no_lun) throw;
  }
  auto& luns = by_tid(a, tid).luns;
  luns.erase(std::remove_if(luns.begin(), luns.end(), [&](const TgtLogicalUnit& lu) { return lu.lun == lun; }),
             luns.end());
}

void check_initiator_name(const std::string& initiator) {
  if (!is_initiator_name(initiator))
    throw DeviceError(fmt::format(
        "tgt access is granted to initiator names (iqn.…) only, and '{}' is not one: tgt admits an initiator whose "
        "address OR name matches a rule, so farmctl never writes an address rule",
        initiator));
}

class TgtDriver final : public Driver {
 public:
  explicit TgtDriver(const DriverContext& context) : context_(context) {}

  ~TgtDriver() override {
    const char* stats = std::getenv("FARMCTL_TGT_STATS");
    if (stats == nullptr || *stats == '\0' || *stats == '0') return;
    for (const auto& [name, a] : arrays_)
      std::fprintf(stderr,
                   "tgt %s: %d requests to tgtd, %d of them changes; %.1f ms waiting on tgtd, %.1f ms in %d actions\n",
                   name.c_str(), a->client.requests(), a->client.changes(),
                   std::chrono::duration<double, std::milli>(a->client.waited()).count(),
                   std::chrono::duration<double, std::milli>(a->in_actions).count(), a->actions);
  }

  std::string_view family() const override { return "tgt"; }

  DeviceState discover(const DeviceConfig& device, const VolumeScope* /*only: a show is whole*/) override {
    TgtArray& a = array(device);
    std::lock_guard lock(a.mutex);
    try {
      TgtShow& show = refreshed(a);
      return tgt_device_state(a.name, a.port_id, show, a.store.list(), a.store.pools(), a.naming);
    } catch (const TgtUnreachable& e) {
      throw DeviceError(unreachable(a, e));
    } catch (const TgtRefused& e) {
      throw DeviceError(fmt::format("tgtd of array {} refused to show its targets: {}", a.name, e.what()));
    }
  }

  ActionOutcome run(const DeviceConfig& device, const DeviceAction& action) override {
    TgtArray* a = nullptr;
    try {
      a = &array(device);
    } catch (const DeviceError& e) {
      return ActionOutcome::permanent(e.what());
    }
    auto started = std::chrono::steady_clock::now();
    struct Timer {
      TgtArray& a;
      std::chrono::steady_clock::time_point started;
      ~Timer() {
        std::lock_guard lock(a.stats_mutex);
        a.in_actions += std::chrono::steady_clock::now() - started;
        ++a.actions;
      }
    } timer{*a, started};
    for (int attempt = 1;; ++attempt) {
      try {
        return ActionOutcome{ActionOutcome::Status::ok, perform(*a, action)};
      } catch (const TgtUnreachable& e) {
        return ActionOutcome::transient(unreachable(*a, e));
      } catch (const TgtRefused& e) {
        if (attempt == 1 && stale_cache(e.code())) {  // tgtd changed behind our back: read it again, once
          std::lock_guard lock(a->mutex);
          a->cache.reset();
          continue;
        }
        std::string message = fmt::format("tgtd of array {} refused: {}", a->name, e.what());
        if (e.code() == TgtErrc::target_active || e.code() == TgtErrc::lun_active)
          return ActionOutcome::transient(message + " (an initiator has commands in flight)");
        return ActionOutcome::permanent(message);
      } catch (const DeviceError& e) {
        return ActionOutcome::permanent(fmt::format("{}: {}", a->name, e.what()));
      } catch (const std::exception& e) {
        return ActionOutcome::permanent(fmt::format("{}: {}", a->name, e.what()));
      }
    }
  }

  void declare(const DeviceConfig& device, const DeviceState& declared) override {
    TgtArray& a = array(device);
    std::vector<std::string> pools;
    for (const DevicePool& p : declared.pools) pools.push_back(p.name);
    std::vector<std::pair<std::string, std::uint64_t>> volumes;
    for (const DeviceVolume& v : declared.volumes) volumes.emplace_back(v.id, v.size_mb);
    std::lock_guard lock(a.mutex);
    a.store.declare(pools, volumes);
  }

  int concurrency_limit(const DeviceConfig& device) const override {
    return whole_number(device, "concurrency", kDefaultConcurrency, 1, 1000);
  }

 private:
  TgtArray& array(const DeviceConfig& device) {
    std::lock_guard lock(arrays_mutex_);
    auto it = arrays_.find(device.name);
    if (it == arrays_.end()) it = arrays_.emplace(device.name, std::make_unique<TgtArray>(device, context_)).first;
    return *it->second;
  }

  static std::string unreachable(const TgtArray& a, const TgtUnreachable& e) {
    return fmt::format("tgtd of array {} does not answer ({}); start it with: tgtd -f --iscsi portal={} -C {}",
                       a.name, e.what(), a.portal.empty() ? "ADDRESS:PORT" : a.portal, a.control_port);
  }

  std::string perform(TgtArray& a, const DeviceAction& x) {
    switch (x.op) {
      case Op::allocate: return a.store.allocate(x.volume, x.pool, x.size_mb);
      case Op::meta:
        throw DeviceError("tgt arrays do not concatenate volumes: give the array a <pool> to carve volumes from");
      case Op::break_meta: return fmt::format("tgt arrays have no meta-volumes: nothing to break for {}", x.volume);
      case Op::grow: return grow(a, x);
      case Op::copy: return a.store.copy_image(x.volume, x.image);
      case Op::bind: return bind(a, x);
      case Op::map: return map(a, x);
      case Op::unmap: return unmap(a, x);
      case Op::unbind: return unbind(a, x);
      case Op::scrub: {
        {
          std::lock_guard lock(a.mutex);
          refuse_if_presented(a, x.volume, "scrubbing");
        }
        return a.store.scrub(x.volume);
      }
      case Op::deallocate: {
        std::lock_guard lock(a.mutex);
        refuse_if_presented(a, x.volume, "deallocating");
        return a.store.deallocate(x.volume);
      }
      case Op::snap: return snap(a, x);
      case Op::restore: {
        std::lock_guard lock(a.mutex);
        refuse_if_presented(a, x.volume, "restoring a copy onto");
        return a.store.restore(x.volume, x.source);
      }
      case Op::zone:
      case Op::unzone:
      case Op::vport:
        throw DeviceError(fmt::format("{} runs on a fabric; {} is a tgt array", to_string(x.op), a.name));
    }
    throw DeviceError("unknown operation");
  }

  TgtVolumeFile volume(TgtArray& a, const std::string& id) {
    auto v = a.store.find(id);
    if (!v) throw DeviceError(fmt::format("volume {} does not exist in {}", id, a.store.dir()));
    return *v;
  }

  void refuse_if_presented(TgtArray& a, const std::string& id, std::string_view doing) {
    auto v = a.store.find(id);
    if (!v) return;
    for (const TgtTarget& t : current(a).targets)
      for (int lun : luns_presenting(t, *v))
        throw DeviceError(fmt::format("volume {} is still presented by target {} at LUN {}: unmap it before {}", id,
                                      t.name, lun, doing));
  }

  // bind: the host of `initiator` gets its target (if it has none yet) and
  // the initiator's name rule there. The LUN comes with map.
  std::string bind(TgtArray& a, const DeviceAction& x) {
    check_initiator_name(x.initiator);
    volume(a, x.volume);
    auto host = a.naming.host_of_initiator(x.initiator);
    if (!host)
      throw DeviceError(fmt::format("initiator {} belongs to no host of the wiring map: tgt gives each host a target "
                                    "of its own, so there is none to open to it",
                                    x.initiator));
    std::lock_guard lock(a.mutex);
    std::string target = a.naming.target_of_host(*host);
    int tid = ensure_target(a, target);
    if (!ensure_acl(a, tid, x.initiator)) return fmt::format("{} may log in to {} already", x.initiator, target);
    return {};
  }

  // map: `volume` becomes LUN lun+1 of the host's target. The target and the
  // host initiator's rule are made too if missing, so that a map never
  // depends on which of several binds and unbinds ran first.
  std::string map(TgtArray& a, const DeviceAction& x) {
    if (x.host.empty()) throw DeviceError(fmt::format("map of {} names no host", x.volume));
    if (x.lun < 0) throw DeviceError(fmt::format("map of {} to host {} names no LUN", x.volume, x.host));
    TgtVolumeFile v = volume(a, x.volume);
    bool grant = !x.initiator.empty();
    if (grant) {
      check_initiator_name(x.initiator);
      auto owner = a.naming.host_of_initiator(x.initiator);
      if (owner && *owner != x.host)
        throw DeviceError(fmt::format("initiator {} is host {}'s, not host {}'s", x.initiator, *owner, x.host));
    }
    std::lock_guard lock(a.mutex);
    std::string target = a.naming.target_of_host(x.host);
    int tid = ensure_target(a, target);
    if (grant) ensure_acl(a, tid, x.initiator);
    int lun = TgtNaming::tgt_lun(x.lun);
    const TgtTarget& t = by_tid(a, tid);
    for (int present : luns_presenting(t, v)) {
      if (present == lun) {
        std::string serial = tgt_unit_serial(v.id);
        if (t.lun(lun)->serial != serial) {  // made by an earlier map that failed half-way
          a.client.update_logical_unit(tid, lun, fmt::format("scsi_sn={0},scsi_id={0}", serial));
          return fmt::format("{} presents {} at LUN {} already; its serial is now {}", target, x.volume, lun, serial);
        }
        return fmt::format("{} presents {} at LUN {} already", target, x.volume, lun);
      }
      throw DeviceError(fmt::format("{} presents {} at LUN {} already, not at LUN {}", target, x.volume, present, lun));
    }
    if (const TgtLogicalUnit* taken = t.lun(lun))
      throw DeviceError(fmt::format("LUN {} of {} presents {} already", lun, target, taken->backing_path));
    present_volume(a, tid, lun, v);
    return {};
  }

  // A new disk LU of `v`. One disk, one identity on every target that
  // presents it: the LU's serial (VPD 0x80) and device id are made from the
  // volume id (tgt_unit_serial; translations/tgt.ids). Called with a.mutex held.
  void present_volume(TgtArray& a, int tid, int lun, const TgtVolumeFile& v) {
    a.client.new_logical_unit(tid, lun, v.path);
    std::string serial = tgt_unit_serial(v.id);
    a.client.update_logical_unit(tid, lun, fmt::format("scsi_sn={0},scsi_id={0}", serial));
    by_tid(a, tid).luns.push_back({lun, "disk", v.path, serial});
  }

  std::string unmap(TgtArray& a, const DeviceAction& x) {
    if (x.host.empty()) throw DeviceError(fmt::format("unmap of {} names no host", x.volume));
    auto v = a.store.find(x.volume);
    if (!v) return fmt::format("volume {} does not exist in {}: nothing to unmap", x.volume, a.store.dir());
    std::lock_guard lock(a.mutex);
    std::string target = a.naming.target_of_host(x.host);
    const TgtTarget* t = current(a).find(target);
    if (t == nullptr) return fmt::format("there is no target {}: nothing to unmap", target);
    int tid = t->tid;
    std::vector<int> luns = luns_presenting(*t, *v);
    if (luns.empty()) return fmt::format("{} does not present {}", target, x.volume);
    for (int lun : luns) delete_lun(a, tid, lun);
    return {};
  }

  // unbind: `initiator` loses its access to `volume`. On targets of other
  // hosts — where its rule was never farmctl's — its rule goes and its
  // sessions there are closed. On its own host's target, the volume's LUN
  // goes if unmap left it; once the target presents nothing it is deleted
  // with --force, which closes every session to it. An address rule
  // ("address:RULE") is removed from the targets that present the volume,
  // with the sessions it let in.
  std::string unbind(TgtArray& a, const DeviceAction& x) {
    std::lock_guard lock(a.mutex);
    TgtShow& show = current(a);
    auto v = a.store.find(x.volume);
    auto presents = [&](const TgtTarget& t) { return v && !luns_presenting(t, *v).empty(); };
    std::vector<std::string> touched;

    if (starts_with(x.initiator, kTgtAddressRule)) {
      std::string rule = x.initiator.substr(kTgtAddressRule.size());
      std::vector<int> tids;
      for (const TgtTarget& t : show.targets)
        if (presents(t) && std::find(t.acl_addresses.begin(), t.acl_addresses.end(), rule) != t.acl_addresses.end())
          tids.push_back(t.tid);
      for (int tid : tids) drop_address_rule(a, tid, rule);
      return tids.empty() ? fmt::format("no target presenting {} has the address rule {}", x.volume, rule)
                          : std::string();
    }

    auto host = a.naming.host_of_initiator(x.initiator);
    std::string own = host ? a.naming.target_of_host(*host) : std::string();
    std::vector<int> foreign;
    for (const TgtTarget& t : show.targets) {
      if (t.name == own || !t.admits_name(x.initiator)) continue;
      bool farmctl_target = a.naming.host_of_target(t.name).has_value();
      if (farmctl_target || presents(t)) foreign.push_back(t.tid);
    }
    for (int tid : foreign) revoke(a, tid, x.initiator);
    bool changed = !foreign.empty();

    if (const TgtTarget* t = own.empty() ? nullptr : current(a).find(own)) {
      int tid = t->tid;
      if (v)
        for (int lun : luns_presenting(*t, *v)) {
          delete_lun(a, tid, lun);
          changed = true;
        }
      if (!by_tid(a, tid).has_disks()) {
        try {
          a.client.delete_target(tid, true);  // rules, sessions and all
        } catch (const TgtRefused& e) {
          if (e.code() != TgtErrc::no_target) throw;
        }
        auto& targets = current(a).targets;
        targets.erase(std::remove_if(targets.begin(), targets.end(), [&](const TgtTarget& gone) { return gone.tid == tid; }),
                      targets.end());
        changed = true;
      }
    }
    if (!changed) return fmt::format("{} had no access to {} through {}", x.initiator, x.volume, a.name);
    return {};
  }

  // grow: the file grows in place; tgtd learns a size only when a LUN is
  // made, so every LUN presenting the volume is made again at the same number.
  std::string grow(TgtArray& a, const DeviceAction& x) {
    std::string message = a.store.grow(x.volume, x.size_mb);
    TgtVolumeFile v = volume(a, x.volume);
    std::lock_guard lock(a.mutex);
    std::vector<std::pair<int, int>> luns;  // tid, lun
    for (const TgtTarget& t : current(a).targets)
      for (int lun : luns_presenting(t, v)) luns.emplace_back(t.tid, lun);
    for (const auto& [tid, lun] : luns) {
      delete_lun(a, tid, lun);
      present_volume(a, tid, lun, v);
    }
    return luns.empty() ? message : std::string();
  }

  // The copy is taken while every target presenting the source is offline,
  // so no write lands half-way through it; they are back online at once after.
  std::string snap(TgtArray& a, const DeviceAction& x) {
    std::lock_guard lock(a.mutex);
    TgtVolumeFile source = volume(a, x.source);
    std::vector<int> quiesced;
    for (const TgtTarget& t : current(a).targets)
      if (!luns_presenting(t, source).empty()) quiesced.push_back(t.tid);
    // Every target is tried, whatever one of them answers: a target left
    // offline would hold its host's I/O back for good.
    auto resume = [&] {
      std::exception_ptr first;
      for (int tid : quiesced) try {
          a.client.set_target_state(tid, "ready");
        } catch (...) {
          if (!first) first = std::current_exception();
        }
      if (first) std::rethrow_exception(first);
    };
    for (int tid : quiesced) a.client.set_target_state(tid, "offline");
    std::string message;
    try {
      message = a.store.snap(x.volume, x.source, x.pool);
    } catch (...) {
      resume();
      throw;
    }
    resume();
    return message;
  }

  DriverContext context_;
  std::mutex arrays_mutex_;
  std::map<std::string, std::unique_ptr<TgtArray>> arrays_;
};

}  // namespace

std::unique_ptr<Driver> make_tgt_driver(const DriverContext& context) { return std::make_unique<TgtDriver>(context); }

}  // namespace farmctl::runtime
