#include "reconciler/recorder.h"

#include <algorithm>
#include <stdexcept>

namespace farmctl::reconcile {
namespace {

using runtime::VolumeRow;
using runtime::VolumeState;

class Recorder {
 public:
  Recorder(runtime::Inventory& inv, RowId farm_id, const std::string& farm, const Action& action,
           PendingBindings& pending)
      : inv_(inv), farm_id_(farm_id), farm_(farm), a_(action), e_(action.effect), d_(action.device_action),
        pending_(pending) {}

  void run() {
    // These touch no binding but their own unit's (flushed by unit in bind
    // and map); every other action may read or write any.
    if (a_.op != Op::allocate && a_.op != Op::copy && a_.op != Op::bind && a_.op != Op::map && a_.op != Op::zone)
      pending_.flush();
    switch (a_.op) {
      case Op::allocate: allocate(); break;
      case Op::meta: meta(); break;
      case Op::grow: grow(); break;
      case Op::copy: copy(); break;
      case Op::bind: bind(); break;
      case Op::map: map(); break;
      case Op::unmap: unmap(); break;
      case Op::unbind: unbind(); break;
      case Op::zone: zone(); break;
      case Op::unzone: unzone(); break;
      case Op::scrub: scrub(); break;
      case Op::break_meta: break_meta(); break;
      case Op::deallocate: deallocate(); break;
      case Op::snap: snap(); break;
      case Op::restore: restore(); break;
      case Op::vport: vport(); break;
    }
  }

 private:
  // The array holding the unit: a map or unmap at a gateway names it apart.
  const std::string& unit_array() const {
    return d_.op == Op::map || d_.op == Op::unmap ? (d_.array.empty() ? d_.device : d_.array) : d_.device;
  }

  // The unit an action concerns: by row when the plan knew it, else by the
  // array and the device's volume id (a slice carved by this apply).
  std::optional<VolumeRow> unit() {
    if (e_.volume_row != 0) return inv_.volume(e_.volume_row);
    auto device_id = inv_.device_id(unit_array());
    if (!device_id) return std::nullopt;
    return inv_.volume_by_device_id(*device_id, d_.volume);
  }

  // The same unit's id only, for the actions that write a few columns of it
  // and read none (allocate, copy, bind, map). The plan's row is not looked
  // up: the write says whether it is there (no_unit() if not).
  std::optional<RowId> unit_id() {
    if (e_.volume_row != 0) return e_.volume_row;
    auto device_id = inv_.device_id(unit_array());
    if (!device_id) return std::nullopt;
    return inv_.volume_id(*device_id, d_.volume);
  }

  [[noreturn]] void no_unit() const {
    throw std::runtime_error("the inventory has no volume " + d_.device + ":" + d_.volume + " for action " +
                             std::to_string(a_.id));
  }

  RowId must_unit_id() {
    auto id = unit_id();
    if (!id) no_unit();
    return *id;
  }

  // snap, restore: the volume the data comes from, on the same array.
  std::optional<VolumeRow> source_volume() {
    auto device_id = inv_.device_id(d_.device);
    if (!device_id) return std::nullopt;
    return inv_.volume_by_device_id(*device_id, d_.source);
  }

  VolumeRow must_unit() {
    auto v = unit();
    if (!v) no_unit();
    return *v;
  }

  // The steady state of a unit from its exports: all mapped, some bound, none.
  static VolumeState export_state(const runtime::Inventory::ExportSummary& exports) {
    if (!exports.any) return VolumeState::Configured;
    return exports.any_unmapped ? VolumeState::Bound : VolumeState::Mapped;
  }

  void allocate() {
    const VolumeState state = e_.state_after.value_or(VolumeState::Allocated);
    std::optional<RowId> id = unit_id();
    // A slice not carved before (a plan's row, if it names one, must be there).
    if (e_.slice && (!id || (e_.volume_row != 0 && !inv_.volume(*id)))) {
      VolumeRow slice = *e_.slice;
      slice.farm_id = farm_id_;
      slice.state = state;
      inv_.insert_slice(slice);
      return;
    }
    if (!id || !inv_.claim_volume(*id, farm_id_, e_.plan_volume, state)) no_unit();
  }

