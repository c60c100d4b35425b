// The semantics of the sim's operations: what allocate, meta, bind, ... do to
// the simulated devices, and when a device refuses. This file's external
// interface is apply_sim_action; the DeviceModel class is private.
#include "runtime/sim_operations.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

namespace farmctl::runtime {
namespace {

DeviceKind kind_from_name(std::string_view name) {
  if (name == "gateway") return DeviceKind::gateway;
  if (name == "fabric") return DeviceKind::fabric;
  return DeviceKind::array;
}


struct VolumeRow {
  std::string id;
  std::uint64_t size_mb = 0;
  std::string pool;  // '' for pre-carved and metas
  bool is_meta = false;
  std::string meta_parent;  // '' when not a member
  std::string image;
  std::string data_owner;
};

ActionOutcome ok_because(std::string message) { return {ActionOutcome::Status::ok, std::move(message)}; }

// What each operation does to the devices. Every method validates first and
// writes only once the action is sure to succeed; SimStore::apply also runs it in
// a savepoint, so a refusal can never leave half an action behind.
class DeviceModel {
 public:
  DeviceModel(const SimSql& sql, const DeviceAction& action) : sql_(sql), a_(action), dev_(action.device) {}

  ActionOutcome run() {
    if (dev_.empty()) return ActionOutcome::permanent(fmt::format("{} names no device", to_string(a_.op)));
    auto kind = device_kind(dev_);
    if (!kind)
      return ActionOutcome::permanent(
          fmt::format("sim device {} was never declared; run farmctl inventory import", dev_));
    if (auto wrong = check_kind(*kind)) return *wrong;
    switch (a_.op) {
      case Op::allocate: return allocate();
      case Op::meta: return meta();
      case Op::grow: return grow();
      case Op::copy: return copy();
      case Op::bind: return bind();
      case Op::map: return map();
      case Op::zone: return zone();
      case Op::unmap: return unmap();
      case Op::unbind: return unbind();
      case Op::unzone: return unzone();
      case Op::scrub: return scrub();
      case Op::break_meta: return break_meta();
      case Op::deallocate: return deallocate();
      case Op::snap: return snap();
      case Op::restore: return restore();
      case Op::vport: return vport();
    }
    return ActionOutcome::permanent("unknown operation");
  }

 private:
  // ---- reads ----------------------------------------------------------------

  // Asked up to three times per action (the device, then a map's array);
  // a device's kind never changes, so once per action is enough.
  std::optional<DeviceKind> device_kind(std::string_view device) {
    for (const auto& [name, kind] : kinds_)
      if (name == device) return kind;
    auto& st = sql_("SELECT kind FROM sim_devices WHERE name = ?");
    st.bind_all(device);
    std::optional<DeviceKind> kind;
    if (st.step()) kind = kind_from_name(st.text_view(0));
    kinds_.emplace_back(std::string(device), kind);
    return kind;
  }

  // Every operation finds a single volume here, so this is where a
  // pre-carved volume nothing has touched yet moves from sim_idle_volumes to
  // sim_volumes (sim_store.cpp, version 3): the rest of this file then knows
  // sim_volumes alone. The move is undone with the action if it fails.
  std::optional<VolumeRow> volume(std::string_view device, std::string_view id) {
    static constexpr std::string_view kSelect =
        "SELECT id, size_mb, pool, is_meta, IFNULL(meta_parent, ''), IFNULL(image, ''), IFNULL(data_owner, '') "
        "FROM sim_volumes WHERE device = ? AND id = ?";
    auto* st = &sql_(kSelect);
    st->bind_all(device, id);
    if (!st->step()) {
      sql_("INSERT INTO sim_volumes(device, id, size_mb) SELECT device, id, size_mb FROM sim_idle_volumes "
           "WHERE device = ? AND id = ?")
          .bind_all(device, id)
          .run();
      if (changes() == 0) return std::nullopt;
      sql_("DELETE FROM sim_idle_volumes WHERE device = ? AND id = ?").bind_all(device, id).run();
      st = &sql_(kSelect);
      st->bind_all(device, id);
      if (!st->step()) return std::nullopt;
    }
    auto& row = *st;
    return VolumeRow{row.text(0), static_cast<std::uint64_t>(row.int64(1)), row.text(2), row.int64(3) != 0,
                     row.text(4),  row.text(5), row.text(6)};
  }
  std::optional<VolumeRow> volume(std::string_view id) { return volume(dev_, id); }

