// This file's external interface is diff_plans (farm_diff.h). Servers,
// volumes and exports are matched by their Plan IR keys; the rules for what
// grows, what is replaced and what moves mirror reconciler/planner.cpp.
#include "compiler/farm_diff.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace farmctl::plan {
namespace {

std::string policy_text(const fml::BackupPolicy& b) {
  std::string text = fmt::format("level={}:{}", b.level, fml::to_string(b.schedule));
  if (b.retain != 7) text += fmt::format(";retain={}", b.retain);
  return text;
}

std::string server_count(int n) { return fmt::format("{} server{}", n, n == 1 ? "" : "s"); }

// The policies one side has and the other has not, in their order; "" when
// both hold the same policies (the order they are written in means nothing).
std::string backup_change(const std::vector<fml::BackupPolicy>& before, const std::vector<fml::BackupPolicy>& after) {
  auto only = [](const std::vector<fml::BackupPolicy>& these, const std::vector<fml::BackupPolicy>& others) {
    std::string text;
    for (const fml::BackupPolicy& b : these)
      if (std::find(others.begin(), others.end(), b) == others.end())
        text += (text.empty() ? "" : ", ") + policy_text(b);
    return text;
  };
  std::string dropped = only(before, after), added = only(after, before);
  if (dropped.empty() && added.empty()) return "";
  if (dropped.empty()) return "backup adds " + added;
  if (added.empty()) return "backup drops " + dropped;
  return fmt::format("backup {} -> {}", dropped, added);
}

// What a new volume is, in a few words: "8631 MB std, raid 0+1, image solaris".
std::string volume_spec(const Volume& v) {
  std::string text = fmt::format("{} MB {}", v.size_mb, v.cls);
  if (v.raid) text += ", raid " + *v.raid;
  if (v.image) text += ", image " + v.image->name;
  return text;
}

// Two volumes that look like the same disk under another id: on the same
// server (or both global) with the same drivename, or else alike in every
// property a disk is made with.
bool same_disk(const Volume& a, const Volume& b) {
  if (a.shared != b.shared || a.server != b.server) return false;
  if (a.drivename && b.drivename) return *a.drivename == *b.drivename;
  return a.size_mb == b.size_mb && a.cls == b.cls && a.raid == b.raid && a.image == b.image &&
         a.drivename == b.drivename;
}

struct VolumeDelta {
  std::vector<std::string> replace;  // any of these: the volume is destroyed and made again
  std::vector<std::string> update;
};

// In the planner's order of replacement reasons: class, raid, shrink, image.
VolumeDelta compare_volumes(const Volume& o, const Volume& n) {
  VolumeDelta d;
  if (o.cls != n.cls) d.replace.push_back(fmt::format("class {} -> {}", o.cls, n.cls));
  if (n.raid && o.raid != n.raid) d.replace.push_back(fmt::format("raid {} -> {}", o.raid.value_or("none"), *n.raid));
  if (!n.raid && o.raid)
    d.update.push_back(fmt::format("raid {} -> unspecified (the disk keeps raid {})", *o.raid, *o.raid));
  if (n.size_mb < o.size_mb)
    d.replace.push_back(fmt::format("size {} MB -> {} MB (a disk cannot shrink)", o.size_mb, n.size_mb));
  if (n.size_mb > o.size_mb)
    d.update.push_back(fmt::format("size {} MB -> {} MB (grows in place)", o.size_mb, n.size_mb));
  if (o.image && n.image) {
    if (o.image->name != n.image->name)
      d.replace.push_back(fmt::format("image {} -> {}", o.image->name, n.image->name));
    else if (o.image->type != n.image->type)
      d.update.push_back(fmt::format("image {}: type {} -> {}", n.image->name, o.image->type, n.image->type));
  } else if (n.image) {
    d.update.push_back(
        fmt::format("image none -> {} (not copied onto the existing disk; only a new disk gets it)", n.image->name));
  } else if (o.image) {
    d.update.push_back(fmt::format("image {} -> none (the disk keeps its data)", o.image->name));
  }
  std::string backup = backup_change(o.backup, n.backup);
  if (!backup.empty()) d.update.push_back(backup);
  if (o.drivename != n.drivename)
    d.update.push_back(
        fmt::format("drivename {} -> {}", o.drivename.value_or("none"), n.drivename.value_or("none")));
  std::set<std::string> names;
  for (const auto& [name, value] : o.attributes) names.insert(name);
  for (const auto& [name, value] : n.attributes) names.insert(name);
  for (const std::string& name : names) {
    auto was = o.attributes.find(name);
    auto now = n.attributes.find(name);
    std::string before = was == o.attributes.end() ? "none" : was->second;
    std::string after = now == n.attributes.end() ? "none" : now->second;
    if (before != after) d.update.push_back(fmt::format("attribute {}: {} -> {}", name, before, after));
  }
  return d;
}

using ExportKey = std::tuple<std::string, std::string, int>;  // volume, server, target
ExportKey key_of(const Export& e) { return {e.volume, e.server, e.target}; }

class Differ {
 public:
  Differ(const Plan& o, const Plan& n) : old_(o), new_(n) {
    for (const Server& s : o.servers) {
      old_servers_[s.name] = &s;
      ++old_tier_size_[s.tier];
    }
    for (const Server& s : n.servers) {
      new_servers_[s.name] = &s;
      ++new_tier_size_[s.tier];
    }
    for (const Volume& v : o.volumes) old_volumes_[v.id] = &v;
    for (const Volume& v : n.volumes) new_volumes_[v.id] = &v;
    // Group order: the farm, global disks, NEW's servers, then servers only OLD has.
    int rank = 2;
    for (const Server& s : n.servers) group_rank_.emplace(s.name, rank++);
    for (const Server& s : o.servers) group_rank_.emplace(s.name, rank++);
  }

