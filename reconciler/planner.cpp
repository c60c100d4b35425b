// The planner's internals. This file's external interface is just
// make_plan(); the Planner class is private. It works in four passes over
// the farm: place servers, settle each volume (keep, grow, create, replace),
// settle each export (keep, repair, create, move), tear down what the file no
// longer asks for — then checks what the devices showed against the rest.
#include "reconciler/planner.h"

#include <algorithm>
#include <future>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "reconciler/allocator.h"
#include "reconciler/applied_volumes.h"
#include "reconciler/key_hash.h"
#include "reconciler/move_check.h"
#include "reconciler/name_hash.h"
#include "reconciler/placement.h"
#include "reconciler/reachability.h"
#include "runtime/dispose_later.h"
#include "runtime/phase_timer.h"
#include "runtime/wiring_map.h"

namespace farmctl::reconcile {

PlanRefused::PlanRefused(std::vector<std::string> reasons)
    : std::runtime_error(reasons.empty() ? "plan refused" : reasons.front()), reasons_(std::move(reasons)) {}

namespace {

using runtime::BindingRow;
using runtime::DeviceAction;
using runtime::VolumeRow;
using runtime::VolumeState;

// A disk unit of the farm as the inventory holds it: a single volume or a
// meta-volume (its head plus members in order).
struct Unit {
  VolumeRow head;
  std::vector<VolumeRow> members;
  std::uint64_t capacity() const {
    std::uint64_t total = head.size_mb;
    for (const VolumeRow& m : members) total += m.size_mb;
    return total;
  }
  bool is_meta() const { return !members.empty(); }
};


// Where a unit lives and when it is ready to be bound.
struct UnitPlacement {
  RowId array_id = 0;
  std::string array;
  std::string device_volume;
  RowId row = 0;        // 0 while it is a slice still to be carved
  int ready_after = -1;  // the action after which it may be bound; -1: ready now
  bool fresh = false;    // created (or re-created) by this plan
};

using ZoneKey = std::tuple<RowId, std::string, std::string>;  // fabric, initiator, port wwn

class Planner {
 public:
  Planner(const plan::Plan& ir, runtime::Inventory& inventory, const runtime::Topology& topology,
          const PendingDiscovery& discovery, const PlanOptions& options, FarmSnapshot* snapshot)
      : ir_(ir),
        inv_(inventory),
        topo_(topology),
        wait_for_discovery_(discovery),
        opt_(options),
        snapshot_(snapshot),
        reach_(topology),
        alloc_(inventory, topology) {}