  std::vector<VolumeRow> members_of(std::string_view device, std::string_view meta) {
    auto& st = sql_(
        "SELECT id, size_mb, pool, is_meta, IFNULL(meta_parent, ''), IFNULL(image, ''), IFNULL(data_owner, '') "
        "FROM sim_volumes WHERE device = ? AND meta_parent = ? ORDER BY member_order");
    st.bind_all(device, meta);
    std::vector<VolumeRow> rows;
    while (st.step())
      rows.push_back({st.text(0), static_cast<std::uint64_t>(st.int64(1)), st.text(2), st.int64(3) != 0, st.text(4),
                      st.text(5), st.text(6)});
    return rows;
  }

  // Free MB in a pool, or nullopt when there is no such pool.
  std::optional<std::uint64_t> pool_free(std::string_view pool) {
    auto& st = sql_(
        "SELECT p.size_mb - IFNULL((SELECT u.used_mb FROM sim_pool_usage u WHERE u.device = p.device AND u.pool = "
        "p.name), 0) FROM sim_pools p WHERE p.device = ? AND p.name = ?");
    st.bind_all(dev_, pool);
    if (!st.step()) return std::nullopt;
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, st.int64(0)));
  }

  // Why `id` (or the meta it belongs to) is visible to a host, or nullopt.
  std::optional<std::string> exposure(const VolumeRow& v) {
    for (const std::string& id : {v.id, v.meta_parent}) {
      if (id.empty()) continue;
      // Formatted only for a refusal: most checks find nothing.
      auto what = [&] {
        return id == v.id ? fmt::format("volume {} on {}", id, dev_)
                          : fmt::format("volume {} on {} (member of meta {})", v.id, dev_, id);
      };
      auto& m = sql_("SELECT initiator, port, lun FROM sim_maskings WHERE device = ? AND volume = ? ORDER BY 1, 2");
      m.bind_all(dev_, id);
      if (m.step())
        return fmt::format("{} is still bound to initiator {} through port {} at LUN {}", what(), m.text(0),
                           m.text(1), m.int64(2));
      auto& g = sql_(
          "SELECT device, host, target, lun FROM sim_mappings WHERE array = ? AND volume = ? ORDER BY 1, 2");
      g.bind_all(dev_, id);
      if (g.step())
        return fmt::format("{} is still mapped to host {} at {} (target {}, LUN {})", what(), g.text(1), g.text(0),
                           g.int64(2), g.int64(3));
    }
    return std::nullopt;
  }

  // The volume and, for a meta, its members: where a volume's data lives.
  std::vector<VolumeRow> data_holders(std::string_view device, const VolumeRow& v) {
    std::vector<VolumeRow> rows{v};
    if (v.is_meta)
      for (auto& m : members_of(device, v.id)) rows.push_back(std::move(m));
    return rows;
  }
  std::vector<VolumeRow> data_holders(const VolumeRow& v) { return data_holders(dev_, v); }

  // The scrub safety net: refuses to expose or overwrite another farm's data.
  std::optional<ActionOutcome> foreign_data(const VolumeRow& v) {
    for (const auto& row : data_holders(v)) {
      if (row.data_owner.empty() || row.data_owner == a_.farm) continue;
      auto what = row.id == v.id ? fmt::format("volume {} on {}", v.id, dev_)
                                 : fmt::format("volume {} on {} (member {})", v.id, dev_, row.id);
      return ActionOutcome::permanent(
          fmt::format("{} holds farm {}'s data and was never scrubbed", what, row.data_owner));
    }
    return std::nullopt;
  }

  // ---- writes ---------------------------------------------------------------

  // A row already so is not written again (a bind after the copy, a map
  // after the bind): the same store, fewer pages for the commit to write.
  void set_data(const VolumeRow& v, const std::optional<std::string>& image, bool set_owner) {
    for (const auto& row : data_holders(v)) {
      if (image && row.id == v.id && (row.image != *image || image->empty())) {  // '' stands for NULL too
        auto& st = sql_("UPDATE sim_volumes SET image = ? WHERE device = ? AND id = ?");
        st.bind_all(*image, dev_, row.id).run();
      }
      if (set_owner && !a_.farm.empty() && row.data_owner != a_.farm) {
        auto& st = sql_("UPDATE sim_volumes SET data_owner = ? WHERE device = ? AND id = ?");
        st.bind_all(a_.farm, dev_, row.id).run();
      }
    }
  }

  // ---- checks shared by several operations -----------------------------------