  void meta() {
    if (e_.members.empty()) return;
    auto head = inv_.volume(e_.members.front());
    if (!head) throw std::runtime_error("meta head vanished from the inventory");
    if (e_.state_after) head->state = *e_.state_after;
    head->farm_id = farm_id_;
    inv_.update_volume(*head);
    for (std::size_t i = 1; i < e_.members.size(); ++i) {
      auto m = inv_.volume(e_.members[i]);
      if (!m) continue;
      m->parent_id = head->id;
      m->member_order = static_cast<int>(i);
      m->farm_id = farm_id_;
      m->state = VolumeState::Member;
      inv_.update_volume(*m);
    }
  }

  void grow() {
    VolumeRow v = must_unit();
    v.size_mb = d_.size_mb;
    inv_.update_volume(v);
  }

  void copy() {
    if (!inv_.set_volume_state(must_unit_id(), VolumeState::Configured, d_.image, farm_)) no_unit();
  }

  runtime::BindingRow binding_for(RowId volume_id) {
    runtime::BindingRow b = *e_.binding;
    b.farm_id = farm_id_;
    b.volume_id = volume_id;
    return b;
  }

  // The unit's steady state once its export `b` is written: all its exports
  // mapped, or not. Asked before the write, of the unit's other exports
  // (the write changes only b's own row), so that the unit's row is written
  // first and a missing unit is reported as such, not as a foreign key.
  VolumeState state_with(const runtime::BindingRow& b) {
    if (!b.mapped) return VolumeState::Bound;
    pending_.flush_unit(b.volume_id);
    return inv_.has_unmapped_export_besides(b.volume_id, b.host_id) ? VolumeState::Bound : VolumeState::Mapped;
  }

  void bind() {
    if (!e_.binding) {
      must_unit();
      return;
    }
    runtime::BindingRow b = binding_for(must_unit_id());
    b.bound = true;
    // dirty_farm: the host can write from now on.
    if (!inv_.set_volume_state(b.volume_id, state_with(b), farm_)) no_unit();
    pending_.add(b);
  }

  void map() {
    if (!e_.binding) {
      must_unit();
      return;
    }
    runtime::BindingRow b = binding_for(must_unit_id());
    b.bound = true;
    b.mapped = true;
    if (!inv_.set_volume_state(b.volume_id, state_with(b))) no_unit();
    inv_.upsert_binding(b);  // state_with flushed the unit's pending bindings
  }

  void unmap() {
    if (!e_.binding) return;  // a stray device mapping: nothing recorded
    auto v = unit();
    if (!v) return;
    if (auto b = inv_.binding_of(v->id, e_.binding->host_id)) {
      if (e_.drop_binding) {
        inv_.delete_binding(b->id);
      } else {
        b->mapped = false;
        inv_.upsert_binding(*b);
      }
    }
    auto exports = inv_.export_summary(v->id);
    v->state = e_.teardown && !exports.any_mapped ? VolumeState::Unmapped : export_state(exports);
    inv_.update_volume(*v);
  }

  // The array masking is per initiator: every export of the volume through
  // it (several hosts behind one gateway) goes with it.
  void unbind() {
    if (!e_.binding) return;  // a masking nobody recorded (drift): nothing to forget
    auto v = unit();
    if (!v) return;
    inv_.delete_bindings_through(v->id, d_.initiator);
    auto exports = inv_.export_summary(v->id);
    v->state = e_.teardown && !exports.any ? VolumeState::Unbound : export_state(exports);
    inv_.update_volume(*v);
  }

  void zone() {
    runtime::ZoneRow z = *e_.zone;
    z.farm_id = farm_id_;
    inv_.insert_zone(z);
  }

  void unzone() {
    if (e_.zone && e_.zone->id != 0) inv_.delete_zone(e_.zone->id);
  }

  // NPIV: where the farm's virtual port is now; a released one is no longer the farm's.
  void vport() {
    if (!e_.vport) return;
    if (e_.release_vport) {
      inv_.delete_virtual_port(e_.vport->wwpn);
      return;
    }
    runtime::VirtualPortRow v = *e_.vport;
    v.farm_id = farm_id_;
    if (d_.host.empty()) v.host_id.reset();
    inv_.upsert_virtual_port(v);
  }

