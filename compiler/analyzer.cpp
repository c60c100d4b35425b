// Semantic analysis of a farm file. This file's external interface is just
// analyze(); the Analyzer class is private. It reads the element tree once,
// parsing each value with the grammars of values.h, then resolves names and
// settles targets (target_settlement.h).
#include "compiler/analyzer.h"

#include <charconv>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "compiler/name_suggestions.h"
#include "compiler/target_settlement.h"

namespace farmctl::fml {
namespace {

// Limits that keep a small file from asking for an enormous plan (a farm of
// the original language had tens of servers, not millions).
constexpr int kMaxServersPerTier = 1'000'000;
// servers + volumes + exports: a 100,000-server farm with three disks each is
// 700,000; the cap keeps a small file from asking for gigabytes of plan.
constexpr std::uint64_t kMaxPlanEntries = 4'000'000;
// "did you mean" costs an edit-distance scan of the known names; a file full
// of dangling references gets suggestions for the first ones only.
constexpr int kMaxSuggestions = 32;

Position offset_by(Position p, std::size_t offset) {
  return {p.line, p.col + static_cast<int>(offset)};
}

// How messages name a tier or server-role: by its name, or by its line when
// the name is missing (the schema has said so already).
std::string label(std::string_view kind, const std::string& name, Position pos) {
  if (name.empty()) return fmt::format("the {} at line {}", kind, pos.line);
  return fmt::format("{} '{}'", kind, shown(name));
}

bool is_server_name_safe(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

class Analyzer {
 public:
  Analyzer(const XmlDocument& doc, DiagnosticList& diags) : doc_(doc), diags_(diags) {}

  std::optional<Farm> run(std::string_view default_name) {
    const XmlElement& root = doc_.root();
    if (root.name != "farm") {
      // the schema has reported the unknown root already; this is a backstop
      if (!diags_.has_errors())
        diags_.error(Code::unknown_element, root.pos,
                     fmt::format("the root element must be <farm>, not <{}>", root.name));
      return std::nullopt;
    }
    read_farm_attributes(root, default_name);
    for (std::uint32_t child : root.children) read_farm_child(doc_.at(child));
    resolve_references();
    for (ServerRole& role : farm_.roles) settle_targets(role, diags_);
    if (!diags_.has_errors()) check_plan_size();
    warn_unused();
    if (diags_.has_errors()) return std::nullopt;
    return std::move(farm_);
  }

 private:
  // ---- <farm> ----------------------------------------------------------

  void read_farm_attributes(const XmlElement& root, std::string_view default_name) {
    if (const XmlAttribute* v = root.attribute("fmlversion")) {
      if (v->value == "1.1" || v->value == "1.2" || v->value == "1.3")
        farm_.fml_version = v->value;
      else
        diags_.error(Code::bad_version, v->value_pos,
                     fmt::format("unsupported fmlversion '{}': farmctl reads 1.1, 1.2 and 1.3", v->value));
    }
    if (const XmlAttribute* n = root.attribute("name")) {
      if (n->value.empty())
        diags_.error(Code::bad_value, n->value_pos, "the farm name is empty");
      farm_.name = n->value;
    } else {
      farm_.name = std::string(default_name);
    }
  }

  bool version_at_least_1_2() const { return farm_.fml_version != "1.1"; }

  void require_1_2(const XmlElement& e) {
    if (!farm_.fml_version.empty() && !version_at_least_1_2())
      diags_.error(Code::needs_newer_version, e.pos,
                   fmt::format("<{}> needs fmlversion 1.2 or later; this farm says 1.1", e.name));
  }

  void read_farm_child(const XmlElement& e) {
    if (e.name == "farm-global-disks") {
      require_1_2(e);
      for (std::uint32_t c : e.children)
        if (doc_.at(c).name == "global-disk") read_global_disk(doc_.at(c));
    } else if (e.name == "tier") {
      read_tier(e);
    } else if (e.name == "server-role") {
      read_role(e);
    } else if (e.name == "subnet") {
      read_subnet(e);
    }
    // anything else was reported by the schema
  }

  // ---- values ------------------------------------------------------------

  template <class T>
  std::optional<T> parsed(const Parsed<T>& p, Code code, Position pos) {
    if (p) return *p;
    diags_.error(code, offset_by(pos, p.error().offset), p.error().message);
    return std::nullopt;
  }

  std::optional<int> count(const XmlElement& e) {
    int n = 0;
    const std::string& t = e.text;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size() || n < 0 || n > kMaxServersPerTier) {
      Position at = e.text.empty() ? e.pos : e.text_pos;
      diags_.error(Code::bad_number, at,
                   fmt::format("bad <{}> '{}': must be a whole number from 0 to {}", e.name, t, kMaxServersPerTier));
      return std::nullopt;
    }
    return n;
  }

  // ---- disks -------------------------------------------------------------

  void read_disk_spec(const XmlElement& e, DiskSpec& spec) {
    spec.pos = e.pos;
    if (const XmlAttribute* a = e.attribute("drivesize"))
      spec.size_mb = parsed(parse_size_mb(a->value), Code::bad_size, a->value_pos).value_or(0);
    if (const XmlAttribute* a = e.attribute("drivetype")) {
      if (auto t = parsed(parse_drivetype(a->value), Code::bad_drivetype, a->value_pos)) {
        if (auto* cls = std::get_if<QualityClass>(&*t)) spec.cls = *cls;
        if (auto* path = std::get_if<AccessPath>(&*t)) spec.access = *path;
      }
    }
    const XmlElement* image = nullptr;
    std::map<int, Position> backup_levels;
    for (std::uint32_t c : e.children) {
      const XmlElement& child = doc_.at(c);
      if (child.name == "diskimage") {
        if (image != nullptr) {
          diags_.error(Code::bad_structure, child.pos,
                       fmt::format("a disk has one <diskimage>; another is at line {}", image->pos.line));
          continue;
        }
        image = &child;
        read_image(child, spec);
      } else if (child.name == "attribute") {
        read_disk_attribute(child, spec, backup_levels);
      }
    }
  }

  void read_image(const XmlElement& e, DiskSpec& spec) {
    plan::Image image;
    if (const XmlAttribute* t = e.attribute("type")) {
      if (t->value != "system" && t->value != "data")
        diags_.error(Code::bad_value, t->value_pos,
                     fmt::format("bad diskimage type '{}': must be 'system' or 'data'", t->value));
      image.type = t->value;
    }
    if (e.text.empty())
      diags_.error(Code::bad_value, e.pos, "<diskimage> names no image: write <diskimage type=\"...\">NAME</diskimage>");
    image.name = e.text;
    spec.image = std::move(image);
  }

  void read_disk_attribute(const XmlElement& e, DiskSpec& spec, std::map<int, Position>& backup_levels) {
    const XmlAttribute* name = e.attribute("name");
    const XmlAttribute* value = e.attribute("value");
    if (name == nullptr || value == nullptr) return;  // reported by the schema
    if (name->value == "raid-level") {
      if (spec.raid) {
        diags_.error(Code::bad_structure, e.pos, "raid-level is given twice for this disk");
        return;
      }
      spec.raid = parsed(parse_raid_level(value->value), Code::bad_raid, value->value_pos);
    } else if (name->value == "backup-policy") {
      auto policy = parsed(parse_backup_policy(value->value), Code::bad_backup_policy, value->value_pos);
      if (!policy) return;
      auto [it, fresh] = backup_levels.emplace(policy->level, value->value_pos);
      if (!fresh) {
        diags_.error(Code::duplicate_backup_level, value->value_pos,
                     fmt::format("two backup policies of level {} on one disk (the other is at line {}); give each "
                                 "policy its own level",
                                 policy->level, it->second.line));
        return;
      }
      spec.backup.push_back(*policy);
    } else {
      spec.attributes[name->value] = value->value;
    }
  }

  void read_global_disk(const XmlElement& e) {
    GlobalDisk g;
    if (const XmlAttribute* n = e.attribute("global-name")) {
      g.global_name = n->value;
      if (n->value.empty()) diags_.error(Code::bad_value, n->value_pos, "empty global-name");
      auto [it, fresh] = global_names_.emplace(n->value, n->value_pos);
      if (!fresh)
        diags_.error(Code::duplicate_global_name, n->value_pos,
                     fmt::format("duplicate global-name '{}' (first declared at line {})", n->value, it->second.line));
    }
    read_disk_spec(e, g.spec);
    farm_.globals.push_back(std::move(g));
  }

  void read_private_disk(const XmlElement& e, ServerRole& role, std::map<std::string, Position>& drivenames) {
    PrivateDisk d;
    read_disk_spec(e, d.spec);
    const XmlAttribute* target = e.attribute("target");
    const XmlAttribute* drivename = e.attribute("drivename");
    if (target != nullptr) d.explicit_target = parsed(parse_target(target->value), Code::bad_target, target->value_pos);
    if (drivename != nullptr) {
      d.drivename = drivename->value;
      auto [it, fresh] = drivenames.emplace(drivename->value, drivename->value_pos);
      if (!fresh)
        diags_.error(Code::duplicate_name, drivename->value_pos,
                     fmt::format("duplicate drivename '{}' in {} (first at line {})", shown(drivename->value),
                                 label("server-role", role.name, role.pos), it->second.line));
    }
    if (target == nullptr && drivename == nullptr)
      diags_.error(Code::missing_attribute, e.pos, "<disk> needs a 'target' or a 'drivename' (or both)");
    role.disks.push_back(std::move(d));
  }

  void read_shared_disk(const XmlElement& e, ServerRole& role) {
    require_1_2(e);
    SharedDisk s;
    s.pos = e.pos;
    if (const XmlAttribute* n = e.attribute("global-name")) s.global_name = n->value;
    if (const XmlAttribute* t = e.attribute("target"))
      s.explicit_target = parsed(parse_target(t->value), Code::bad_target, t->value_pos);
    if (const XmlAttribute* a = e.attribute("drivetype")) {
      if (auto t = parsed(parse_drivetype(a->value), Code::bad_drivetype, a->value_pos)) {
        if (auto* path = std::get_if<AccessPath>(&*t))
          s.access = *path;
        else
          diags_.warning(Code::bad_drivetype, a->value_pos,
                         fmt::format("drivetype '{}' is a quality class; a shared disk takes its class from its "
                                     "<global-disk>, so this is ignored",
                                     a->value));
      }
    }
    role.shared.push_back(std::move(s));
  }

  // ---- roles, tiers, subnets ------------------------------------------------

  void read_id_and_name(const XmlElement& e, std::string_view kind, std::map<std::string, Position>& ids,
                        std::map<std::string, Position>& names, std::string& id, std::string& name) {
    if (const XmlAttribute* a = e.attribute("id")) {
      id = a->value;
      auto [it, fresh] = ids.emplace(a->value, a->value_pos);
      if (!fresh)
        diags_.error(Code::duplicate_id, a->value_pos,
                     fmt::format("duplicate {} id '{}' (first at line {})", kind, a->value, it->second.line));
    }
    if (const XmlAttribute* a = e.attribute("name")) {
      name = a->value;
      auto [it, fresh] = names.emplace(a->value, a->value_pos);
      if (!fresh)
        diags_.error(Code::duplicate_name, a->value_pos,
                     fmt::format("duplicate {} name '{}' (first at line {})", kind, a->value, it->second.line));
    }
  }

  void read_role(const XmlElement& e) {
    ServerRole role;
    role.pos = e.pos;
    read_id_and_name(e, "server-role", role_ids_, role_names_, role.id, role.name);
    if (const XmlAttribute* a = e.attribute("npiv")) role.npiv = a->value == "true" || a->value == "1";
    std::map<std::string, Position> drivenames;
    const XmlElement* hw = nullptr;
    for (std::uint32_t c : e.children) {
      const XmlElement& child = doc_.at(c);
      if (child.name == "hw") {
        if (hw != nullptr)
          diags_.error(Code::bad_structure, child.pos,
                       fmt::format("{} has a second <hw> (the first is at line {})",
                                   label("server-role", role.name, role.pos), hw->pos.line));
        hw = &child;
        role.hw = child.text;
        if (child.text.empty()) diags_.error(Code::bad_value, child.pos, "<hw> names no hardware class");
      } else if (child.name == "disk") {
        read_private_disk(child, role, drivenames);
      } else if (child.name == "shared-disk") {
        read_shared_disk(child, role);
      }
    }
    if (hw == nullptr)
      diags_.error(Code::bad_structure, e.pos,
                   fmt::format("{} has no <hw>: say which hardware class its servers need",
                               label("server-role", role.name, role.pos)));
    farm_.roles.push_back(std::move(role));
  }

  struct TierSource {
    const XmlElement* role = nullptr;
    std::vector<const XmlElement*> interfaces;
  };

  void read_tier(const XmlElement& e) {
    Tier tier;
    tier.pos = e.pos;
    read_id_and_name(e, "tier", tier_ids_, tier_names_, tier.id, tier.name);
    if (const XmlAttribute* n = e.attribute("name"); n != nullptr && !is_server_name_safe(n->value))
      diags_.error(Code::bad_value, n->value_pos,
                   fmt::format("tier name '{}' cannot name servers (they are called '{}-0', ...): use letters, "
                               "digits, '-', '_' and '.' only",
                               n->value, n->value));
    TierSource source;
    std::optional<int> min, max, init;
    std::map<std::string, const XmlElement*> seen;
    for (std::uint32_t c : e.children) {
      const XmlElement& child = doc_.at(c);
      if (child.name == "interface") {
        source.interfaces.push_back(&child);
        continue;
      }
      if (auto [it, fresh] = seen.emplace(child.name, &child); !fresh) {
        diags_.error(Code::bad_structure, child.pos,
                     fmt::format("{} has a second <{}> (the first is at line {})", label("tier", tier.name, tier.pos),
                                 child.name, it->second->pos.line));
        continue;
      }
      if (child.name == "role") source.role = &child;
      if (child.name == "min-servers") min = count(child);
      if (child.name == "max-servers") max = count(child);
      if (child.name == "init-servers") init = count(child);
    }
    if (source.role == nullptr)
      diags_.error(Code::bad_structure, e.pos,
                   fmt::format("{} has no <role>: name the server-role its servers play",
                               label("tier", tier.name, tier.pos)));
    else
      tier.role_id = source.role->text;
    settle_counts(e, tier, min, max, init, seen);
    tier_sources_.push_back(source);
    farm_.tiers.push_back(std::move(tier));
  }

  // Defaults (docs/fml.md): min 0; init = min, or 1 when min is 0 and max allows;
  // max = the larger of init and min.
  void settle_counts(const XmlElement& e, Tier& tier, std::optional<int> min, std::optional<int> max,
                     std::optional<int> init, const std::map<std::string, const XmlElement*>& seen) {
    bool bad = (seen.count("min-servers") && !min) || (seen.count("max-servers") && !max) ||
               (seen.count("init-servers") && !init);
    if (bad) return;
    tier.min_servers = min.value_or(0);
    tier.init_servers = init.value_or(std::max(tier.min_servers, max && *max == 0 ? 0 : 1));
    tier.max_servers = max.value_or(std::max(tier.init_servers, tier.min_servers));
    if (!(tier.min_servers <= tier.init_servers && tier.init_servers <= tier.max_servers)) {
      const XmlElement* at = seen.count("init-servers") ? seen.at("init-servers") : &e;
      diags_.error(Code::server_counts_out_of_order, at->pos,
                   fmt::format("{}: min-servers ({}) <= init-servers ({}) <= max-servers ({}) does not hold",
                               label("tier", tier.name, tier.pos), tier.min_servers, tier.init_servers,
                               tier.max_servers));
    }
  }

  void read_subnet(const XmlElement& e) {
    std::string id, name;
    read_id_and_name(e, "subnet", subnet_ids_, subnet_names_, id, name);
  }

  // ---- references --------------------------------------------------------

  template <class Map>
  std::string did_you_mean(const std::string& wanted, const Map& known) {
    if (suggestions_left_ == 0) return {};
    --suggestions_left_;
    std::vector<std::string> names;
    for (const auto& [name, pos] : known) names.push_back(name);
    return suggestion_suffix(wanted, names);
  }

  void resolve_references() {
    for (std::size_t i = 0; i < farm_.tiers.size(); ++i) {
      const Tier& tier = farm_.tiers[i];
      const TierSource& source = tier_sources_[i];
      if (source.role != nullptr && !role_ids_.count(tier.role_id)) {
        Position at = source.role->text.empty() ? source.role->pos : source.role->text_pos;
        diags_.error(Code::unknown_role, at,
                     fmt::format("{} names role '{}', but no <server-role> has that id{}",
                                 label("tier", tier.name, tier.pos), shown(tier.role_id),
                                 did_you_mean(tier.role_id, role_ids_)));
      }
      used_roles_.insert(tier.role_id);
      for (const XmlElement* iface : source.interfaces)
        if (const XmlAttribute* s = iface->attribute("subnet"); s != nullptr && !subnet_ids_.count(s->value))
          diags_.error(Code::unknown_subnet, s->value_pos,
                       fmt::format("interface '{}' is on subnet '{}', but no <subnet> has that id{}",
                                   iface->attribute("name") ? shown(iface->attribute("name")->value) : "",
                                   shown(s->value), did_you_mean(s->value, subnet_ids_)));
    }
    for (ServerRole& role : farm_.roles) resolve_shared_disks(role);
  }

  void resolve_shared_disks(ServerRole& role) {
    std::map<std::string, const SharedDisk*> in_role;
    for (const SharedDisk& s : role.shared) {
      if (!global_names_.count(s.global_name)) {
        diags_.error(Code::unknown_global_name, s.pos,
                     fmt::format("shared-disk names global disk '{}', but no <global-disk> has that global-name{}",
                                 shown(s.global_name), did_you_mean(s.global_name, global_names_)));
        continue;
      }
      used_globals_.insert(s.global_name);
      if (auto [it, fresh] = in_role.emplace(s.global_name, &s); !fresh)
        diags_.error(Code::duplicate_global_name, s.pos,
                     fmt::format("global disk '{}' is already shared into {} at line {}", shown(s.global_name),
                                 label("server-role", role.name, role.pos), it->second->pos.line));
    }
  }

  // Each server of a tier becomes one server, one volume per private disk and
  // one export per disk and shared disk. Run only on a farm without errors,
  // when every tier's role is known.
  void check_plan_size() {
    std::map<std::string, const ServerRole*> roles;
    for (const ServerRole& r : farm_.roles) roles.emplace(r.id, &r);
    std::uint64_t entries = 2 * farm_.globals.size();
    for (const Tier& tier : farm_.tiers) {
      const ServerRole& role = *roles.at(tier.role_id);
      entries += static_cast<std::uint64_t>(tier.init_servers) * (1 + 2 * role.disks.size() + role.shared.size());
      if (entries > kMaxPlanEntries) {
        diags_.error(Code::plan_too_large, tier.pos,
                     fmt::format("{} takes the plan past farmctl's limit of {} servers, volumes and exports: "
                                 "lower its init-servers",
                                 label("tier", tier.name, tier.pos), kMaxPlanEntries));
        return;
      }
    }
  }

  void warn_unused() {
    for (const ServerRole& role : farm_.roles)
      if (!used_roles_.count(role.id))
        diags_.warning(Code::unused, role.pos,
                       fmt::format("{} is played by no tier", label("server-role", role.name, role.pos)));
    std::set<std::string> warned;  // a duplicated global-name is an error already; warn once
    for (const GlobalDisk& g : farm_.globals)
      if (!used_globals_.count(g.global_name) && warned.insert(g.global_name).second)
        diags_.warning(Code::unused, g.spec.pos,
                       fmt::format("global disk '{}' is shared with no server (it is still provisioned)",
                                   shown(g.global_name)));
  }

  const XmlDocument& doc_;
  DiagnosticList& diags_;
  Farm farm_;
  std::vector<TierSource> tier_sources_;
  std::map<std::string, Position> role_ids_, role_names_, tier_ids_, tier_names_, subnet_ids_, subnet_names_;
  std::map<std::string, Position> global_names_;
  std::set<std::string> used_roles_, used_globals_;
  int suggestions_left_ = kMaxSuggestions;
};

}  // namespace

std::optional<Farm> analyze(const XmlDocument& doc, std::string_view default_name, DiagnosticList& diags) {
  return Analyzer(doc, diags).run(default_name);
}

}  // namespace farmctl::fml