  std::optional<ActionOutcome> check_kind(DeviceKind kind) {
    bool fits = false;
    const char* where = "an array";
    switch (a_.op) {
      case Op::map:
      case Op::unmap:
        fits = kind == DeviceKind::gateway || kind == DeviceKind::array;
        where = "a gateway or an array";
        break;
      case Op::zone:
      case Op::unzone:
      case Op::vport:
        fits = kind == DeviceKind::fabric;
        where = "a fabric";
        break;
      default: fits = kind == DeviceKind::array;
    }
    if (fits) return std::nullopt;
    return ActionOutcome::permanent(fmt::format("{} runs on {}; {} is {} {}", to_string(a_.op), where, dev_,
                                                kind == DeviceKind::array ? "an" : "a", to_string(kind)));
  }

  std::optional<ActionOutcome> need(bool present, std::string_view what) {
    if (present) return std::nullopt;
    return ActionOutcome::permanent(fmt::format("{} on {} names no {}", to_string(a_.op), dev_, what));
  }

  ActionOutcome no_volume(std::string_view id) {
    return ActionOutcome::permanent(fmt::format("{}: sim array {} has no volume {}", to_string(a_.op), dev_, id));
  }

  std::optional<ActionOutcome> refuse_member(const VolumeRow& v) {
    if (v.meta_parent.empty()) return std::nullopt;
    return ActionOutcome::permanent(fmt::format("{}: volume {} on {} is a member of meta {}; {} the meta instead",
                                                to_string(a_.op), v.id, dev_, v.meta_parent, to_string(a_.op)));
  }

  // ---- the operations ---------------------------------------------------------

  ActionOutcome allocate() {
    if (auto e = need(!a_.volume.empty(), "volume")) return *e;
    auto v = volume(a_.volume);
    if (a_.pool.empty()) {
      if (!v)
        return ActionOutcome::permanent(fmt::format(
            "sim array {} has no pre-carved volume {} (and the allocate names no pool to carve it from)", dev_,
            a_.volume));
      if (v->is_meta)
        return ActionOutcome::permanent(
            fmt::format("volume {} on {} is a meta-volume, not a pre-carved volume", a_.volume, dev_));
      if (a_.size_mb > v->size_mb)
        return ActionOutcome::permanent(fmt::format("{} volume {} on {} has {} MB, {} MB asked",
                                                    v->pool.empty() ? "pre-carved" : "pool slice", a_.volume, dev_,
                                                    v->size_mb, a_.size_mb));
      return ok_because(fmt::format("volume {} on {} exists", a_.volume, dev_));
    }
    auto free = pool_free(a_.pool);
    if (!free) return ActionOutcome::permanent(fmt::format("sim array {} has no pool {}", dev_, a_.pool));
    if (v) {
      if (v->pool == a_.pool && v->size_mb == a_.size_mb)
        return ok_because(fmt::format("volume {} on {} exists in pool {}", a_.volume, dev_, a_.pool));
      if (v->pool == a_.pool)
        return ActionOutcome::permanent(fmt::format("volume {} on {} already exists in pool {} with {} MB, {} MB asked",
                                                    a_.volume, dev_, a_.pool, v->size_mb, a_.size_mb));
      auto what = v->is_meta ? std::string("a meta-volume")
                             : v->pool.empty() ? std::string("pre-carved") : "a slice of pool " + v->pool;
      return ActionOutcome::permanent(fmt::format("volume {} on {} already exists ({}), not as a slice of pool {}",
                                                  a_.volume, dev_, what, a_.pool));
    }
    if (a_.size_mb == 0)
      return ActionOutcome::permanent(
          fmt::format("allocate of volume {} on {} from pool {} names no size", a_.volume, dev_, a_.pool));
    if (*free < a_.size_mb)
      return ActionOutcome::permanent(
          fmt::format("pool {} on {} has {} MB free, {} MB asked", a_.pool, dev_, *free, a_.size_mb));
    sql_("INSERT INTO sim_volumes(device, id, size_mb, pool) VALUES (?, ?, ?, ?)")
        .bind_all(dev_, a_.volume, a_.size_mb, a_.pool)
        .run();
    return ActionOutcome::success();
  }