  FarmDiff run() {
    FarmDiff out;
    out.old_farm = old_.farm;
    out.new_farm = new_.farm;
    diff_farm();
    pair_renamed_tiers();
    diff_servers();
    pair_moved_volumes();
    diff_volumes();
    diff_exports();
    std::sort(changes_.begin(), changes_.end(), [](const Ranked& a, const Ranked& b) {
      return std::tie(a.section, a.group, a.what, a.seq) < std::tie(b.section, b.group, b.what, b.seq);
    });
    for (Ranked& r : changes_) out.changes.push_back(std::move(r.change));
    return out;
  }

 private:
  struct Ranked {
    DiffChange change;
    int section = 0, group = 0, what = 0, seq = 0;
  };

  void add(DiffChange c) {
    Ranked r;
    r.section = c.destructive ? 0 : 1;
    auto server_rank = group_rank_.find(c.server);
    r.group = c.what == DiffSubject::farm ? 0
              : c.server.empty()          ? 1
              : server_rank != group_rank_.end() ? server_rank->second
                                                 : static_cast<int>(group_rank_.size()) + 2;
    r.what = static_cast<int>(c.what);
    r.seq = static_cast<int>(changes_.size());
    r.change = std::move(c);
    changes_.push_back(std::move(r));
  }

  void diff_farm() {
    if (old_.farm == new_.farm) return;
    DiffChange c;
    c.kind = DiffKind::update;
    c.what = DiffSubject::farm;
    c.id = old_.farm;
    c.reasons.push_back(fmt::format("name {} -> {}", old_.farm, new_.farm));
    c.reasons.push_back(fmt::format(
        "farmctl sees another farm: planning NEW makes all of {} anew and leaves {}'s storage as it is", new_.farm,
        old_.farm));
    add(std::move(c));
  }

  // A tier only OLD has and one only NEW has, with as many servers of the
  // same hardware class: most likely a rename. Said as a hint; the diff
  // stays a remove plus an add, which is what the reconciler does.
  void pair_renamed_tiers() {
    std::vector<const Server*> gone, added;  // first server of each such tier
    std::set<std::string> seen;
    for (const Server& s : old_.servers)
      if (!new_tier_size_.count(s.tier) && seen.insert("o" + s.tier).second) gone.push_back(&s);
    for (const Server& s : new_.servers)
      if (!old_tier_size_.count(s.tier) && seen.insert("n" + s.tier).second) added.push_back(&s);
    std::set<std::string> taken;
    for (const Server* g : gone)
      for (const Server* a : added)
        if (!taken.count(a->tier) && a->hw == g->hw && old_tier_size_[g->tier] == new_tier_size_[a->tier]) {
          renamed_tier_[g->tier] = a->tier;
          renamed_from_[a->tier] = g->tier;
          taken.insert(a->tier);
          break;
        }
  }