  void scrub() {
    VolumeRow v = must_unit();
    v.dirty_farm.reset();
    v.image.reset();
    if (v.state != VolumeState::Unbound) v.state = VolumeState::Unbound;
    inv_.update_volume(v);
  }

  // The members keep the data they held as part of the meta (the array does
  // not move it), so they stay to be scrubbed. The unit is Unconfigured: when
  // the planner forms its meta again it copies the image again (planner.cpp,
  // grow_unit), as the head alone no longer holds it.
  void break_meta() {
    VolumeRow head = must_unit();
    for (VolumeRow m : inv_.members_of(head.id)) {
      m.parent_id.reset();
      m.member_order = 0;
      m.state = VolumeState::Unconfigured;
      if (head.dirty_farm) m.dirty_farm = head.dirty_farm;
      inv_.update_volume(m);
    }
    head.state = VolumeState::Unconfigured;
    inv_.update_volume(head);
  }

  // The copy is a unit of the farm holding the farm's data, in no plan:
  // the backups row is what says whose copy it is.
  void snap() {
    if (e_.slice && !unit()) {
      VolumeRow slice = *e_.slice;
      slice.farm_id = farm_id_;
      inv_.insert_slice(slice);
    }
    VolumeRow v = must_unit();
    v.farm_id = farm_id_;
    v.state = VolumeState::Configured;
    v.dirty_farm = farm_;
    if (auto source = source_volume()) v.image = source->image;
    inv_.update_volume(v);
    runtime::BackupStore backups(inv_);
    if (e_.backup && !backups.of_volume(v.id)) {
      runtime::BackupRow row = *e_.backup;
      row.farm_id = farm_id_;
      row.volume_id = v.id;
      backups.insert(row);
    }
  }

  void restore() {
    VolumeRow v = must_unit();
    if (auto copy = source_volume()) v.image = copy->image;
    v.dirty_farm = farm_;
    if (e_.restored) v.state = VolumeState::Configured;  // a new volume, ready to be exported
    inv_.update_volume(v);
    runtime::BackupStore backups(inv_);
    if (e_.restored && !backups.restored_of_volume(v.id)) {
      runtime::RestoredRow row = *e_.restored;
      row.farm_id = farm_id_;
      row.volume_id = v.id;
      backups.insert_restored(row);
    }
  }

  void deallocate() {
    auto v = unit();
    if (!v) return;  // already gone
    runtime::BackupStore(inv_).forget_volume(v->id);
    if (v->origin == "slice") {
      inv_.delete_volume(v->id);
      return;
    }
    v->farm_id.reset();
    v->plan_volume.reset();
    v->parent_id.reset();
    v->member_order = 0;
    v->image.reset();
    v->state = VolumeState::Free;
    inv_.update_volume(*v);
  }

  runtime::Inventory& inv_;
  RowId farm_id_;
  const std::string& farm_;
  const Action& a_;
  const Effect& e_;
  const runtime::DeviceAction& d_;
  PendingBindings& pending_;
};

}  // namespace

void PendingBindings::add(const runtime::BindingRow& row) {
  flush_unit(row.volume_id);  // at most one row per (volume, host) in a statement
  rows_.push_back(row);
  units_.insert(row.volume_id);
}

void PendingBindings::flush_unit(RowId volume_id) {
  if (units_.count(volume_id) > 0) flush();
}

void PendingBindings::flush() {
  if (rows_.empty()) return;
  inv_.insert_bindings(rows_);
  rows_.clear();
  units_.clear();
}

void record_success(runtime::Inventory& inventory, RowId farm_id, const std::string& farm, const Action& action,
                    PendingBindings& pending) {
  Recorder(inventory, farm_id, farm, action, pending).run();
}

void record_success(runtime::Inventory& inventory, RowId farm_id, const std::string& farm, const Action& action) {
  PendingBindings pending(inventory);
  record_success(inventory, farm_id, farm, action, pending);
  pending.flush();
}

}  // namespace farmctl::reconcile