  // Two kinds of meta: a new virtual volume `volume` made of `members`, or,
  // Symmetrix-style, a head volume that keeps its id and gains members
  // (members[0] == volume) -- which is how a bound volume grows in place.
  ActionOutcome meta() {
    if (auto e = need(!a_.volume.empty(), "volume")) return *e;
    if (auto e = need(!a_.members.empty(), "members")) return *e;
    bool head_style = a_.members.front() == a_.volume;
    for (std::size_t i = 0; i < a_.members.size(); ++i) {
      if (a_.members[i] == a_.volume && !(head_style && i == 0))
        return ActionOutcome::permanent(
            fmt::format("meta {} on {} cannot be one of its own members", a_.volume, dev_));
      if (std::find(a_.members.begin(), a_.members.begin() + i, a_.members[i]) != a_.members.begin() + i)
        return ActionOutcome::permanent(
            fmt::format("meta {} on {} names member {} twice", a_.volume, dev_, a_.members[i]));
    }
    auto v = volume(a_.volume);
    if (head_style && !v)
      return ActionOutcome::permanent(fmt::format("meta {} on {}: sim array {} has no volume {}", a_.volume, dev_,
                                                  dev_, a_.volume));
    if (head_style && !v->meta_parent.empty())
      return ActionOutcome::permanent(fmt::format("meta {} on {}: volume {} is already a member of meta {}",
                                                  a_.volume, dev_, a_.volume, v->meta_parent));
    std::size_t start = head_style ? 1 : 0;
    bool existed = v && v->is_meta;
    if (v && !v->is_meta && !head_style)
      return ActionOutcome::permanent(fmt::format("volume {} on {} exists and is not a meta-volume", a_.volume, dev_));
    if (existed) {
      std::vector<std::string> current;
      if (head_style) current.push_back(a_.volume);
      for (const auto& m : members_of(dev_, a_.volume)) current.push_back(m.id);
      if (current == a_.members) return ok_because(fmt::format("meta {} on {} exists", a_.volume, dev_));
      bool prefix = current.size() < a_.members.size() &&
                    std::equal(current.begin(), current.end(), a_.members.begin());
      if (!prefix)
        return ActionOutcome::permanent(fmt::format(
            "meta {} on {} has members {}; asked for {} (a meta only grows by adding members at its end)", a_.volume,
            dev_, fmt::join(current, ", "), fmt::join(a_.members, ", ")));
      start = current.size();
    }
    for (std::size_t i = start; i < a_.members.size(); ++i) {
      const auto& id = a_.members[i];
      auto m = volume(id);
      if (!m)
        return ActionOutcome::permanent(fmt::format("meta {} on {}: sim array {} has no volume {}", a_.volume, dev_,
                                                    dev_, id));
      if (m->is_meta)
        return ActionOutcome::permanent(
            fmt::format("meta {} on {}: volume {} is itself a meta-volume", a_.volume, dev_, id));
      if (!m->meta_parent.empty())
        return ActionOutcome::permanent(fmt::format("meta {} on {}: volume {} is already a member of meta {}",
                                                    a_.volume, dev_, id, m->meta_parent));
      if (auto why = exposure(*m)) return ActionOutcome::permanent(fmt::format("meta {}: {}", a_.volume, *why));
    }
    if (!v) sql_("INSERT INTO sim_volumes(device, id, is_meta) VALUES (?, ?, 1)").bind_all(dev_, a_.volume).run();
    if (head_style) sql_("UPDATE sim_volumes SET is_meta = 1 WHERE device = ? AND id = ?").bind_all(dev_, a_.volume).run();
    for (std::size_t i = start; i < a_.members.size(); ++i)
      sql_("UPDATE sim_volumes SET meta_parent = ?, member_order = ? WHERE device = ? AND id = ?")
          .bind_all(a_.volume, static_cast<std::int64_t>(i), dev_, a_.members[i])
          .run();
    return existed ? ok_because(fmt::format("meta {} on {} grew from {} to {} members", a_.volume, dev_, start,
                                            a_.members.size()))
                   : ActionOutcome::success();
  }

  ActionOutcome break_meta() {
    if (auto e = need(!a_.volume.empty(), "volume")) return *e;
    auto v = volume(a_.volume);
    if (!v) return ok_because(fmt::format("no meta {} on {}; nothing to break", a_.volume, dev_));
    if (!v->is_meta)
      return ActionOutcome::permanent(fmt::format("volume {} on {} is not a meta-volume", a_.volume, dev_));
    if (auto why = exposure(*v)) return ActionOutcome::permanent(*why);
    // The data stays on the members until they are scrubbed.
    if (!v->data_owner.empty())
      sql_("UPDATE sim_volumes SET data_owner = ? WHERE device = ? AND meta_parent = ? AND data_owner IS NULL")
          .bind_all(v->data_owner, dev_, a_.volume)
          .run();
    sql_("UPDATE sim_volumes SET meta_parent = NULL, member_order = NULL WHERE device = ? AND meta_parent = ?")
        .bind_all(dev_, a_.volume)
        .run();
    if (v->size_mb > 0)  // a head-style meta: the head stays, a plain volume again
      sql_("UPDATE sim_volumes SET is_meta = 0 WHERE device = ? AND id = ?").bind_all(dev_, a_.volume).run();
    else
      sql_("DELETE FROM sim_volumes WHERE device = ? AND id = ?").bind_all(dev_, a_.volume).run();
    return ActionOutcome::success();
  }