  void diff_servers() {
    for (const Server& s : new_.servers) {
      auto it = old_servers_.find(s.name);
      DiffChange c;
      c.what = DiffSubject::server;
      c.id = s.name;
      c.server = s.name;
      c.line = s.line;
      if (it == old_servers_.end()) {
        c.kind = DiffKind::create;
        auto was = old_tier_size_.find(s.tier);
        if (was != old_tier_size_.end())
          c.reasons.push_back(
              fmt::format("tier {} grows from {} to {}", s.tier, was->second, server_count(new_tier_size_[s.tier])));
        else if (renamed_from_.count(s.tier))
          c.reasons.push_back(fmt::format("tier {} renamed from {}? a server is named after its tier, so a renamed "
                                          "tier's servers are removed and new ones added",
                                          s.tier, renamed_from_[s.tier]));
        else
          c.reasons.push_back(fmt::format("new tier {}", s.tier));
        c.reasons.push_back(fmt::format("role {}, hw {}", s.role, s.hw));
        add(std::move(c));
        continue;
      }
      const Server& o = *it->second;
      c.kind = DiffKind::update;
      if (o.role != s.role) c.reasons.push_back(fmt::format("role {} -> {}", o.role, s.role));
      if (o.hw != s.hw)
        c.reasons.push_back(fmt::format("hw {} -> {} (a placed server keeps its host; only new ones get {})", o.hw,
                                        s.hw, s.hw));
      if (!c.reasons.empty()) add(std::move(c));
    }
    for (const Server& o : old_.servers) {
      if (new_servers_.count(o.name)) continue;
      DiffChange c;
      c.kind = DiffKind::destroy;
      c.what = DiffSubject::server;
      c.id = o.name;
      c.server = o.name;
      c.destructive = true;
      c.in_old = true;
      c.line = o.line;
      auto now = new_tier_size_.find(o.tier);
      if (now != new_tier_size_.end())
        c.reasons.push_back(
            fmt::format("tier {} shrinks from {} to {}", o.tier, old_tier_size_[o.tier], server_count(now->second)));
      else if (renamed_tier_.count(o.tier))
        c.reasons.push_back(fmt::format("tier {} renamed to {}? a server is named after its tier, so a renamed "
                                        "tier's servers are removed and new ones added",
                                        o.tier, renamed_tier_[o.tier]));
      else
        c.reasons.push_back(fmt::format("tier {} is no longer in the farm file", o.tier));
      add(std::move(c));
    }
  }

  // A volume only OLD has and one only NEW has that would hold the same disk
  // on the same server (or both global): a private disk that moved to
  // another target, or a renamed global disk. Said as a hint, as above.
  void pair_moved_volumes() {
    std::set<std::string> taken;
    for (const Volume& o : old_.volumes) {
      if (new_volumes_.count(o.id)) continue;
      for (const Volume& n : new_.volumes) {
        if (old_volumes_.count(n.id) || taken.count(n.id) || !same_disk(o, n)) continue;
        moved_to_[o.id] = n.id;
        moved_from_[n.id] = o.id;
        taken.insert(n.id);
        break;
      }
    }
  }

  void diff_volumes() {
    for (const Volume& v : new_.volumes) {
      auto it = old_volumes_.find(v.id);
      DiffChange c;
      c.what = DiffSubject::volume;
      c.id = v.id;
      c.server = v.server;
      c.line = v.line;
      if (it == old_volumes_.end()) {
        c.kind = DiffKind::create;
        c.reasons.push_back(volume_spec(v));
        auto from = moved_from_.find(v.id);
        if (from != moved_from_.end())
          c.reasons.push_back(fmt::format("a new, empty disk: the data of {} is not moved", from->second));
        add(std::move(c));
        continue;
      }
      VolumeDelta d = compare_volumes(*it->second, v);
      if (d.replace.empty() && d.update.empty()) continue;
      c.kind = d.replace.empty() ? DiffKind::update : DiffKind::replace;
      c.destructive = !d.replace.empty();
      c.reasons = std::move(d.replace);
      c.reasons.insert(c.reasons.end(), d.update.begin(), d.update.end());
      add(std::move(c));
    }
    for (const Volume& o : old_.volumes) {
      if (new_volumes_.count(o.id)) continue;
      DiffChange c;
      c.kind = DiffKind::destroy;
      c.what = DiffSubject::volume;
      c.id = o.id;
      c.server = o.server;
      c.destructive = true;
      c.in_old = true;
      c.line = o.line;
      if (!o.server.empty() && !new_servers_.count(o.server))
        c.reasons.push_back(fmt::format("its server {} is removed", o.server));
      else
        c.reasons.push_back("no longer in the farm file");
      auto to = moved_to_.find(o.id);
      if (to != moved_to_.end())
        c.reasons.push_back(
            o.shared ? fmt::format("renamed to {}? a global disk is known by its global-name, so a renamed one is "
                                   "destroyed and an empty one made",
                                   to->second)
                     : fmt::format("moved to {}? a private disk is known by its target, so a moved one is destroyed "
                                   "and an empty one made",
                                   to->second));
      add(std::move(c));
    }
  }

  // Exports that go with a change listed already are not listed apart: a
  // new private disk's export to its own server, and every export of a
  // destroyed volume or of a removed server. A new global disk's exports are
  // listed: they say which servers will see it.
  bool folded_creation(const Export& e) const {
    auto v = new_volumes_.find(e.volume);
    return v != new_volumes_.end() && !old_volumes_.count(e.volume) && v->second->server == e.server;
  }
  bool folded_removal(const Export& e) const {
    return !new_volumes_.count(e.volume) || !new_servers_.count(e.server);
  }