  ReconcilePlan run() {
    out_.farm = ir_.farm;
    out_.destroy = opt_.destroy;
    out_.generation = inv_.generation();
    // A farm built from empty takes up to about four actions per disk and
    // three per export. Reserved up front, the actions are not moved (and
    // their pages faulted in again) each time the vector grows; what a
    // smaller plan leaves unused is never touched.
    out_.actions.reserve(4 * ir_.volumes.size() + 3 * ir_.exports.size() + 64);
    // The IR as text is only compared and stored: it is written on another
    // core while the farm's records are read, and the IR's exports are
    // indexed by volume there too (nothing else touches these members until
    // the join).
    std::future<void> ir_text = std::async(std::launch::async, [this] {
      index_exports();
      runtime::PhaseTimer timer("planner: plan IR as JSON");
      if (opt_.destroy) return;
      if (opt_.ir_text) out_.plan_json = plan::to_json(ir_);
      out_.volumes_applied = applied_volumes_text(ir_);
    });
    // What the devices show is indexed on another core while the farm's
    // records are loaded: index_discovery reads only the discovery and
    // writes only its own tables, which nothing reads before the join.
    std::future<void> indexing = std::async(std::launch::async, [this] {
      disc_ = &wait_for_discovery_();
      index_discovery();
    });
    load_farm();
    ir_text.get();
    load_previous_volumes();
    load_virtual_ports();
    indexing.get();
    if (!opt_.destroy) keep_clear_of_restored_volumes();
    move_servers();
    place_servers();
    {
      runtime::PhaseTimer timer("planner: settle volumes");
      placed_.reserve(ir_.volumes.size());
      wanted_.reserve(ir_.volumes.size());
      for (const plan::Volume& v : ir_.volumes) settle_volume(v);
      // Units no longer in the file go in the order of their names.
      std::vector<std::pair<const std::string*, Unit*>> unwanted;
      for (auto& [id, unit] : units_)
        if (!wanted_.count(id)) unwanted.push_back({&id, &unit});
      std::sort(unwanted.begin(), unwanted.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
      for (const auto& [id, unit] : unwanted) tear_down_unit(*id, *unit, ChangeKind::destroy, "not in the farm file");
    }
    {
      runtime::PhaseTimer timer("planner: settle exports");
      // Room for an entry per export in what every kept export adds to,
      // rather than the hash tables rehashed a dozen times as they grow.
      kept_hosts_.reserve(ir_.exports.size());
      gateway_luns_.reserve(ir_.exports.size());
      shown_as_kept_.reserve(ir_.exports.size());
      for (const plan::Volume& v : ir_.volumes) settle_exports(v);
    }
    carry_virtual_ports();
    remove_stray_bindings();
    for (const VolumeRow& v : orphans_) tear_down_orphan(v);
    repair_device_exposure();
    remove_unused_zones();
    settle_idle_virtual_ports();
    release_servers();
    if (!refusals_.empty()) throw PlanRefused(refusals_);
    return std::move(out_);
  }

 private:
  // ---- loading --------------------------------------------------------------

  void load_farm() {
    runtime::PhaseTimer timer("planner: load farm");
    if (snapshot_ != nullptr && snapshot_->name == ir_.farm) {
      farm_ = std::move(snapshot_->row);
      record_ = std::move(snapshot_->record);
    } else {
      farm_ = inv_.farm_for_plan(ir_.farm);
      if (farm_) record_ = inv_.farm_record(*farm_);
    }
    if (!farm_) return;
    for (const BindingRow& b : record_.bindings) {
      bindings_by_volume_[b.volume_id].push_back(&b);
      ++masking_users_[{b.volume_id, b.initiator}];
    }
    for (const auto& [unit, bindings] : bindings_by_volume_)
      if (bindings.size() > kScannedBindings)
        for (const BindingRow* b : bindings)
          binding_of_host_.emplace(std::pair(unit, b->host_id), b);  // the first, as a scan would find
    // Backup copies are the backup engine's (backup_plan.h); only a destroy
    // takes them, with the farm.
    runtime::BackupStore backups(inv_);
    copies_ = backups.volume_ids(farm_->id);
    std::set<RowId> restored = backups.restored_volume_ids(farm_->id);
    units_.reserve(record_.volumes.size());
    for (const VolumeRow& v : record_.volumes) {
      if (copies_.count(v.id)) {
        if (opt_.destroy) orphans_.push_back(v);
        continue;
      }
      // A copy restored into a new volume stays, exported, until released --
      // or until the farm is destroyed, when it goes like any disk.
      if (restored.count(v.id)) {
        if (opt_.destroy) units_[fmt::format("restored/{}", v.id)].head = v;
        for (const BindingRow* b : bindings_of(v.id)) restored_exports_.push_back(b);
        continue;
      }
      if (v.plan_volume) units_[*v.plan_volume].head = v;
      else if (!v.parent_id) orphans_.push_back(v);
    }
    std::unordered_map<RowId, Unit*> unit_by_row;
    for (auto& [id, unit] : units_) {
      unit_by_row[unit.head.id] = &unit;
      volume_by_row_[unit.head.id] = id;
    }
    for (const VolumeRow& v : record_.volumes)
      if (v.parent_id)
        if (auto it = unit_by_row.find(*v.parent_id); it != unit_by_row.end()) it->second->members.push_back(v);
    for (auto& [id, unit] : units_)
      std::sort(unit.members.begin(), unit.members.end(),
                [](const VolumeRow& a, const VolumeRow& b) { return a.member_order < b.member_order; });
    for (const runtime::PlacementRow& p : record_.placements) host_of_[p.server] = p.host_id;
    for (const runtime::ZoneRow& z : record_.zones) existing_zones_[{z.fabric_id, z.initiator, z.port_wwn}] = z;
  }

  // What the file last applied said of each disk (its sizes and backup
  // policies); when the file says the same of each disk as then, none is
  // needed (no volume can have shrunk, no policy changed).
  void load_previous_volumes() {
    if (!farm_ || !farm_->plan_json) return;
    if (farm_->volumes_applied) {
      if (*farm_->volumes_applied != out_.volumes_applied)
        previous_ = read_applied_volumes(*farm_->volumes_applied);
      return;
    }
    // Applied before inventory schema v6: only the IR says (and
    // farm_for_plan read it).
    if (*farm_->plan_json != out_.plan_json) previous_ = applied_volumes_of_plan_json(*farm_->plan_json);
  }

  // NPIV (docs/design/npiv.md): the farm's virtual ports, and every WWPN
  // any farm owns (none is handed out twice).
  void load_virtual_ports() {
    if (!opt_.destroy)
      for (const plan::Server& s : ir_.servers)
        if (s.npiv) npiv_servers_.insert(s.name);
    for (const runtime::VirtualPortRow& v : inv_.all_virtual_ports()) wwpns_taken_.insert(v.wwpn);
    for (const runtime::VirtualPortRow& v : record_.virtual_ports) vports_[{v.server, v.fabric_id}] = v;
  }

  void index_discovery() {
    runtime::PhaseTimer timer("planner: index discovery");
    // Sized up front: tens of thousands of entries, not rehashed as they grow.
    std::size_t volumes = 0, maskings = 0, mappings = 0;
    for (const auto& [device, state] : *disc_) {
      volumes += state.volumes.size();
      maskings += state.maskings.size();
      mappings += state.mappings.size();
    }
    device_volumes_.reserve(volumes);
    device_maskings_.reserve(maskings);
    device_mappings_.reserve(mappings);
    for (const auto& [device, state] : *disc_) {
      discovered_.insert(device);
      for (const runtime::DeviceVolume& v : state.volumes) device_volumes_[{device, v.id}] = &v;
      for (const runtime::DeviceMasking& m : state.maskings) {
        device_maskings_[{device, m.volume, m.initiator}] = &m;
        device_luns_[{device, m.port, m.initiator}].insert(m.lun);
      }
      for (const runtime::DeviceMapping& m : state.mappings)
        device_mappings_[{device, m.array.empty() ? device : m.array, m.volume, m.host}] = &m;
      for (const runtime::DeviceZone& z : state.zones) device_zones_.insert({device, z.initiator, z.port});
    }
  }

  // ---- actions and changes ---------------------------------------------------

  int add(Op op, const std::string& volume, const std::string& server, DeviceAction a, Effect effect,
          std::vector<int> deps, std::string detail) {
    Action action;
    action.id = static_cast<int>(out_.actions.size()) + 1;
    action.op = op;
    action.volume = volume;
    action.server = server;
    action.device = a.device;
    a.op = op;
    a.farm = ir_.farm;
    action.device_action = std::move(a);
    action.effect = std::move(effect);
    deps.erase(std::remove(deps.begin(), deps.end(), -1), deps.end());
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    action.depends_on = std::move(deps);
    action.detail = std::move(detail);
    out_.actions.push_back(std::move(action));
    return out_.actions.back().id;
  }

  void change(ChangeKind kind, std::string subject, std::string server, std::string reason, std::vector<int> actions) {
    out_.changes.push_back({kind, std::move(subject), std::move(server), std::move(reason), std::move(actions)});
  }

  const std::string& array_name(RowId id) const {
    static const std::string kUnknown = "?";
    const runtime::DeviceRow* d = topo_.device(id);
    return d != nullptr ? d->config.name : kUnknown;
  }
  const runtime::HostRow& host(RowId id) const { return *topo_.host(id); }

  // ---- servers ------------------------------------------------------------------

  void place_servers() {
    runtime::PhaseTimer timer("planner: place servers");
    std::vector<const plan::Server*> unplaced;
    for (const plan::Server& s : ir_.servers)
      if (!host_of_.count(s.name)) unplaced.push_back(&s);
    if (unplaced.empty()) return;  // the farm as it was: no idle host to look for
    std::map<std::string, std::set<std::string>> protocols;
    for (const plan::Export& e : ir_.exports) protocols[e.server].insert(e.protocol);
    std::vector<RowId> taken = inv_.placed_host_ids();
    for (const NewPlacement& m : out_.moves) taken.push_back(m.host_id);  // a move's new host is not idle either
    HostPlacer placer(topo_, reach_, taken);
    for (const plan::Server* server : unplaced) {
      const plan::Server& s = *server;
      std::string why;
      auto host_id = placer.place(s.hw, protocols[s.name], why);
      if (!host_id) {
        refusals_.push_back(fmt::format("no host for server {}: {}", s.name, why));
        continue;
      }
      host_of_[s.name] = *host_id;
      out_.placements.push_back({s.name, *host_id, host(*host_id).name});
      change(ChangeKind::create, "server " + s.name, s.name, "placed on idle host " + host(*host_id).name, {});
    }
  }

  // farmctl migrate: the server's desired host becomes the one asked for. The
  // placement row changes when the apply succeeds (ReconcilePlan::moves).
  void move_servers() {
    std::vector<RowId> placed = inv_.placed_host_ids();
    for (const auto& [server, to] : opt_.move_to) {
      auto on = host_of_.find(server);
      std::optional<RowId> placed_on = on != host_of_.end() ? std::optional(on->second) : std::nullopt;
      std::string refusal = move_host_refusal(ir_, topo_, placed_on, placed, server, to);
      if (!refusal.empty()) {
        refusals_.push_back(std::move(refusal));
        continue;
      }
      const runtime::HostRow& target = *topo_.host_named(to);
      const runtime::HostRow& old = host(host_of_.at(server));
      moved_from_[server] = old.id;
      host_of_[server] = target.id;
      out_.moves.push_back({server, target.id, target.name, old.id, old.name});
      change(ChangeKind::update, "server " + server, server,
             fmt::format("moves from host {} to host {} (make before break)", old.name, target.name), {});
    }
  }

  // The protocol an export uses on its host. The farm file's protocol while
  // the host and the array offer it; for a server that moves, else the first
  // of fc > iscsi > scsi both offer (docs/migration.md); after a move, the
  // protocol its binding already uses. Empty: none.
  std::string export_protocol(const plan::Export& e, const runtime::HostRow& h, RowId array_id,
                              const BindingRow* old) const {
    if (reach_.find(h, array_id, e.protocol)) return e.protocol;
    if (moved_from_.count(e.server)) {
      for (std::string_view p : {"fc", "iscsi", "scsi"})
        if (reach_.find(h, array_id, p)) return std::string(p);
      return {};
    }
    if (old != nullptr && reach_.find(h, array_id, old->protocol)) return old->protocol;
    return {};
  }

  std::string array_protocols(RowId array_id) const {
    const runtime::DeviceRow* d = topo_.device(array_id);
    if (d == nullptr || d->protocols.empty()) return "any (it lists none)";
    std::string out;
    for (const std::string& p : d->protocols) out += (out.empty() ? "" : " ") + p;
    return out;
  }

  // A restored volume's export holds its server's target until it is
  // released: the farm file may not put a disk there, nor take the server
  // away, nor may the server move to another host.
  void keep_clear_of_restored_volumes() {
    if (restored_exports_.empty()) return;
    std::set<std::string> servers;
    for (const plan::Server& s : ir_.servers) servers.insert(s.name);
    for (const BindingRow* b : restored_exports_) {
      if (!servers.count(b->server)) {
        refusals_.push_back(fmt::format("server {} leaves the farm, but a restored volume is exported to it at target "
                                        "{}: release it first (farmctl backup release {} ...)",
                                        b->server, b->target, ir_.farm));
        continue;
      }
      if (opt_.move_to.count(b->server))
        refusals_.push_back(fmt::format("server {} has a restored volume exported at target {}, which would stay "
                                        "with its old host: release it first (farmctl backup release {} ...)",
                                        b->server, b->target, ir_.farm));
      for (const plan::Export& e : ir_.exports)
        if (e.server == b->server && e.target == b->target)
          refusals_.push_back(fmt::format("volume {} wants target {} of server {}, where a restored volume is "
                                          "exported: release it first (farmctl backup release {} ...)",
                                          e.volume, e.target, e.server, ir_.farm));
    }
  }

  void release_servers() {
    std::set<std::string> wanted_servers;
    for (const plan::Server& s : ir_.servers) wanted_servers.insert(s.name);
    for (const runtime::PlacementRow& p : record_.placements) {
      if (wanted_servers.count(p.server)) continue;
      out_.released_servers.push_back(p.server);
      change(ChangeKind::destroy, "server " + p.server, p.server, "host " + host(p.host_id).name + " returns to idle",
             {});
    }
  }

  // ---- volumes --------------------------------------------------------------------

  // The arrays every host that sees `v` can reach over the protocol it uses.
  std::vector<RowId> reachable_arrays(const plan::Volume& v) const {
    std::vector<RowId> out;
    for (const runtime::DeviceRow& d : topo_.devices) {
      if (d.config.kind != runtime::DeviceKind::array) continue;
      bool all = true;
      for (const plan::Export* e : exports_of(v)) {
        auto h = host_of_.find(e->server);
        if (h == host_of_.end() || !reach_.find(host(h->second), d.id, e->protocol)) all = false;
      }
      if (all) out.push_back(d.id);
    }
    return out;
  }

  // In the farm file's order (index_exports, made at the start of run()).
  const std::vector<const plan::Export*>& exports_of(const std::string& volume) const {
    static const std::vector<const plan::Export*> kNone;
    auto it = exports_index_.find(volume);
    return it != exports_index_.end() ? it->second : kNone;
  }
  // The same for a volume of the IR, without hashing its name.
  const std::vector<const plan::Export*>& exports_of(const plan::Volume& v) const {
    std::less<const plan::Volume*> before;  // a total order, whatever `v` is
    if (before(&v, ir_.volumes.data()) || !before(&v, ir_.volumes.data() + ir_.volumes.size())) return exports_of(v.id);
    return *exports_by_position_[static_cast<std::size_t>(&v - ir_.volumes.data())];
  }
  void index_exports() {
    for (const plan::Export& e : ir_.exports) exports_index_[e.volume].push_back(&e);
    exports_by_position_.reserve(ir_.volumes.size());
    for (const plan::Volume& v : ir_.volumes) exports_by_position_.push_back(&exports_index_[v.id]);
  }

  std::string owner_server(const plan::Volume& v) const { return v.server; }

  void settle_volume(const plan::Volume& v) {
    wanted_.insert(v.id);
    if (!check_image(v)) return;
    auto it = units_.find(v.id);
    if (it == units_.end()) {
      create_unit(v, {}, ChangeKind::create, fmt::format("{} MB {}", v.size_mb, v.cls));
      return;
    }
    Unit& unit = it->second;
    std::string why_replace = replacement_reason(v, unit);
    if (!why_replace.empty()) {
      if (!opt_.allow_replace) {
        refusals_.push_back(fmt::format(
            "volume {} would be replaced ({}), destroying its data: run again with --allow-replace to accept", v.id,
            why_replace));
        return;
      }
      std::vector<int> gone = tear_down_unit(v.id, unit, ChangeKind::replace, why_replace);
      create_unit(v, gone, ChangeKind::replace, why_replace);
      return;
    }
    keep_unit(v, unit);
    note_policy_change(v);
  }

  // Backup policies touch no device, but the farm's applied Plan IR is what
  // the backup engine runs (backup_engine.h): a change of them alone is a
  // change to apply, so that it is recorded.
  void note_policy_change(const plan::Volume& v) {
    auto before = previous_.find(v.id);
    if (before == previous_.end()) return;
    // The disks of one role share their policies, and come one after another.
    if (policies_of_ == nullptr || *policies_of_ != v.backup) {
      policies_text_ = policies_text(v.backup);
      policies_of_ = &v.backup;
    }
    const std::string& after = policies_text_;
    if (after != before->second.backup)
      change(ChangeKind::update, "volume " + v.id, owner_server(v),
             fmt::format("backup policies {} -> {}", before->second.backup, after), {});
  }

  bool check_image(const plan::Volume& v) {
    if (!v.image) return true;
    const runtime::ImageRow* image = topo_.image(v.image->name);
    if (image == nullptr) {
      std::string known;
      for (const runtime::ImageRow& i : topo_.images) known += (known.empty() ? "" : ", ") + i.name;
      refusals_.push_back(fmt::format("volume {} wants image '{}', which the wiring map does not declare (known: {})",
                                      v.id, v.image->name, known.empty() ? "none" : known));
      return false;
    }
    if (image->size_mb > v.size_mb) {
      refusals_.push_back(fmt::format("image '{}' ({} MB) does not fit volume {} ({} MB)", image->name,
                                      image->size_mb, v.id, v.size_mb));
      return false;
    }
    return true;
  }

  std::string replacement_reason(const plan::Volume& v, const Unit& unit) const {
    if (unit.head.cls != v.cls) return fmt::format("class {} -> {}", unit.head.cls, v.cls);
    if (v.raid && unit.head.raid != v.raid)
      return fmt::format("raid {} -> {}", unit.head.raid.value_or("none"), *v.raid);
    auto prev = previous_.find(v.id);
    if (prev != previous_.end() && v.size_mb < prev->second.size_mb)
      return fmt::format("size {} MB -> {} MB (a disk cannot shrink)", prev->second.size_mb, v.size_mb);
    if (v.image && unit.head.image && *unit.head.image != v.image->name)
      return fmt::format("image {} -> {}", *unit.head.image, v.image->name);
    // A disk without the image asked for: written to already (its data would
    // be overwritten), or never (an earlier apply stopped before the copy).
    if (v.image && !unit.head.image && (unit.head.dirty_farm || !bindings_of(unit.head.id).empty()))
      return fmt::format("image none -> {}", v.image->name);
    return {};
  }

  std::string slice_id(const plan::Volume& v) const {
    return fmt::format("f{:08x}-{}", name_hash(ir_.farm + "\n" + v.id), out_.generation);
  }

  void create_unit(const plan::Volume& v, const std::vector<int>& after, ChangeKind kind, const std::string& reason) {
    // A server that found no host is refused already; where its storage would
    // go cannot be known, and "no array is reachable" would only mislead.
    for (const plan::Export* e : exports_of(v))
      if (!host_of_.count(e->server)) return;
    AllocationRequest request{v.id, v.size_mb, v.cls, v.raid, reachable_arrays(v)};
    std::string why;
    auto allocation = alloc_.allocate(request, why);
    if (!allocation) {
      refusals_.push_back(fmt::format("no storage for volume {} ({} MB {}{}): {}", v.id, v.size_mb, v.cls,
                                      v.raid ? " raid " + *v.raid : "", why));
      return;
    }
    UnitPlacement place;
    place.array_id = allocation->device_id;
    place.array = array_name(allocation->device_id);
    place.fresh = true;
    bool has_image = v.image.has_value();
    VolumeState configured_or_allocated = has_image ? VolumeState::Allocated : VolumeState::Configured;
    std::vector<int> ids;
    std::string detail;
    if (allocation->kind == Allocation::Kind::slice) {
      place.device_volume = slice_id(v);
      const runtime::PoolRow* pool = topo_.pool(*allocation->pool_id);
      VolumeRow slice;
      slice.device_id = allocation->device_id;
      slice.device_volume = place.device_volume;
      slice.size_mb = v.size_mb;
      slice.cls = v.cls;
      slice.raid = pool->raid;
      slice.origin = "slice";
      slice.pool_id = pool->id;
      slice.plan_volume = v.id;
      slice.state = VolumeState::Allocated;
      Effect e;
      e.slice = slice;
      e.plan_volume = v.id;
      e.state_after = configured_or_allocated;
      detail = fmt::format("{}:{} ({} MB from pool {})", place.array, place.device_volume, v.size_mb, pool->name);
      DeviceAction a;
      a.device = place.array;
      a.volume = place.device_volume;
      a.pool = pool->name;
      a.size_mb = v.size_mb;
      ids.push_back(add(Op::allocate, v.id, owner_server(v), a, e, after, detail));
    } else {
      const auto& members = allocation->members;
      place.device_volume = members.front().device_volume;
      place.row = members.front().id;
      bool meta = allocation->kind == Allocation::Kind::meta;
      std::vector<int> allocates;
      for (std::size_t i = 0; i < members.size(); ++i) {
        Effect e;
        e.volume_row = members[i].id;
        if (i == 0) e.plan_volume = v.id;
        e.state_after = meta ? VolumeState::Allocated : configured_or_allocated;
        DeviceAction a;
        a.device = place.array;
        a.volume = members[i].device_volume;
        allocates.push_back(add(Op::allocate, v.id, owner_server(v), a, e, after,
                                fmt::format("{}:{} ({} MB)", place.array, members[i].device_volume,
                                            members[i].size_mb)));
      }
      ids = allocates;
      detail = fmt::format("{}:{} ({} MB{})", place.array, place.device_volume, allocation->capacity_mb,
                           meta ? fmt::format(", meta of {} volumes", members.size()) : "");
      if (meta) ids.push_back(add_meta(v, place, members, {}, allocates, configured_or_allocated));
    }
    if (has_image) ids.push_back(add_copy(v, place, ids.back()));
    place.ready_after = ids.back();
    placed_[v.id] = place;
    if (kind == ChangeKind::replace) {
      std::vector<int> all = replaced_teardown_[v.id];
      all.insert(all.end(), ids.begin(), ids.end());
      ids = std::move(all);
    }
    change(kind, "volume " + v.id, owner_server(v), kind == ChangeKind::create ? detail : reason + "; new: " + detail,
           ids);
  }

  int add_meta(const plan::Volume& v, const UnitPlacement& place, const std::vector<VolumeRow>& members,
               const std::vector<VolumeRow>& existing, std::vector<int> deps, std::optional<VolumeState> after) {
    Effect e;
    e.volume_row = members.empty() ? 0 : members.front().id;
    DeviceAction a;
    a.device = place.array;
    a.volume = place.device_volume;
    for (const VolumeRow& m : existing) {
      a.members.push_back(m.device_volume);
      e.members.push_back(m.id);
    }
    for (const VolumeRow& m : members) {
      a.members.push_back(m.device_volume);
      e.members.push_back(m.id);
    }
    e.volume_row = e.members.front();
    e.state_after = after;
    return add(Op::meta, v.id, owner_server(v), a, e, std::move(deps),
               fmt::format("{}:{} from {} members", place.array, place.device_volume, a.members.size()));
  }

  int add_copy(const plan::Volume& v, const UnitPlacement& place, int after) {
    Effect e;
    e.volume_row = place.row;
    e.state_after = VolumeState::Configured;
    DeviceAction a;
    a.device = place.array;
    a.volume = place.device_volume;
    a.image = v.image->name;
    return add(Op::copy, v.id, owner_server(v), a, e, {after},
               fmt::format("image {} onto {}:{}", v.image->name, place.array, place.device_volume));
  }

  // A unit that stays: grow it if asked, re-create what the devices lost.
  void keep_unit(const plan::Volume& v, Unit& unit) {
    UnitPlacement place;
    place.array_id = unit.head.device_id;
    place.array = array_name(unit.head.device_id);
    place.device_volume = unit.head.device_volume;
    place.row = unit.head.id;
    placed_[v.id] = place;
    if (!device_has_volume(place.array, unit.head.device_volume)) {
      recreate_lost_unit(v, unit);
      return;
    }
    int remade = -1;
    if (unit.is_meta() && !device_meta_matches(place.array, unit)) {
      remade = add_meta(v, place, {}, all_rows(unit), {}, std::nullopt);
      change(ChangeKind::update, "volume " + v.id, owner_server(v),
             fmt::format("drift: meta-volume {}:{} lost members on the device", place.array, place.device_volume),
             {remade});
    }
    if (v.image && !unit.head.image) {  // nothing wrote to it yet (replacement_reason)
      int copy = add_copy(v, place, remade);
      placed_[v.id].ready_after = copy;
      change(ChangeKind::update, "volume " + v.id, owner_server(v),
             fmt::format("image {} not copied yet", v.image->name), {copy});
    }
    if (v.size_mb > unit.capacity()) grow_unit(v, unit);
  }

  // Whether discovery asked the device: one not asked is trusted to be as
  // the inventory says. (Asked for each export, several times.)
  bool discovered(std::string_view device) const { return discovered_.count(device) > 0; }

  std::vector<VolumeRow> all_rows(const Unit& unit) const {
    std::vector<VolumeRow> rows{unit.head};
    rows.insert(rows.end(), unit.members.begin(), unit.members.end());
    return rows;
  }

  bool device_has_volume(const std::string& array, const std::string& id) const {
    if (!discovered(array)) return true;  // not discovered: trust the inventory
    return device_volumes_.count({array, id}) > 0;
  }

  bool device_meta_matches(const std::string& array, const Unit& unit) const {
    auto it = device_volumes_.find({array, unit.head.device_volume});
    if (it == device_volumes_.end()) return true;
    std::vector<std::string> expected;
    for (const VolumeRow& r : all_rows(unit)) expected.push_back(r.device_volume);
    return it->second->members == expected;
  }

  // The device no longer has the unit (a slice deleted behind farmctl's
  // back): carve it again, copy its image. Its exports are repaired below at
  // the LUNs they had, so that what the gateway may still show of it (the
  // array forgets a volume's maskings with it, a gateway's mappings stay)
  // matches again rather than blocking a new LUN.
  void recreate_lost_unit(const plan::Volume& v, const Unit& unit) {
    UnitPlacement& place = placed_[v.id];
    std::vector<int> ids;
    DeviceAction a;
    a.device = place.array;
    a.volume = unit.head.device_volume;
    if (unit.head.origin == "slice") {
      const runtime::PoolRow* pool = topo_.pool(*unit.head.pool_id);
      a.pool = pool != nullptr ? pool->name : "";
      a.size_mb = unit.head.size_mb;
    }
    Effect e;
    e.volume_row = unit.head.id;
    e.plan_volume = v.id;
    e.state_after = unit.is_meta() || v.image ? VolumeState::Allocated : VolumeState::Configured;
    ids.push_back(add(Op::allocate, v.id, owner_server(v), a, e, {}, fmt::format("{}:{}", place.array, a.volume)));
    if (unit.is_meta())
      ids.push_back(add_meta(v, place, {}, all_rows(unit), {ids.back()},
                             v.image ? VolumeState::Allocated : VolumeState::Configured));
    if (v.image) ids.push_back(add_copy(v, place, ids.back()));
    place.ready_after = ids.back();
    change(ChangeKind::update, "volume " + v.id, owner_server(v),
           fmt::format("drift: {}:{} is missing on the device; it is made again (its data is lost)", place.array,
                       a.volume),
           ids);
  }

  void grow_unit(const plan::Volume& v, Unit& unit) {
    UnitPlacement& place = placed_[v.id];
    std::uint64_t extra = v.size_mb - unit.capacity();
    std::string reason = fmt::format("size {} MB -> {} MB (grows in place)", unit.capacity(), v.size_mb);
    if (unit.head.origin == "slice" && !unit.is_meta()) {
      if (!alloc_.reserve_in_pool(*unit.head.pool_id, extra)) {
        refusals_.push_back(fmt::format("volume {} cannot grow by {} MB: its pool has {} MB free", v.id, extra,
                                        alloc_.pool_free_mb(*unit.head.pool_id)));
        return;
      }
      Effect e;
      e.volume_row = unit.head.id;
      DeviceAction a;
      a.device = place.array;
      a.volume = unit.head.device_volume;
      a.size_mb = v.size_mb;
      int id = add(Op::grow, v.id, owner_server(v), a, e, {}, fmt::format("{}:{} to {} MB", place.array, a.volume,
                                                                           v.size_mb));
      change(ChangeKind::update, "volume " + v.id, owner_server(v), reason, {id});
      return;
    }
    std::string why;
    auto extra_members = alloc_.members_for_growth(unit.head.device_id, unit.head.cls, unit.head.raid, extra, why);
    if (!extra_members) {
      refusals_.push_back(fmt::format("volume {} cannot grow by {} MB on array {}: {}", v.id, extra, place.array, why));
      return;
    }
    std::vector<int> allocates;
    for (const VolumeRow& m : *extra_members) {
      Effect e;
      e.volume_row = m.id;
      e.state_after = VolumeState::Allocated;
      DeviceAction a;
      a.device = place.array;
      a.volume = m.device_volume;
      allocates.push_back(add(Op::allocate, v.id, owner_server(v), a, e, {},
                              fmt::format("{}:{} ({} MB)", place.array, m.device_volume, m.size_mb)));
    }
    // A unit whose meta a rollback broke (Unconfigured) held its image across
    // the old members: copy it again onto the meta before anything binds it.
    bool recopy = v.image && unit.head.state == VolumeState::Unconfigured;
    int meta = add_meta(v, place, *extra_members, all_rows(unit), allocates,
                        recopy ? std::optional(VolumeState::Allocated) : std::nullopt);
    allocates.push_back(meta);
    if (recopy) {
      allocates.push_back(add_copy(v, place, meta));
      place.ready_after = allocates.back();
      reason += "; the image is copied again";
    }
    change(ChangeKind::update, "volume " + v.id, owner_server(v), reason, allocates);
  }

  // ---- teardown -----------------------------------------------------------------------

  // The unit's exports in the inventory (indexed: plans of large farms must
  // not scan every binding for every unit).
  const std::vector<const BindingRow*>& bindings_of(RowId volume_row) const {
    static const std::vector<const BindingRow*> kNone;
    auto it = bindings_by_volume_.find(volume_row);
    return it != bindings_by_volume_.end() ? it->second : kNone;
  }

  int add_unmap(const BindingRow& b, const std::string& volume, const std::string& device_volume,
                const std::string& array, bool unit_going, bool drop_binding) {
    const runtime::HostRow& h = host(b.host_id);
    Effect e;
    e.binding = b;
    e.teardown = unit_going;
    e.drop_binding = drop_binding;
    DeviceAction m;
    m.device = b.gateway_id ? array_name(*b.gateway_id) : array;
    m.host = h.name;
    m.array = array;
    m.volume = device_volume;
    m.initiator = b.initiator;
    m.target = b.target;
    m.lun = b.lun;
    int id = add(Op::unmap, volume, b.server, m, e, {}, fmt::format("{} from host {} target {}", volume, h.name, b.target));
    unmaps_by_target_[{b.host_id, b.target}].push_back(id);
    torn_bindings_.insert(b.id);
    return id;
  }

  // Does the array masking this binding rides on stay after the plan? It does
  // while an export the farm file wants reaches the unit through the same
  // initiator and port at the same LUN: hosts behind one gateway share the
  // gateway's masking, and an export behind a gateway that moves to another
  // target keeps its LUN (a direct fc or iscsi export's LUN is its target).
  bool stays_masked(const BindingRow& b, const std::string& volume) const {
    if (torn_units_.count(b.volume_id)) return false;
    auto placed = placed_.find(volume);
    if (placed == placed_.end() || placed->second.row != b.volume_id) return false;
    for (const plan::Export* e : exports_of(volume)) {
      auto h = host_of_.find(e->server);
      if (h == host_of_.end()) continue;
      auto path = reach_.path(host(h->second), placed->second.array_id, e->protocol);
      if (path) with_virtual_port(e->server, e->protocol, *path);
      if (path && path->initiator == b.initiator && path->port_id == b.port_id &&
          (e->protocol == "scsi" || e->target == b.lun))
        return true;
    }
    return false;
  }

  // Unmaps each export, then unbinds each array masking no remaining export
  // uses (after all unmaps through it). Returns every action id it added.
  std::vector<int> tear_down_bindings(const std::vector<const BindingRow*>& going, const std::string& volume,
                                      const std::string& device_volume, RowId array_id, bool unit_going) {
    std::string array = array_name(array_id);
    std::map<std::string, std::vector<const BindingRow*>> by_initiator;
    for (const BindingRow* b : going) by_initiator[b->initiator].push_back(b);
    for (const BindingRow* b : going) torn_bindings_.insert(b->id);
    std::vector<int> ids;
    for (const auto& [initiator, group] : by_initiator) {
      bool shared_stays = false;
      for (const BindingRow* other : bindings_of(group.front()->volume_id))
        if (other->initiator == initiator && stays_masked(*other, volume)) shared_stays = true;
      std::vector<int> unmaps;
      for (const BindingRow* b : group) unmaps.push_back(add_unmap(*b, volume, device_volume, array, unit_going, shared_stays));
      ids.insert(ids.end(), unmaps.begin(), unmaps.end());
      if (shared_stays) continue;
      ids.push_back(add_unbind(*group.front(), volume, device_volume, array, unit_going, unmaps));
    }
    return ids;
  }

  // Takes the array masking of binding b's initiator away.
  int add_unbind(const BindingRow& b, const std::string& volume, const std::string& device_volume,
                 const std::string& array, bool unit_going, std::vector<int> deps) {
    const runtime::PortRow* port = topo_.port(b.port_id);
    Effect e;
    e.binding = b;
    e.teardown = unit_going;
    DeviceAction u;
    u.device = array;
    u.volume = device_volume;
    u.initiator = b.initiator;
    u.port = port != nullptr ? port->name : "";
    u.lun = b.lun;
    int unbind = add(Op::unbind, volume, b.server, u, e, std::move(deps),
                     fmt::format("{}:{} from {}", array, device_volume, b.initiator));
    unbinds_of_unit_[b.volume_id].push_back(unbind);
    if (port != nullptr && port->wwn) unbinds_by_pair_[{b.initiator, *port->wwn}].push_back(unbind);
    return unbind;
  }

  // Unmap and unbind every export, scrub, break a meta, deallocate every
  // piece. Returns the final actions (what a replacement must wait for).
  std::vector<int> tear_down_unit(const std::string& volume, const Unit& unit, ChangeKind kind,
                                  const std::string& reason) {
    std::string server = volume.rfind("global/", 0) == 0 ? std::string() : volume.substr(0, volume.find('/'));
    torn_units_.insert(unit.head.id);
    std::vector<int> ids =
        tear_down_bindings(bindings_of(unit.head.id), volume, unit.head.device_volume, unit.head.device_id, true);
    std::vector<int> last = ids;  // every unmap and unbind of the unit
    if (unit.head.dirty_farm || unit.head.image) {
      ids.push_back(add_teardown_step(Op::scrub, volume, server, unit.head, last));
      last = {ids.back()};
    }
    if (unit.is_meta()) {
      std::vector<RowId> members;
      for (const VolumeRow& r : all_rows(unit)) members.push_back(r.id);
      ids.push_back(add_teardown_step(Op::break_meta, volume, server, unit.head, last, std::move(members)));
      last = {ids.back()};
    }
    std::vector<int> finals;
    for (const VolumeRow& r : all_rows(unit)) {
      finals.push_back(add_teardown_step(Op::deallocate, volume, server, r, last));
      ids.push_back(finals.back());
    }
    if (kind == ChangeKind::destroy) change(kind, "volume " + volume, server, reason, ids);
    else replaced_teardown_[volume] = ids;
    return finals;
  }

  // A volume of the farm that realises nothing: a member left behind when a
  // rolled-back apply broke its meta, or a piece whose meta never formed.
  void tear_down_orphan(const VolumeRow& v) {
    std::vector<int> ids;
    if (v.dirty_farm || v.image) ids.push_back(add_teardown_step(Op::scrub, "", "", v, {}));
    ids.push_back(add_teardown_step(Op::deallocate, "", "", v, ids));
    change(ChangeKind::destroy, fmt::format("volume {}:{}", array_name(v.device_id), v.device_volume), "",
           copies_.count(v.id) ? "a backup copy: it goes with its farm"
                               : "left over from an interrupted or rolled-back apply",
           ids);
  }

  // One step of taking a piece of a disk unit down (scrub, break, deallocate),
  // recorded as part of a teardown.
  int add_teardown_step(Op op, const std::string& volume, const std::string& server, const VolumeRow& row,
                        std::vector<int> deps, std::vector<RowId> members = {}) {
    std::string array = array_name(row.device_id);
    Effect e;
    e.volume_row = row.id;
    e.members = std::move(members);
    e.teardown = true;
    DeviceAction a;
    a.device = array;
    a.volume = row.device_volume;
    if (op == Op::deallocate && row.origin == "slice" && row.pool_id)
      if (const runtime::PoolRow* pool = topo_.pool(*row.pool_id)) a.pool = pool->name;
    return add(op, volume, server, a, e, std::move(deps), fmt::format("{}:{}", array, row.device_volume));
  }

  // ---- exports ---------------------------------------------------------------------

  const BindingRow* existing_binding(RowId volume_row, RowId host_id) const {
    const auto& of_unit = bindings_of(volume_row);
    if (of_unit.size() <= kScannedBindings) {
      for (const BindingRow* b : of_unit)
        if (b->host_id == host_id) return b;
      return nullptr;
    }
    auto it = binding_of_host_.find({volume_row, host_id});
    return it != binding_of_host_.end() ? it->second : nullptr;
  }

  // Another export of the unit goes through the same masking (hosts behind
  // one gateway share the gateway's).
  bool masking_shared(const BindingRow& b) const {
    auto it = masking_users_.find({b.volume_id, b.initiator});
    return it != masking_users_.end() && it->second > 1;
  }

  void settle_exports(const plan::Volume& v) {
    auto placed = placed_.find(v.id);
    if (placed == placed_.end()) return;  // refused above
    const UnitPlacement& place = placed->second;
    for (const plan::Export* e : exports_of(v)) {
      auto h = host_of_.find(e->server);
      if (h == host_of_.end()) continue;  // no host: refused above
      const runtime::HostRow& hr = host(h->second);
      const BindingRow* old = place.row != 0 && !place.fresh ? existing_binding(place.row, hr.id) : nullptr;
      if (old != nullptr && torn_bindings_.count(old->id)) old = nullptr;
      std::string protocol = export_protocol(*e, hr, place.array_id, old);
      auto path = protocol.empty() ? std::nullopt : path_for(e->server, hr, place.array_id, protocol);
      if (!path) {
        if (moved_from_.count(e->server))
          refusals_.push_back(no_shared_protocol(e->server, hr.name, v.id, place.array,
                                                 array_protocols(place.array_id), reach_.protocols_of(hr)));
        else
          refusals_.push_back(fmt::format("volume {} on array {} cannot be reached by host {} (server {}) over {}",
                                          v.id, place.array, hr.name, e->server, e->protocol));
        continue;
      }
      kept_hosts_.insert({v.id, hr.id});
      plan::Export chosen = *e;
      chosen.protocol = protocol;
      settle_export(v, chosen, hr, *path, place, old);
    }
  }

  // Made only for a change: a plan of a converged farm keeps 30,000 exports.
  static std::string export_subject(const plan::Volume& v, const BindingRow& want) {
    return fmt::format("export {} -> {} (target {})", v.id, want.server, want.target);
  }

  void settle_export(const plan::Volume& v, const plan::Export& e, const runtime::HostRow& h, const StoragePath& path,
                     const UnitPlacement& place, const BindingRow* old) {
    BindingRow want;
    want.volume_id = place.row;
    want.host_id = h.id;
    want.server = e.server;
    want.target = e.target;
    want.protocol = e.protocol;
    want.lun = e.protocol == "scsi" ? gateway_lun(v.id, place, path) : e.target;
    want.initiator = path.initiator;
    want.port_id = path.port_id;
    want.gateway_id = path.gateway_id;
    if (old != nullptr) {
      bool same = old->target == want.target && old->protocol == want.protocol && old->initiator == want.initiator &&
                  old->port_id == want.port_id;
      if (!same && initiator_renamed(*old, want, h, place)) {
        swap_initiator(v, want, *old, path, place);
        return;
      }
      if (!same) {
        std::vector<int> ids = tear_down_bindings({old}, v.id, place.device_volume, place.array_id, false);
        auto made = make_export(v, want, h, path, place, ids);
        ids.insert(ids.end(), made.begin(), made.end());
        change(ChangeKind::update, export_subject(v, want), e.server,
               fmt::format("moves from target {} over {} to target {} over {}", old->target, old->protocol,
                           want.target, want.protocol),
               ids);
        return;
      }
      repair_export(v, want, *old, h, path, place);
      return;
    }
    auto ids = make_export(v, want, h, path, place, {});
    if (moved_from_.count(e.server)) {
      auto& creates = move_creates_[e.server];
      creates.insert(creates.end(), ids.begin(), ids.end());
      for (int id : ids) out_.actions[id - 1].move = Action::Move::create;
    }
    change(ChangeKind::create, export_subject(v, want), e.server,
           fmt::format("{} over {}, lun {}", h.name, e.protocol, want.lun), ids);
  }

  // Only the host's initiator name changed (an HBA replaced, an iSCSI
  // initiator renamed) and the devices show the export as the inventory
  // records it. Not behind a gateway, where the array masks the gateway's
  // initiator and its LUN is keyed by it; not a masking other exports share.
  bool initiator_renamed(const BindingRow& old, const BindingRow& want, const runtime::HostRow& h,
                         const UnitPlacement& place) const {
    if (old.initiator == want.initiator || old.host_id != want.host_id || old.target != want.target ||
        old.protocol != want.protocol || old.port_id != want.port_id || old.lun != want.lun)
      return false;
    if (old.protocol == "scsi" || old.gateway_id || !old.bound || !old.mapped) return false;
    if (discovered(place.array)) {
      if (!device_maskings_.count({place.array, place.device_volume, old.initiator})) return false;
      auto shown = device_mappings_.find({place.array, place.array, place.device_volume, h.name});
      if (shown == device_mappings_.end() || shown->second->target != want.target || shown->second->lun != want.lun)
        return false;
    }
    return !masking_shared(old);
  }

  // The masking moves from the old initiator name to the new one, the host
  // keeping its disk where it is (no unmap, no map). The two do not wait for
  // each other: the old name belongs to no host of the wiring map any more,
  // and the new one reaches nothing until its bind.
  void swap_initiator(const plan::Volume& v, BindingRow want, const BindingRow& old, const StoragePath& path,
                      const UnitPlacement& place) {
    std::vector<int> ids;
    std::vector<int> bind_deps = bind_prerequisites(v, want.server, path, place, host(want.host_id), &ids);
    ids.push_back(add_unbind(old, v.id, place.device_volume, place.array, false, {}));
    want.id = old.id;
    want.mapped = true;
    ids.push_back(add_bind(v, want, path, place, std::move(bind_deps)));
    change(ChangeKind::update, export_subject(v, want), want.server,
           fmt::format("initiator renamed: masking moves from {} to {}", old.initiator, want.initiator), ids);
  }

  // Behind a gateway the array masks the volume to the gateway, at a LUN of
  // its own (unique per gateway and array port, across farms); the gateway
  // then shows it to the host at the farm file's target. Direct fc and iscsi
  // hosts see the array's LUN, which is the target.
  int gateway_lun(const std::string& volume, const UnitPlacement& place, const StoragePath& path) {
    auto key = std::pair(path.port_id, path.initiator);
    if (auto it = gateway_luns_.find({volume, path.initiator}); it != gateway_luns_.end()) return it->second;
    if (!place.fresh)
      for (const BindingRow* b : bindings_of(place.row))
        if (b->initiator == path.initiator && b->port_id == path.port_id)
          return gateway_luns_[{volume, path.initiator}] = b->lun;
    auto used = luns_used_.find(key);
    if (used == luns_used_.end()) {
      auto in_use = inv_.luns_in_use(path.port_id, path.initiator);
      UsedLuns taken{std::set<int>(in_use.begin(), in_use.end())};
      // and what the array shows, maskings made behind farmctl's back included
      auto shown = device_luns_.find({place.array, path.port_name, path.initiator});
      if (shown != device_luns_.end()) taken.luns.insert(shown->second.begin(), shown->second.end());
      used = luns_used_.emplace(key, std::move(taken)).first;
    }
    // The lowest free LUN: those below `lowest_free` are all taken (LUNs are
    // only ever added here), so the search starts there, not at 0 each time,
    // which made it quadratic in the volumes behind one gateway.
    UsedLuns& u = used->second;
    int lun = u.lowest_free;
    while (u.luns.count(lun)) ++lun;
    u.luns.insert(lun);
    u.lowest_free = lun + 1;
    return gateway_luns_[{volume, path.initiator}] = lun;
  }

  // What a bind waits for: the unit ready to be bound, the server's virtual
  // port on its host (NPIV), and the zone (fc), which goes into `made` when
  // this plan adds it.
  std::vector<int> bind_prerequisites(const plan::Volume& v, const std::string& server, const StoragePath& path,
                                      const UnitPlacement& place, const runtime::HostRow& h, std::vector<int>* made) {
    std::vector<int> deps{place.ready_after, place_vport(server, path, h)};
    if (path.fabric_id) {
      int zone = ensure_zone(*path.fabric_id, path.initiator, path.port_wwn, v.id, server);
      if (zone > 0) {
        deps.push_back(zone);
        if (made != nullptr) made->push_back(zone);
      }
    }
    return deps;
  }

  // Masks the unit to the path's initiator at want.lun; `want` is the binding
  // the inventory records once it has run.
  int add_bind(const plan::Volume& v, BindingRow want, const StoragePath& path, const UnitPlacement& place,
               std::vector<int> deps) {
    want.bound = true;
    Effect be;
    be.binding = want;
    DeviceAction b;
    b.device = place.array;
    b.volume = place.device_volume;
    b.initiator = path.initiator;
    b.port = path.port_name;
    b.lun = want.lun;
    int bind = add(Op::bind, v.id, want.server, b, be, std::move(deps),
                   fmt::format("{}:{} to {} via {} lun {}", place.array, place.device_volume, path.initiator,
                               path.port_name, b.lun));
    maskings_planned_[{v.id, path.initiator}] = bind;
    return bind;
  }

  // zone (fc, once per initiator and port) -> bind -> map
  std::vector<int> make_export(const plan::Volume& v, BindingRow want, const runtime::HostRow& h,
                               const StoragePath& path, const UnitPlacement& place, std::vector<int> after) {
    std::vector<int> ids;
    std::vector<int> bind_deps = bind_prerequisites(v, want.server, path, place, h, &ids);
    bind_deps.insert(bind_deps.end(), after.begin(), after.end());
    want.bound = true;
    int bind = masking_in_place(v.id, place, path.initiator);
    if (bind == 0) {
      bind = add_bind(v, want, path, place, std::move(bind_deps));
      ids.push_back(bind);
    }
    // When the masking stays, the map still waits for what `after` takes down
    // (an export that moves unmaps the host's old target first).
    after.push_back(bind > 0 ? bind : -1);
    ids.push_back(add_map(v, want, h, path, place, std::move(after)));
    return ids;
  }

  // The id of the bind this plan adds for (volume, initiator), -1 when the
  // masking is already there and stays (hosts behind one gateway share it),
  // or 0 when it must be made.
  int masking_in_place(const std::string& volume, const UnitPlacement& place, const std::string& initiator) {
    if (auto it = maskings_planned_.find({volume, initiator}); it != maskings_planned_.end()) return it->second;
    if (place.fresh) return 0;
    bool on_device = !discovered(place.array) || device_maskings_.count({place.array, place.device_volume, initiator});
    if (!on_device) return 0;
    for (const BindingRow* other : bindings_of(place.row))
      if (other->initiator == initiator && other->bound && stays_masked(*other, volume))
        return maskings_planned_[{volume, initiator}] = -1;
    return 0;
  }

  int add_map(const plan::Volume& v, BindingRow want, const runtime::HostRow& h, const StoragePath& path,
              const UnitPlacement& place, std::vector<int> deps) {
    want.bound = true;
    want.mapped = true;
    Effect me;
    me.binding = want;
    DeviceAction m;
    m.device = path.gateway_id ? array_name(*path.gateway_id) : place.array;
    m.host = h.name;
    m.array = place.array;
    m.volume = place.device_volume;
    m.initiator = path.initiator;
    m.target = want.target;
    m.lun = want.lun;
    // The host's target must be free before it shows another volume there.
    auto freed = unmaps_by_target_.find({h.id, want.target});
    if (freed != unmaps_by_target_.end()) deps.insert(deps.end(), freed->second.begin(), freed->second.end());
    return add(Op::map, v.id, want.server, m, me, deps,
               fmt::format("{} to host {} target {}", v.id, h.name, want.target));
  }

  int ensure_zone(RowId fabric_id, const std::string& initiator, const std::string& port_wwn,
                  const std::string& volume, const std::string& server) {
    ZoneKey key{fabric_id, initiator, port_wwn};
    wanted_zones_.insert(key);
    if (auto it = zone_actions_.find(key); it != zone_actions_.end()) return it->second;
    std::string fabric = array_name(fabric_id);
    bool recorded = existing_zones_.count(key) > 0;
    bool on_device = !discovered(fabric) || device_zones_.count({fabric, initiator, port_wwn});
    if (recorded && on_device) return zone_actions_[key] = 0;
    Effect e;
    e.zone = runtime::ZoneRow{0, 0, fabric_id, initiator, port_wwn};
    DeviceAction a;
    a.device = fabric;
    a.initiator = initiator;
    a.port = port_wwn;
    int id = add(Op::zone, volume, server, a, e, {}, fmt::format("{} with {} on {}", initiator, port_wwn, fabric));
    if (recorded)
      change(ChangeKind::update, fmt::format("zone {} / {}", initiator, port_wwn), server,
             "drift: zone missing on fabric " + fabric, {id});
    return zone_actions_[key] = id;
  }

  // A kept export: finish what an interrupted apply left, repair drift.
  void repair_export(const plan::Volume& v, const BindingRow& want_in, const BindingRow& old,
                     const runtime::HostRow& h, const StoragePath& path, const UnitPlacement& place) {
    BindingRow want = want_in;
    want.id = old.id;
    const std::string& array = place.array;
    const std::string& map_device = path.gateway_id ? array_name(*path.gateway_id) : array;
    auto shown_mask = device_maskings_.find({array, place.device_volume, path.initiator});
    auto shown_map = device_mappings_.find({map_device, array, place.device_volume, h.name});
    bool masked = !discovered(array) || shown_mask != device_maskings_.end();
    bool mapped = !discovered(map_device) || shown_map != device_mappings_.end();
    // Shown, but not where the inventory says: what is there goes first. (Not
    // a masking other exports share: unbind forgets every export through it.)
    bool shared = masking_shared(old);
    const runtime::DeviceMasking* stray_mask =
        shown_mask != device_maskings_.end() && shown_mask->second->lun != want.lun && !shared ? shown_mask->second
                                                                                              : nullptr;
    const runtime::DeviceMapping* stray_map =
        shown_map != device_mappings_.end() &&
                (shown_map->second->target != want.target || shown_map->second->lun != want.lun)
            ? shown_map->second
            : nullptr;
    // What the devices show as the inventory has it: no stray exposure.
    shown_as_kept_.push_back({old.id,
                              shown_mask != device_maskings_.end() && stray_mask == nullptr ? shown_mask->second : nullptr,
                              shown_map != device_mappings_.end() && stray_map == nullptr ? shown_map->second : nullptr});
    std::vector<int> ids;
    std::vector<std::string> reasons;
    std::vector<int> bind_deps = bind_prerequisites(v, want.server, path, place, h, nullptr);
    std::vector<int> deps;
    auto planned = maskings_planned_.find({v.id, path.initiator});
    if (planned != maskings_planned_.end() && planned->second > 0) {
      deps.push_back(planned->second);  // another export through the same gateway re-masks it
    } else if (!old.bound || !masked || stray_mask != nullptr) {
      if (stray_mask != nullptr) {
        DeviceAction u;
        u.device = array;
        u.volume = place.device_volume;
        u.initiator = path.initiator;
        u.port = stray_mask->port;
        u.lun = stray_mask->lun;
        int unbind = add(Op::unbind, v.id, want.server, u, Effect{}, {},
                         fmt::format("{}:{} from {} lun {}", array, place.device_volume, path.initiator, u.lun));
        ids.push_back(unbind);
        bind_deps.push_back(unbind);
        reasons.push_back(fmt::format("drift: {} masks it at LUN {}, not {}", array, u.lun, want.lun));
      } else {
        reasons.push_back(old.bound ? "drift: masking missing on " + array : "bind not yet done");
      }
      BindingRow bound = want;
      bound.mapped = old.mapped && mapped;
      int bind = add_bind(v, bound, path, place, std::move(bind_deps));
      ids.push_back(bind);
      deps.push_back(bind);
    }
    if (!old.mapped || !mapped || stray_map != nullptr) {
      if (stray_map != nullptr) {
        DeviceAction u;
        u.device = map_device;
        u.host = h.name;
        u.array = array;
        u.volume = place.device_volume;
        u.initiator = path.initiator;
        u.target = stray_map->target;
        u.lun = stray_map->lun;
        int unmap = add(Op::unmap, v.id, want.server, u, Effect{}, {},
                        fmt::format("{} from host {} target {}", v.id, h.name, u.target));
        unmaps_by_target_[{h.id, u.target}].push_back(unmap);
        ids.push_back(unmap);
        deps.push_back(unmap);
        reasons.push_back(fmt::format("drift: {} shows it to host {} at target {}, LUN {}", map_device, h.name,
                                      u.target, u.lun));
      } else {
        reasons.push_back(old.mapped ? "drift: mapping missing on " + map_device : "map not yet done");
      }
      ids.push_back(add_map(v, want, h, path, place, deps));
    }
    if (!ids.empty()) {
      std::string reason;
      for (const std::string& r : reasons) reason += (reason.empty() ? "" : "; ") + r;
      change(ChangeKind::update, export_subject(v, want), want.server, reason, ids);
    }
  }

  // Bindings in the inventory that no desired export accounts for.
  void remove_stray_bindings() {
    runtime::PhaseTimer timer("planner: stray bindings");
    std::map<RowId, std::vector<const BindingRow*>> strays;  // by unit
    for (const BindingRow& b : record_.bindings) {
      if (torn_bindings_.count(b.id) || torn_units_.count(b.volume_id)) continue;
      std::string volume = volume_of_row(b.volume_id);
      if (volume.empty()) continue;
      if (kept_hosts_.count({volume, b.host_id})) continue;
      strays[b.volume_id].push_back(&b);
    }
    for (const auto& [row, going] : strays) {
      std::string volume = volume_of_row(row);
      const Unit& unit = units_.at(volume);
      std::vector<int> ids = tear_down_bindings(going, volume, unit.head.device_volume, unit.head.device_id, false);
      // Make before break: the old host of a moving server loses its access
      // only after the new host has all of its own.
      std::string reason = "not in the farm file";
      for (const BindingRow* b : going) {
        auto from = moved_from_.find(b->server);
        if (from == moved_from_.end() || from->second != b->host_id) continue;
        reason = fmt::format("host {} gives it up once host {} has it", host(b->host_id).name,
                             host(host_of_.at(b->server)).name);
        for (int id : ids) {
          after_creates(id, b->server);
          out_.actions[id - 1].move = Action::Move::teardown;
        }
      }
      std::string servers;
      for (const BindingRow* b : going) servers += (servers.empty() ? "" : ", ") + b->server;
      change(ChangeKind::destroy, fmt::format("export {} -> {}", volume, servers),
             going.size() == 1 ? going.front()->server : std::string(), reason, ids);
    }
  }

  void after_creates(int action_id, const std::string& server) {
    auto creates = move_creates_.find(server);
    if (creates == move_creates_.end()) return;
    std::vector<int>& deps = out_.actions[action_id - 1].depends_on;
    for (int c : creates->second)
      if (c != action_id && std::find(deps.begin(), deps.end(), c) == deps.end()) deps.push_back(c);
    std::sort(deps.begin(), deps.end());
  }

  std::string volume_of_row(RowId row) const {
    auto it = volume_by_row_.find(row);
    return it != volume_by_row_.end() ? it->second : std::string();
  }

  // Maskings and mappings of the farm's volumes that the devices show but no
  // export of the farm accounts for: someone exposed the farm's data.
  void repair_device_exposure() {
    runtime::PhaseTimer timer("planner: device exposure");
    for (const StrayExposure& stray : find_stray_exposure()) {
      if (stray.masking != nullptr) unbind_stray(*stray.device, *stray.volume, *stray.masking);
      else unmap_stray(*stray.device, *stray.volume, *stray.mapping);
    }
  }

  struct StrayExposure {
    const std::string* device;
    const std::string* volume;  // the plan volume
    const runtime::DeviceMasking* masking = nullptr;
    const runtime::DeviceMapping* mapping = nullptr;
  };

  // The maskings and mappings the plan wants on the devices (array or
  // gateway, device volume, initiator or host; WantedExposure): those of the farm's
  // bindings, of the binds and maps it makes, and of what it takes down.
  // The tables hold views into the plan's actions, so nothing may be added
  // to out_.actions while they live.
  struct WantedExposure;
  WantedExposure wanted_exposure() const {
    WantedExposure wanted;
    for (const Action& a : out_.actions) {
      if (a.op == Op::bind) wanted.masks.insert({a.device, a.device_action.volume, a.device_action.initiator});
      if (a.op == Op::map) wanted.maps.insert({a.device, a.device_action.volume, a.device_action.host});
    }
    std::unordered_map<RowId, std::pair<const std::string*, const UnitPlacement*>> placed_by_row;
    for (const auto& [id, place] : placed_)
      if (place.row != 0) placed_by_row[place.row] = {&id, &place};
    for (const BindingRow& b : record_.bindings) {
      auto found = placed_by_row.find(b.volume_id);
      if (found != placed_by_row.end()) {
        const std::string& id = *found->second.first;
        const UnitPlacement& place = *found->second.second;
        // A moved export's masking stays while the binding is re-made.
        bool torn = torn_bindings_.count(b.id) > 0;
        if (!torn || stays_masked(b, id)) wanted.masks.insert({place.array, place.device_volume, b.initiator});
        if (torn) continue;
        const std::string& map_device = b.gateway_id ? array_name(*b.gateway_id) : place.array;
        wanted.maps.insert({map_device, place.device_volume, host(b.host_id).name});
      }
    }
    for (const Action& a : out_.actions) {  // what this plan takes down is not exposure
      if (a.op == Op::unbind) wanted.masks.insert({a.device, a.device_action.volume, a.device_action.initiator});
      else if (a.op == Op::unmap) wanted.maps.insert({a.device, a.device_action.volume, a.device_action.host});
    }
    return wanted;
  }

  // In discovery's order. What settle_exports found shown exactly as a kept
  // binding says is wanted without asking; only what is left needs the
  // tables of wanted exposure, which a converged farm never builds (60,000
  // entries of three names at 10,000 servers, most of this check's time).
  std::vector<StrayExposure> find_stray_exposure() const {
    // (array, device volume) -> plan volume: made, like the wanted exposure,
    // only once something shown was not kept.
    std::optional<std::unordered_map<Names2, const std::string*, KeyHash>> ours;
    auto ours_now = [&]() -> const std::unordered_map<Names2, const std::string*, KeyHash>& {
      if (!ours) {
        ours.emplace();
        for (const auto& [id, place] : placed_) ours->insert_or_assign(Names2{place.array, place.device_volume}, &id);
      }
      return *ours;
    };
    std::unordered_set<const void*> kept;
    kept.reserve(2 * shown_as_kept_.size());
    for (const ShownAsKept& shown : shown_as_kept_) {
      if (torn_bindings_.count(shown.binding)) continue;
      if (shown.masking != nullptr) kept.insert(shown.masking);
      if (shown.mapping != nullptr) kept.insert(shown.mapping);
    }
    std::optional<WantedExposure> wanted;
    auto wanted_now = [&]() -> const WantedExposure& {
      if (!wanted) wanted = wanted_exposure();
      return *wanted;
    };
    std::vector<StrayExposure> strays;
    for (const auto& [device, state] : *disc_) {
      for (const runtime::DeviceMasking& m : state.maskings) {
        if (kept.count(&m)) continue;
        const auto& our = ours_now();
        auto it = our.find({device, m.volume});
        if (it == our.end() || wanted_now().masks.count({device, m.volume, m.initiator})) continue;
        strays.push_back({&device, it->second, &m, nullptr});
      }
      for (const runtime::DeviceMapping& m : state.mappings) {
        if (kept.count(&m)) continue;
        const auto& our = ours_now();
        auto it = our.find({m.array.empty() ? device : m.array, m.volume});
        if (it == our.end() || wanted_now().maps.count({device, m.volume, m.host})) continue;
        strays.push_back({&device, it->second, nullptr, &m});
      }
    }
    return strays;
  }

  void unbind_stray(const std::string& device, const std::string& volume, const runtime::DeviceMasking& m) {
    DeviceAction a;
    a.device = device;
    a.volume = m.volume;
    a.initiator = m.initiator;
    a.port = m.port;
    a.lun = m.lun;
    int id = add(Op::unbind, volume, "", a, Effect{}, {}, fmt::format("{}:{} from {}", device, m.volume, m.initiator));
    change(ChangeKind::update, "volume " + volume, "",
           fmt::format("drift: {}:{} is masked to {}, which is not in the farm", device, m.volume, m.initiator), {id});
  }

  void unmap_stray(const std::string& device, const std::string& volume, const runtime::DeviceMapping& m) {
    const std::string& array = m.array.empty() ? device : m.array;
    DeviceAction a;
    a.device = device;
    a.volume = m.volume;
    a.host = m.host;
    a.array = array;
    a.target = m.target;
    a.lun = m.lun;
    int id = add(Op::unmap, volume, "", a, Effect{}, {}, fmt::format("{} from host {}", volume, m.host));
    change(ChangeKind::update, "volume " + volume, "",
           fmt::format("drift: {} shows {}:{} to host {}, which is not in the farm", device, array, m.volume, m.host),
           {id});
  }

  // ---- NPIV: virtual ports ------------------------------------------------------------

  using VportKey = std::pair<std::string, RowId>;  // server, fabric

  // The fc path of an npiv server goes through its virtual port on the
  // fabric: zones and maskings name the port, which whatever host the
  // server is on carries. The port is the farm's from its first plan.
  std::optional<StoragePath> path_for(const std::string& server, const runtime::HostRow& h, RowId array_id,
                                      std::string_view protocol) {
    auto path = reach_.path(h, array_id, protocol);
    if (!path || protocol != "fc" || !path->fabric_id || !npiv_servers_.count(server)) return path;
    if (!virtual_port(server, *path->fabric_id)) return std::nullopt;  // refused in virtual_port
    with_virtual_port(server, protocol, *path);
    used_vports_.insert({server, *path->fabric_id});
    return path;
  }

  void with_virtual_port(const std::string& server, std::string_view protocol, StoragePath& path) const {
    if (protocol != "fc" || !path.fabric_id || !npiv_servers_.count(server)) return;
    if (auto v = vports_.find({server, *path.fabric_id}); v != vports_.end()) path.initiator = v->second.wwpn;
  }

  // The server's virtual port on the fabric; a new one is the lowest WWPN of
  // the fabric's ranges that no farm owns. Null (and the plan refused) when
  // the fabric has none to give.
  const runtime::VirtualPortRow* virtual_port(const std::string& server, RowId fabric_id) {
    VportKey key{server, fabric_id};
    if (auto it = vports_.find(key); it != vports_.end()) return &it->second;
    bool ranged = false;
    for (const runtime::NpivRangeRow& r : topo_.npiv_ranges) {
      if (r.fabric_id != fabric_id) continue;
      ranged = true;
      for (std::uint64_t w = runtime::wwn_value(r.first), last = runtime::wwn_value(r.last);; ++w) {
        std::string wwpn = runtime::wwn_text(w);
        if (wwpns_taken_.insert(wwpn).second)
          return &(vports_[key] = runtime::VirtualPortRow{wwpn, fabric_id, 0, server, std::nullopt});
        if (w == last) break;
      }
    }
    if (refused_vports_.insert(key).second)
      refusals_.push_back(
          ranged ? fmt::format("server {} asks for npiv, but every WWPN of fabric {}'s npiv-range is taken", server,
                               array_name(fabric_id))
                 : fmt::format("server {} asks for npiv, but the wiring map gives fabric {} no npiv-range", server,
                               array_name(fabric_id)));
    return nullptr;
  }

  // The action that logs the server's virtual port in at host h, before
  // anything is masked to it; -1 when it is there already, or when a move
  // carries it there once the new host is ready (carry_virtual_ports).
  int place_vport(const std::string& server, const StoragePath& path, const runtime::HostRow& h) {
    if (!path.fabric_id || !npiv_servers_.count(server)) return -1;
    VportKey key{server, *path.fabric_id};
    auto v = vports_.find(key);
    if (v == vports_.end() || v->second.wwpn != path.initiator) return -1;
    if (auto it = vport_actions_.find(key); it != vport_actions_.end()) return it->second;
    if (v->second.host_id == h.id) return vport_actions_[key] = -1;
    auto from = moved_from_.find(server);
    if (from != moved_from_.end() && v->second.host_id == from->second) {
      carried_[key] = h.id;
      return vport_actions_[key] = -1;
    }
    return vport_actions_[key] = add_vport(key, &h, {}, false);
  }

  // Moves the port to host `to` (null: logs it out; with release, it also
  // leaves the farm).
  int add_vport(const VportKey& key, const runtime::HostRow* to, std::vector<int> deps, bool release) {
    const runtime::VirtualPortRow& v = vports_.at(key);
    std::string fabric = array_name(key.second);
    std::string from = v.host_id ? host(*v.host_id).name : std::string();
    Effect e;
    e.vport = v;
    e.vport->host_id = to != nullptr ? std::optional(to->id) : std::nullopt;
    e.vport_from_host = from;
    e.vport_from_host_id = v.host_id;
    e.release_vport = release;
    DeviceAction a;
    a.device = fabric;
    a.initiator = v.wwpn;
    a.host = to != nullptr ? to->name : std::string();
    std::string where = to != nullptr ? "to host " + to->name : std::string("logged out");
    int id = add(Op::vport, "", key.first, a, e, std::move(deps), fmt::format("{} {} on {}", v.wwpn, where, fabric));
    std::string reason = release          ? "returns to the npiv-range of " + fabric
                         : to == nullptr  ? fmt::format("logged out from host {}", from)
                         : from.empty()   ? fmt::format("logged in at host {} on {}", to->name, fabric)
                                          : fmt::format("moves from host {} to host {}", from, to->name);
    change(release ? ChangeKind::destroy : from.empty() ? ChangeKind::create : ChangeKind::update, "vport " + v.wwpn,
           key.first, reason, {id});
    return id;
  }

  // A move FC -> FC on one fabric: the virtual port goes to the new host
  // once the new host's maps are there, and before the old host's go (make
  // before break); its zones and maskings stay as they are.
  void carry_virtual_ports() {
    for (const auto& [key, host_id] : carried_) {
      std::vector<int>& creates = move_creates_[key.first];
      int id = add_vport(key, &host(host_id), creates, false);
      out_.actions[id - 1].move = Action::Move::create;
      creates.push_back(id);
    }
  }

  // A port no export of this plan goes through: its server left the farm
  // (or no longer asks for npiv) -- it goes back to the range once nothing
  // is masked or zoned to it -- or now reaches its storage another way
  // (moved to an iSCSI host): logged out, and kept by the farm.
  void settle_idle_virtual_ports() {
    for (const auto& [key, v] : vports_) {
      if (used_vports_.count(key) || v.farm_id == 0) continue;  // in use, or new in this plan
      bool release = !npiv_servers_.count(key.first);
      if (!release && !v.host_id) continue;
      std::vector<int> deps;
      for (const Action& a : out_.actions)
        if (a.device_action.initiator == v.wwpn && a.op != Op::vport) deps.push_back(a.id);
      bool after_move = false;
      for (int d : deps) after_move = after_move || out_.actions[d - 1].move == Action::Move::teardown;
      int id = add_vport(key, nullptr, deps, release);
      if (after_move) out_.actions[id - 1].move = Action::Move::teardown;
    }
  }

  void remove_unused_zones() {
    for (const auto& [key, zone] : existing_zones_) {
      if (wanted_zones_.count(key)) continue;
      const auto& [fabric_id, initiator, port_wwn] = key;
      Effect e;
      e.zone = zone;
      DeviceAction a;
      a.device = array_name(fabric_id);
      a.initiator = initiator;
      a.port = port_wwn;
      std::vector<int> deps;
      if (auto it = unbinds_by_pair_.find({initiator, port_wwn}); it != unbinds_by_pair_.end()) deps = it->second;
      int id = add(Op::unzone, "", "", a, e, deps, fmt::format("{} from {} on {}", initiator, port_wwn, a.device));
      // The old host's zone of a move goes with the move (and comes back with its rollback).
      if (std::any_of(deps.begin(), deps.end(),
                      [&](int d) { return out_.actions[d - 1].move == Action::Move::teardown; }))
        out_.actions[id - 1].move = Action::Move::teardown;
      change(ChangeKind::destroy, fmt::format("zone {} / {}", initiator, port_wwn), "", "no export uses it", {id});
    }
  }

  const plan::Plan& ir_;
  runtime::Inventory& inv_;
  const runtime::Topology& topo_;
  const PendingDiscovery& wait_for_discovery_;
  const Discovery* disc_ = nullptr;  // once the farm is loaded and discovery indexed
  PlanOptions opt_;
  FarmSnapshot* snapshot_;  // read while the file compiled, or null
  Reachability reach_;
  VolumeAllocator alloc_;

  std::optional<runtime::FarmRow> farm_;
  runtime::FarmRecord record_;
  std::unordered_map<std::string, Unit> units_;  // by plan volume
  std::unordered_map<RowId, std::string> volume_by_row_;  // unit head row -> plan volume
  std::unordered_map<RowId, std::vector<const BindingRow*>> bindings_by_volume_;
  // Most units are a private disk with one export, found by a scan; a shared
  // disk's thousands of exports are looked up by (unit, host).
  static constexpr std::size_t kScannedBindings = 8;
  std::unordered_map<std::pair<RowId, RowId>, const BindingRow*, KeyHash> binding_of_host_;  // (unit, host)
  std::unordered_map<std::pair<RowId, std::string_view>, int, KeyHash> masking_users_;     // (unit, initiator)
  std::vector<VolumeRow> orphans_;
  std::set<RowId> copies_;  // volume rows that are backup copies
  std::vector<const BindingRow*> restored_exports_;  // exports of restored volumes (restore --to-new)
  std::unordered_map<std::string, RowId> host_of_;  // server -> host row; looked up for each export
  AppliedVolumes previous_;  // as last applied
  const std::vector<fml::BackupPolicy>* policies_of_ = nullptr;  // the policies policies_text_ was made of
  std::string policies_text_;
  std::map<ZoneKey, runtime::ZoneRow> existing_zones_;
  std::unordered_map<std::string_view, std::vector<const plan::Export*>> exports_index_;  // by volume
  std::vector<const std::vector<const plan::Export*>*> exports_by_position_;  // by index in ir_.volumes

  // What discovery showed, by the names the planner looks things up by (views into disc_).
  using Names2 = std::pair<std::string_view, std::string_view>;
  using Names3 = std::tuple<std::string_view, std::string_view, std::string_view>;
  using Names4 = std::tuple<std::string_view, std::string_view, std::string_view, std::string_view>;
  // What the plan wants exposed (wanted_exposure()).
  struct WantedExposure {
    std::unordered_set<Names3, KeyHash> masks;  // array, volume, initiator
    std::unordered_set<Names3, KeyHash> maps;   // device, volume, host
  };
  std::unordered_set<std::string_view> discovered_;                                        // devices asked
  std::unordered_map<Names2, const runtime::DeviceVolume*, KeyHash> device_volumes_;       // device, volume
  std::unordered_map<Names3, const runtime::DeviceMasking*, KeyHash> device_maskings_;     // array, volume, initiator
  std::unordered_map<Names3, std::set<int>, KeyHash> device_luns_;                         // array, port, initiator
  std::unordered_map<Names4, const runtime::DeviceMapping*, KeyHash> device_mappings_;     // device, array, volume, host
  std::unordered_set<Names3, KeyHash> device_zones_;                                       // fabric, initiator, port

  std::unordered_set<std::string_view> wanted_;  // the IR's volumes
  std::unordered_map<std::string, UnitPlacement> placed_;  // by plan volume
  std::unordered_set<std::pair<std::string_view, RowId>, KeyHash> kept_hosts_;  // (volume, host) exports settled
  std::set<RowId> torn_bindings_;
  // A kept binding and what discovery showed of it where the inventory says
  // (null: not shown so); find_stray_exposure counts these as wanted while
  // the binding stays.
  struct ShownAsKept {
    RowId binding;
    const runtime::DeviceMasking* masking;
    const runtime::DeviceMapping* mapping;
  };
  std::vector<ShownAsKept> shown_as_kept_;
  std::set<RowId> torn_units_;
  std::map<std::string, std::vector<int>> replaced_teardown_;
  std::map<std::pair<RowId, int>, std::vector<int>> unmaps_by_target_;
  std::map<RowId, std::vector<int>> unbinds_of_unit_;
  using VolumeInitiator = std::pair<std::string, std::string>;
  std::unordered_map<VolumeInitiator, int, KeyHash> maskings_planned_;  // bind id, or -1: masking stays
  std::unordered_map<VolumeInitiator, int, KeyHash> gateway_luns_;      // (volume, gateway initiator) -> array LUN
  struct UsedLuns {
    std::set<int> luns;
    int lowest_free = 0;  // every LUN below it is in `luns`
  };
  std::map<std::pair<RowId, std::string>, UsedLuns> luns_used_;  // (port, initiator) -> LUNs taken
  std::map<std::pair<std::string, std::string>, std::vector<int>> unbinds_by_pair_;
  std::unordered_set<ZoneKey, KeyHash> wanted_zones_;
  std::unordered_map<ZoneKey, int, KeyHash> zone_actions_;
  std::map<std::string, RowId> moved_from_;               // moving server -> the host it leaves
  std::map<std::string, std::vector<int>> move_creates_;  // moving server -> its new host's zone/bind/map
  std::set<std::string> npiv_servers_;
  std::set<std::string> wwpns_taken_;                         // owned by any farm, or handed out by this plan
  std::map<VportKey, runtime::VirtualPortRow> vports_;       // the farm's, and those this plan hands out
  std::set<VportKey> used_vports_;                            // an export of this plan goes through it
  std::set<VportKey> refused_vports_;
  std::map<VportKey, int> vport_actions_;                     // the vport placing it, or -1
  std::map<VportKey, RowId> carried_;                         // moves: the host the port follows its server to

  ReconcilePlan out_;
  std::vector<std::string> refusals_;
};

}  // namespace

ReconcilePlan make_plan(const plan::Plan& ir, runtime::Inventory& inventory, const runtime::Topology& topology,
                        const PendingDiscovery& discovery, const PlanOptions& options, FarmSnapshot* snapshot) {
  auto planner = std::make_unique<Planner>(ir, inventory, topology, discovery, options, snapshot);
  ReconcilePlan plan = planner->run();
  // Its tables (views and row copies, hundreds of thousands of nodes at
  // 10,000 servers) are freed on another core while the caller goes on.
  runtime::dispose_later(std::move(planner));
  return plan;
}

ReconcilePlan make_plan(const plan::Plan& ir, runtime::Inventory& inventory, const runtime::Topology& topology,
                        const Discovery& discovery, const PlanOptions& options) {
  return make_plan(ir, inventory, topology, PendingDiscovery([&]() -> const Discovery& { return discovery; }),
                   options);
}

}  // namespace farmctl::reconcile