  ActionOutcome grow() {
    if (auto e = need(!a_.volume.empty(), "volume")) return *e;
    auto v = volume(a_.volume);
    if (!v) return no_volume(a_.volume);
    if (v->is_meta)
      return ActionOutcome::permanent(
          fmt::format("volume {} on {} is a meta-volume; grow it by adding members (meta)", a_.volume, dev_));
    if (a_.size_mb == v->size_mb) return ok_because(fmt::format("volume {} on {} has {} MB", a_.volume, dev_, v->size_mb));
    if (a_.size_mb < v->size_mb)
      return ActionOutcome::permanent(fmt::format("volume {} on {} has {} MB; it cannot shrink to {} MB", a_.volume,
                                                  dev_, v->size_mb, a_.size_mb));
    if (v->pool.empty())
      return ActionOutcome::permanent(fmt::format("pre-carved volume {} on {} has a fixed size of {} MB, {} MB asked",
                                                  a_.volume, dev_, v->size_mb, a_.size_mb));
    auto free = pool_free(v->pool).value_or(0);
    auto more = a_.size_mb - v->size_mb;
    if (free < more)
      return ActionOutcome::permanent(fmt::format("pool {} on {} has {} MB free, {} MB asked (to grow volume {} to {} MB)",
                                                  v->pool, dev_, free, more, a_.volume, a_.size_mb));
    sql_("UPDATE sim_volumes SET size_mb = ? WHERE device = ? AND id = ?").bind_all(a_.size_mb, dev_, a_.volume).run();
    return ActionOutcome::success();
  }

  ActionOutcome copy() {
    if (auto e = need(!a_.volume.empty(), "volume")) return *e;
    if (auto e = need(!a_.image.empty(), "image")) return *e;
    auto v = volume(a_.volume);
    if (!v) return no_volume(a_.volume);
    if (auto e = refuse_member(*v)) return *e;
    if (auto e = foreign_data(*v)) return *e;
    set_data(*v, a_.image, true);
    return ActionOutcome::success();
  }

  ActionOutcome bind() {
    if (auto e = need(!a_.volume.empty(), "volume")) return *e;
    if (auto e = need(!a_.initiator.empty(), "initiator")) return *e;
    if (auto e = need(!a_.port.empty(), "port")) return *e;
    if (auto e = need(a_.lun >= 0, "LUN")) return *e;
    auto v = volume(a_.volume);
    if (!v) return no_volume(a_.volume);
    if (auto e = refuse_member(*v)) return *e;
    auto& same = sql_("SELECT lun FROM sim_maskings WHERE device = ? AND volume = ? AND initiator = ? AND port = ?");
    same.bind_all(dev_, a_.volume, a_.initiator, a_.port);
    if (same.step()) {
      auto lun = same.int64(0);
      if (lun == a_.lun)
        return ok_because(fmt::format("volume {} on {} is masked to {} through {} at LUN {}", a_.volume, dev_,
                                      a_.initiator, a_.port, lun));
      return ActionOutcome::permanent(fmt::format("volume {} on {} is already masked to {} through {} at LUN {}, not {}",
                                                  a_.volume, dev_, a_.initiator, a_.port, lun, a_.lun));
    }
    auto& taken = sql_("SELECT volume FROM sim_maskings WHERE device = ? AND initiator = ? AND port = ? AND lun = ?");
    taken.bind_all(dev_, a_.initiator, a_.port, a_.lun);
    if (taken.step())
      return ActionOutcome::permanent(fmt::format("LUN {} of initiator {} through port {} on {} is taken by volume {}",
                                                  a_.lun, a_.initiator, a_.port, dev_, taken.text(0)));
    if (auto e = foreign_data(*v)) return *e;
    sql_("INSERT INTO sim_maskings(device, volume, initiator, port, lun) VALUES (?, ?, ?, ?, ?)")
        .bind_all(dev_, a_.volume, a_.initiator, a_.port, a_.lun)
        .run();
    set_data(*v, std::nullopt, true);
    return ActionOutcome::success();
  }

  ActionOutcome unbind() {
    if (auto e = need(!a_.volume.empty(), "volume")) return *e;
    if (auto e = need(!a_.initiator.empty(), "initiator")) return *e;
    if (auto e = need(!a_.port.empty(), "port")) return *e;
    sql_("DELETE FROM sim_maskings WHERE device = ? AND volume = ? AND initiator = ? AND port = ?")
        .bind_all(dev_, a_.volume, a_.initiator, a_.port)
        .run();
    if (changes() == 0)
      return ok_because(fmt::format("volume {} on {} was not masked to {} through {}", a_.volume, dev_, a_.initiator,
                                    a_.port));
    return ActionOutcome::success();
  }