  void diff_exports() {
    std::map<ExportKey, const Export*> old_by_key;
    for (const Export& e : old_.exports) old_by_key.emplace(key_of(e), &e);
    std::set<const Export*> matched_old;
    std::vector<const Export*> unmatched_new;
    for (const Export& e : new_.exports) {
      auto it = old_by_key.find(key_of(e));
      if (it == old_by_key.end()) {
        unmatched_new.push_back(&e);
        continue;
      }
      matched_old.insert(it->second);
      if (it->second->protocol != e.protocol)
        add_export(DiffKind::update, e, false, {fmt::format("protocol {} -> {}", it->second->protocol, e.protocol)});
    }
    // What is left on both sides for one volume and server has moved to another target.
    std::vector<const Export*> unmatched_old;
    for (const Export& e : old_.exports)
      if (!matched_old.count(&e)) unmatched_old.push_back(&e);
    for (const Export* n : unmatched_new) {
      auto o = std::find_if(unmatched_old.begin(), unmatched_old.end(), [&](const Export* e) {
        return e != nullptr && e->volume == n->volume && e->server == n->server;
      });
      if (o != unmatched_old.end()) {
        std::vector<std::string> reasons{fmt::format("target {} -> {}", (*o)->target, n->target)};
        if ((*o)->protocol != n->protocol)
          reasons.push_back(fmt::format("protocol {} -> {}", (*o)->protocol, n->protocol));
        add_export(DiffKind::update, *n, false, std::move(reasons));
        *o = nullptr;
        continue;
      }
      if (folded_creation(*n)) continue;
      add_export(DiffKind::create, *n, false, {fmt::format("target {} over {}", n->target, n->protocol)});
    }
    for (const Export* o : unmatched_old) {
      if (o == nullptr || folded_removal(*o)) continue;
      add_export(DiffKind::destroy, *o, true,
                 {fmt::format("target {} over {} no longer shown; the disk stays", o->target, o->protocol)});
    }
  }

  void add_export(DiffKind kind, const Export& e, bool in_old, std::vector<std::string> reasons) {
    DiffChange c;
    c.kind = kind;
    c.what = DiffSubject::export_;
    c.id = e.volume + " -> " + e.server;
    c.server = e.server;
    c.in_old = in_old;
    c.line = e.line;
    c.reasons = std::move(reasons);
    add(std::move(c));
  }

  const Plan& old_;
  const Plan& new_;
  std::map<std::string, const Server*> old_servers_, new_servers_;
  std::map<std::string, int> old_tier_size_, new_tier_size_;
  std::map<std::string, const Volume*> old_volumes_, new_volumes_;
  std::map<std::string, std::string> renamed_tier_, renamed_from_;  // tier hints
  std::map<std::string, std::string> moved_to_, moved_from_;        // volume hints
  std::map<std::string, int> group_rank_;
  std::vector<Ranked> changes_;
};

}  // namespace

std::string_view to_string(DiffKind kind) {
  switch (kind) {
    case DiffKind::create: return "create";
    case DiffKind::update: return "update";
    case DiffKind::destroy: return "destroy";
    case DiffKind::replace: return "replace";
  }
  return "?";
}

std::string_view symbol(DiffKind kind) {
  switch (kind) {
    case DiffKind::create: return "+";
    case DiffKind::update: return "~";
    case DiffKind::destroy: return "-";
    case DiffKind::replace: return "-/+";
  }
  return "?";
}

std::string_view to_string(DiffSubject subject) {
  switch (subject) {
    case DiffSubject::farm: return "farm";
    case DiffSubject::server: return "server";
    case DiffSubject::volume: return "volume";
    case DiffSubject::export_: return "export";
  }
  return "?";
}

std::string DiffChange::subject() const { return fmt::format("{} {}", to_string(what), id); }

std::string DiffChange::reason() const {
  std::string text;
  for (const std::string& r : reasons) text += (text.empty() ? "" : "; ") + r;
  return text;
}

FarmDiff::Counts FarmDiff::counts() const {
  Counts n;
  for (const DiffChange& c : changes) {
    switch (c.kind) {
      case DiffKind::create: ++n.create; break;
      case DiffKind::update: ++n.update; break;
      case DiffKind::replace: ++n.replace; break;
      case DiffKind::destroy: ++n.destroy; break;
    }
  }
  return n;
}

int FarmDiff::destructive_count() const {
  return static_cast<int>(
      std::count_if(changes.begin(), changes.end(), [](const DiffChange& c) { return c.destructive; }));
}

FarmDiff diff_plans(const Plan& old_plan, const Plan& new_plan) { return Differ(old_plan, new_plan).run(); }

}  // namespace farmctl::plan