  // The array a map/unmap names: on an array, itself.
  std::string mapped_array() { return a_.array.empty() ? dev_ : a_.array; }

  ActionOutcome map() {
    if (auto e = need(!a_.volume.empty(), "volume")) return *e;
    if (auto e = need(!a_.host.empty(), "host")) return *e;
    if (auto e = need(a_.lun >= 0, "LUN")) return *e;
    auto kind = device_kind(dev_);
    if (kind == DeviceKind::gateway && a_.array.empty()) return *need(false, "array");
    const auto array = mapped_array();
    if (kind == DeviceKind::array && array != dev_)
      return ActionOutcome::permanent(
          fmt::format("map on array {} names array {}; an array maps its own volumes", dev_, array));
    if (device_kind(array) != DeviceKind::array)
      return ActionOutcome::permanent(fmt::format("map on {}: there is no sim array {}", dev_, array));
    auto v = volume(array, a_.volume);
    if (!v)
      return ActionOutcome::permanent(fmt::format("map on {}: sim array {} has no volume {}", dev_, array, a_.volume));
    if (!v->meta_parent.empty())
      return ActionOutcome::permanent(fmt::format("map on {}: volume {} on {} is a member of meta {}; map the meta",
                                                  dev_, a_.volume, array, v->meta_parent));
    auto& same = sql_("SELECT target, lun FROM sim_mappings WHERE device = ? AND host = ? AND array = ? AND volume = ?");
    same.bind_all(dev_, a_.host, array, a_.volume);
    if (same.step()) {
      auto target = same.int64(0), lun = same.int64(1);
      if (target == a_.target && lun == a_.lun)
        return ok_because(fmt::format("volume {} of {} is mapped to host {} on {} at target {}, LUN {}", a_.volume,
                                      array, a_.host, dev_, target, lun));
      return ActionOutcome::permanent(fmt::format(
          "volume {} of {} is already mapped to host {} on {} at target {}, LUN {} (asked: target {}, LUN {})",
          a_.volume, array, a_.host, dev_, target, lun, a_.target, a_.lun));
    }
    auto& taken = sql_("SELECT array, volume FROM sim_mappings WHERE device = ? AND host = ? AND target = ? AND lun = ?");
    taken.bind_all(dev_, a_.host, a_.target, a_.lun);
    if (taken.step())
      return ActionOutcome::permanent(fmt::format("target {}, LUN {} of host {} on {} is taken by volume {} of {}",
                                                  a_.target, a_.lun, a_.host, dev_, taken.text(1), taken.text(0)));
    // The safety net, as for bind: the owner check runs against the array's volume.
    for (const auto& row : data_holders(array, *v)) {
      if (row.data_owner.empty() || row.data_owner == a_.farm) continue;
      return ActionOutcome::permanent(fmt::format("volume {} on {} holds farm {}'s data and was never scrubbed",
                                                  a_.volume, array, row.data_owner));
    }
    sql_("INSERT INTO sim_mappings(device, host, array, volume, target, lun) VALUES (?, ?, ?, ?, ?, ?)")
        .bind_all(dev_, a_.host, array, a_.volume, a_.target, a_.lun)
        .run();
    if (!a_.farm.empty())
      for (const auto& row : data_holders(array, *v))
        if (row.data_owner != a_.farm)
          sql_("UPDATE sim_volumes SET data_owner = ? WHERE device = ? AND id = ?")
              .bind_all(a_.farm, array, row.id)
              .run();
    return ActionOutcome::success();
  }

  ActionOutcome unmap() {
    if (auto e = need(!a_.volume.empty(), "volume")) return *e;
    if (auto e = need(!a_.host.empty(), "host")) return *e;
    const auto array = mapped_array();
    sql_("DELETE FROM sim_mappings WHERE device = ? AND host = ? AND array = ? AND volume = ?")
        .bind_all(dev_, a_.host, array, a_.volume)
        .run();
    if (changes() == 0)
      return ok_because(fmt::format("volume {} of {} was not mapped to host {} on {}", a_.volume, array, a_.host, dev_));
    return ActionOutcome::success();
  }

  ActionOutcome zone() {
    if (auto e = need(!a_.initiator.empty(), "initiator")) return *e;
    if (auto e = need(!a_.port.empty(), "port")) return *e;
    sql_("INSERT OR IGNORE INTO sim_zones(fabric, initiator, port) VALUES (?, ?, ?)")
        .bind_all(dev_, a_.initiator, a_.port)
        .run();
    if (changes() == 0)
      return ok_because(fmt::format("{} and {} are zoned on {}", a_.initiator, a_.port, dev_));
    return ActionOutcome::success();
  }

  ActionOutcome unzone() {
    if (auto e = need(!a_.initiator.empty(), "initiator")) return *e;
    if (auto e = need(!a_.port.empty(), "port")) return *e;
    sql_("DELETE FROM sim_zones WHERE fabric = ? AND initiator = ? AND port = ?")
        .bind_all(dev_, a_.initiator, a_.port)
        .run();
    if (changes() == 0)
      return ok_because(fmt::format("{} and {} were not zoned on {}", a_.initiator, a_.port, dev_));
    return ActionOutcome::success();
  }

  // NPIV: the fabric logs virtual port `initiator` in at `host` (moving it
  // off any host that carried it), or, with no host, logs it out. A masking
  // to a virtual WWPN is visible to the host that carries it.
  ActionOutcome vport() {
    if (auto e = need(!a_.initiator.empty(), "initiator")) return *e;
    auto& at = sql_("SELECT host FROM sim_vports WHERE fabric = ? AND wwpn = ?");
    at.bind_all(dev_, a_.initiator);
    std::optional<std::string> current = at.step() ? std::optional(at.text(0)) : std::nullopt;
    at.reset();
    if (a_.host.empty()) {
      if (!current) return ok_because(fmt::format("virtual port {} is logged in nowhere on {}", a_.initiator, dev_));
      sql_("DELETE FROM sim_vports WHERE fabric = ? AND wwpn = ?").bind_all(dev_, a_.initiator).run();
      return ActionOutcome::success();
    }
    if (current == a_.host)
      return ok_because(fmt::format("virtual port {} is on host {} on {}", a_.initiator, a_.host, dev_));
    sql_("INSERT INTO sim_vports(fabric, wwpn, host) VALUES (?, ?, ?) ON CONFLICT (fabric, wwpn) DO UPDATE SET host = "
         "excluded.host")
        .bind_all(dev_, a_.initiator, a_.host)
        .run();
    return ActionOutcome::success();
  }

  ActionOutcome scrub() {
    if (auto e = need(!a_.volume.empty(), "volume")) return *e;
    auto v = volume(a_.volume);
    if (!v) return ok_because(fmt::format("no volume {} on {}; nothing to scrub", a_.volume, dev_));
    // Zeroing a disk a host can see destroys a live farm's data: unbind first.
    if (auto why = exposure(*v)) return ActionOutcome::permanent(*why + "; unbind it before scrubbing");
    for (const auto& row : data_holders(*v))
      sql_("UPDATE sim_volumes SET image = NULL, data_owner = NULL WHERE device = ? AND id = ?")
          .bind_all(dev_, row.id)
          .run();
    return ActionOutcome::success();
  }

  ActionOutcome deallocate() {
    if (auto e = need(!a_.volume.empty(), "volume")) return *e;
    auto v = volume(a_.volume);
    if (!v) return ok_because(fmt::format("no volume {} on {}; nothing to deallocate", a_.volume, dev_));
    if (v->is_meta)
      return ActionOutcome::permanent(
          fmt::format("volume {} on {} is a meta-volume; break it before deallocating", a_.volume, dev_));
    if (!v->meta_parent.empty())
      return ActionOutcome::permanent(
          fmt::format("volume {} on {} is still a member of meta {}", a_.volume, dev_, v->meta_parent));
    if (auto why = exposure(*v)) return ActionOutcome::permanent(*why);
    // A pre-carved volume stays on the array, data and all: only scrub clears it.
    if (v->pool.empty()) return ok_because(fmt::format("pre-carved volume {} on {} stays on the array", a_.volume, dev_));
    sql_("DELETE FROM sim_volumes WHERE device = ? AND id = ?").bind_all(dev_, a_.volume).run();
    return ActionOutcome::success();
  }

  // What a volume holds, in the sim's terms: the image last copied onto it.
  // A meta's data lives on its members too, but the sim records it on the head.
  std::uint64_t capacity(const VolumeRow& v) {
    std::uint64_t total = v.size_mb;
    if (v.is_meta)
      for (const auto& m : members_of(dev_, v.id)) total += m.size_mb;
    return total;
  }

  std::optional<std::string> mapping_of(const VolumeRow& v) {
    for (const std::string& id : {v.id, v.meta_parent}) {
      if (id.empty()) continue;
      auto& g = sql_("SELECT device, host FROM sim_mappings WHERE array = ? AND volume = ? ORDER BY 1, 2");
      g.bind_all(dev_, id);
      if (g.step())
        return fmt::format("volume {} on {} is still mapped to host {} at {}", v.id, dev_, g.text(1), g.text(0));
    }
    return std::nullopt;
  }

  // A point-in-time copy of `source` into backup `volume`, carved from `pool`
  // when it is not there yet. Taking it again rewrites the copy (a re-run
  // after a crash copies the source as it is now).
  ActionOutcome snap() {
    if (auto e = need(!a_.volume.empty(), "volume")) return *e;
    if (auto e = need(!a_.source.empty(), "source")) return *e;
    if (a_.source == a_.volume)
      return ActionOutcome::permanent(fmt::format("snap of {} on {} into itself", a_.volume, dev_));
    auto src = volume(a_.source);
    if (!src) return no_volume(a_.source);
    if (auto e = refuse_member(*src)) return *e;
    std::uint64_t needed = capacity(*src);
    auto dst = volume(a_.volume);
    if (dst) {
      if (dst->is_meta || !dst->meta_parent.empty())
        return ActionOutcome::permanent(
            fmt::format("snap: backup volume {} on {} is a meta-volume or a member of one", a_.volume, dev_));
      if (dst->size_mb < needed)
        return ActionOutcome::permanent(fmt::format("snap: backup volume {} on {} has {} MB, {} holds {} MB",
                                                    a_.volume, dev_, dst->size_mb, a_.source, needed));
      if (auto why = exposure(*dst)) return ActionOutcome::permanent("snap: " + *why);
      if (auto e = foreign_data(*dst)) return *e;
    } else {
      if (a_.pool.empty())
        return ActionOutcome::permanent(fmt::format(
            "snap: sim array {} has no volume {} (and the snap names no pool to carve it from)", dev_, a_.volume));
      auto free = pool_free(a_.pool);
      if (!free) return ActionOutcome::permanent(fmt::format("sim array {} has no pool {}", dev_, a_.pool));
      std::uint64_t size = std::max(a_.size_mb, needed);
      if (*free < size)
        return ActionOutcome::permanent(
            fmt::format("pool {} on {} has {} MB free, {} MB asked for a copy of {}", a_.pool, dev_, *free, size,
                        a_.source));
      sql_("INSERT INTO sim_volumes(device, id, size_mb, pool) VALUES (?, ?, ?, ?)")
          .bind_all(dev_, a_.volume, size, a_.pool)
          .run();
    }
    std::string owner = src->data_owner.empty() ? a_.farm : src->data_owner;
    sql_("UPDATE sim_volumes SET image = NULLIF(?, ''), data_owner = NULLIF(?, '') WHERE device = ? AND id = ?")
        .bind_all(src->image, owner, dev_, a_.volume)
        .run();
    return ActionOutcome::success();
  }

  // `volume` becomes what backup `source` holds. Its hosts must not see it
  // change under them: refused while it is mapped (the masking may stay).
  ActionOutcome restore() {
    if (auto e = need(!a_.volume.empty(), "volume")) return *e;
    if (auto e = need(!a_.source.empty(), "source")) return *e;
    auto dst = volume(a_.volume);
    if (!dst) return no_volume(a_.volume);
    if (auto e = refuse_member(*dst)) return *e;
    auto src = volume(a_.source);
    if (!src) return no_volume(a_.source);
    if (!src->data_owner.empty() && !a_.farm.empty() && src->data_owner != a_.farm)
      return ActionOutcome::permanent(fmt::format("restore: backup {} on {} holds farm {}'s data", a_.source, dev_,
                                                  src->data_owner));
    if (auto why = mapping_of(*dst)) return ActionOutcome::permanent("restore: " + *why + "; unmap it first");
    if (auto e = foreign_data(*dst)) return *e;
    sql_("UPDATE sim_volumes SET image = NULLIF(?, '') WHERE device = ? AND id = ?")
        .bind_all(src->image, dev_, a_.volume)
        .run();
    set_data(*dst, std::nullopt, true);
    return ActionOutcome::success();
  }

  int changes() {
    auto& st = sql_("SELECT changes()");
    st.step();
    return st.int32(0);
  }

  const SimSql& sql_;
  const DeviceAction& a_;
  const std::string dev_;
  std::vector<std::pair<std::string, std::optional<DeviceKind>>> kinds_;  // device_kind, for this action
};


}  // namespace

ActionOutcome apply_sim_action(const SimSql& sql, const DeviceAction& action) {
  return DeviceModel(sql, action).run();
}

}  // namespace farmctl::runtime
