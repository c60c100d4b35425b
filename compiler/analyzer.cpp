// Semantic analysis of a farm file, in two steps. A FarmPartReader reads
// children of <farm> one by one, parsing each value with the grammars of
// values.h; a large file is read in pieces, one reader each, on two threads
// (read_xml_streamed). Then the parts are put together in document order and
// what needs the whole farm is checked: duplicate ids and names, references,
// targets (target_settlement.h), the plan's size, what nothing uses.
#include "compiler/analyzer.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <future>
#include <set>
#include <unordered_set>

#include <boost/container/small_vector.hpp>

#include <fmt/format.h>

#include "compiler/first_index.h"
#include "compiler/name_suggestions.h"
#include "compiler/recent_values.h"
#include "compiler/target_settlement.h"

namespace farmctl::fml {

// Names compared as string_views: their lengths first, where std::string ==
// const char* measured the literal and compared it for every element read.
using namespace std::string_view_literals;

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

bool is_known_version(std::string_view v) { return v == "1.1" || v == "1.2" || v == "1.3"; }

bool is_server_name_safe(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

// Where each key (a disk's backup level, a role's drive name, a tier's
// child) was first given, among the handful one disk, role or tier has: kept
// in place, where a map would cost an allocation per key for each of a large
// farm's millions. Keys that are views must outlive it.
template <class Key>
class FirstPlaces {
 public:
  // Where `key` was first given; nothing, and `at` noted as that place, the first time.
  std::optional<Position> note(Key key, Position at) {
    if (std::optional<Position> first = find(key)) return first;
    seen_.emplace_back(key, at);
    return std::nullopt;
  }
  std::optional<Position> find(const Key& key) const {
    for (const auto& [k, first] : seen_)
      if (k == key) return first;
    return std::nullopt;
  }

 private:
  boost::container::small_vector<std::pair<Key, Position>, 8> seen_;
};

// Where an id or a name was given: the duplicate checks wait until every
// part is read, so that "first at line" names the first in the whole file.
struct Occurrence {
  std::string value;
  Position pos;
};

// What resolving a tier's references needs of its elements, copied: the
// elements are gone by then.
struct TierSource {
  struct Interface {
    std::optional<std::string> name;
    std::optional<Occurrence> subnet;
  };
  bool has_role = false;
  Position role_at;  // the role's text, or its tag when it has none
  std::vector<Interface> interfaces;
};

// The children of <farm> read so far (a run of them, in document order).
class FarmPartReader : public TopElementReader {
 public:
  void read(const XmlDocument& doc, std::uint32_t element) override {
    doc_ = &doc;
    if (!version_read_) read_version(doc.root());
    read_farm_child(doc.at(element));
  }

  Farm farm;  // globals, tiers and roles; no name or version
  std::vector<TierSource> tier_sources;  // one per tier
  std::vector<Occurrence> role_ids, role_names, tier_ids, tier_names, subnet_ids, subnet_names, global_names;
  DiagnosticList diags;

 private:
  // Only for the rules that depend on it; the version's own errors are said once, for the whole farm.
  void read_version(const XmlElement& root) {
    version_read_ = true;
    if (const XmlAttribute* v = root.attribute("fmlversion"); v != nullptr && is_known_version(v->value))
      farm.fml_version = v->value;
  }

  bool version_at_least_1_2() const { return farm.fml_version != "1.1"sv; }

  void require_1_2(const XmlElement& e) {
    if (!farm.fml_version.empty() && !version_at_least_1_2())
      diags.error(Code::needs_newer_version, e.pos,
                  fmt::format("<{}> needs fmlversion 1.2 or later; this farm says 1.1", e.name));
  }

  void read_farm_child(const XmlElement& e) {
    if (e.name == "farm-global-disks"sv) {
      require_1_2(e);
      for (std::uint32_t c : e.children)
        if (doc_->at(c).name == "global-disk"sv) read_global_disk(doc_->at(c));
    } else if (e.name == "tier"sv) {
      read_tier(e);
    } else if (e.name == "server-role"sv) {
      read_role(e);
    } else if (e.name == "subnet"sv) {
      read_subnet(e);
    }
    // anything else was reported by the schema
  }

  // ---- values ------------------------------------------------------------

  RecentValues<std::uint64_t> sizes_;
  RecentValues<DriveType> drivetypes_;
  RecentValues<BackupPolicy> policies_;
  RecentValues<int> targets_;

  template <class T>
  std::optional<T> parsed(const Parsed<T>& p, Code code, Position pos) {
    if (p) return *p;
    diags.error(code, offset_by(pos, p.error().offset), p.error().message);
    return std::nullopt;
  }

  std::optional<int> count(const XmlElement& e) {
    int n = 0;
    const std::string& t = e.text;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size() || n < 0 || n > kMaxServersPerTier) {
      Position at = e.text.empty() ? e.pos : e.text_pos;
      diags.error(Code::bad_number, at,
                  fmt::format("bad <{}> '{}': must be a whole number from 0 to {}", e.name, t, kMaxServersPerTier));
      return std::nullopt;
    }
    return n;
  }

  // ---- disks -------------------------------------------------------------

  void read_disk_spec(const XmlElement& e, DiskSpec& spec) {
    spec.pos = e.pos;
    if (const XmlAttribute* a = e.attribute("drivesize"))
      spec.size_mb = parsed(sizes_.parse(a->value, parse_size_mb), Code::bad_size, a->value_pos).value_or(0);
    if (const XmlAttribute* a = e.attribute("drivetype")) {
      if (auto t = parsed(drivetypes_.parse(a->value, parse_drivetype), Code::bad_drivetype, a->value_pos)) {
        if (auto* cls = std::get_if<QualityClass>(&*t)) spec.cls = *cls;
        if (auto* path = std::get_if<AccessPath>(&*t)) spec.access = *path;
      }
    }
    const XmlElement* image = nullptr;
    FirstPlaces<int> backup_levels;
    for (std::uint32_t c : e.children) {
      const XmlElement& child = doc_->at(c);
      if (child.name == "diskimage"sv) {
        if (image != nullptr) {
          diags.error(Code::bad_structure, child.pos,
                       fmt::format("a disk has one <diskimage>; another is at line {}", image->pos.line));
          continue;
        }
        image = &child;
        read_image(child, spec);
      } else if (child.name == "attribute"sv) {
        read_disk_attribute(child, spec, backup_levels);
      }
    }
  }

  void read_image(const XmlElement& e, DiskSpec& spec) {
    plan::Image image;
    if (const XmlAttribute* t = e.attribute("type")) {
      if (t->value != "system"sv && t->value != "data"sv)
        diags.error(Code::bad_value, t->value_pos,
                     fmt::format("bad diskimage type '{}': must be 'system' or 'data'", t->value));
      image.type = t->value;
    }
    if (e.text.empty())
      diags.error(Code::bad_value, e.pos, "<diskimage> names no image: write <diskimage type=\"...\">NAME</diskimage>");
    image.name = e.text;
    spec.image = std::move(image);
  }

  void read_disk_attribute(const XmlElement& e, DiskSpec& spec, FirstPlaces<int>& backup_levels) {
    const XmlAttribute* name = e.attribute("name");
    const XmlAttribute* value = e.attribute("value");
    if (name == nullptr || value == nullptr) return;  // reported by the schema
    if (name->value == "raid-level"sv) {
      if (spec.raid) {
        diags.error(Code::bad_structure, e.pos, "raid-level is given twice for this disk");
        return;
      }
      spec.raid = parsed(parse_raid_level(value->value), Code::bad_raid, value->value_pos);
    } else if (name->value == "backup-policy"sv) {
      auto policy =
          parsed(policies_.parse(value->value, parse_backup_policy), Code::bad_backup_policy, value->value_pos);
      if (!policy) return;
      if (std::optional<Position> first = backup_levels.note(policy->level, value->value_pos)) {
        diags.error(Code::duplicate_backup_level, value->value_pos,
                     fmt::format("two backup policies of level {} on one disk (the other is at line {}); give each "
                                 "policy its own level",
                                 policy->level, first->line));
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
      if (n->value.empty()) diags.error(Code::bad_value, n->value_pos, "empty global-name");
      global_names.push_back({n->value, n->value_pos});
    }
    read_disk_spec(e, g.spec);
    farm.globals.push_back(std::move(g));
  }

  void read_private_disk(const XmlElement& e, ServerRole& role, FirstPlaces<std::string_view>& drivenames) {
    PrivateDisk d;
    read_disk_spec(e, d.spec);
    const XmlAttribute* target = e.attribute("target");
    const XmlAttribute* drivename = e.attribute("drivename");
    if (target != nullptr)
      d.explicit_target = parsed(targets_.parse(target->value, parse_target), Code::bad_target, target->value_pos);
    if (drivename != nullptr) {
      d.drivename = drivename->value;
      if (std::optional<Position> first = drivenames.note(drivename->value, drivename->value_pos))
        diags.error(Code::duplicate_name, drivename->value_pos,
                     fmt::format("duplicate drivename '{}' in {} (first at line {})", shown(drivename->value),
                                 label("server-role", role.name, role.pos), first->line));
    }
    if (target == nullptr && drivename == nullptr)
      diags.error(Code::missing_attribute, e.pos, "<disk> needs a 'target' or a 'drivename' (or both)");
    role.disks.push_back(std::move(d));
  }

  void read_shared_disk(const XmlElement& e, ServerRole& role) {
    require_1_2(e);
    SharedDisk s;
    s.pos = e.pos;
    if (const XmlAttribute* n = e.attribute("global-name")) s.global_name = n->value;
    if (const XmlAttribute* t = e.attribute("target"))
      s.explicit_target = parsed(targets_.parse(t->value, parse_target), Code::bad_target, t->value_pos);
    if (const XmlAttribute* a = e.attribute("drivetype")) {
      if (auto t = parsed(drivetypes_.parse(a->value, parse_drivetype), Code::bad_drivetype, a->value_pos)) {
        if (auto* path = std::get_if<AccessPath>(&*t))
          s.access = *path;
        else
          diags.warning(Code::bad_drivetype, a->value_pos,
                         fmt::format("drivetype '{}' is a quality class; a shared disk takes its class from its "
                                     "<global-disk>, so this is ignored",
                                     a->value));
      }
    }
    role.shared.push_back(std::move(s));
  }

  // ---- roles, tiers, subnets ------------------------------------------------

  void read_id_and_name(const XmlElement& e, std::vector<Occurrence>& ids, std::vector<Occurrence>& names,
                        std::string& id, std::string& name) {
    if (const XmlAttribute* a = e.attribute("id")) {
      id = a->value;
      ids.push_back({a->value, a->value_pos});
    }
    if (const XmlAttribute* a = e.attribute("name")) {
      name = a->value;
      names.push_back({a->value, a->value_pos});
    }
  }

  void read_role(const XmlElement& e) {
    ServerRole role;
    role.pos = e.pos;
    read_id_and_name(e, role_ids, role_names, role.id, role.name);
    if (const XmlAttribute* a = e.attribute("npiv")) role.npiv = a->value == "true"sv || a->value == "1"sv;
    FirstPlaces<std::string_view> drivenames;
    const XmlElement* hw = nullptr;
    // Room for the disks at once: a disk moved each time its vector grew.
    std::size_t disks = 0, shared = 0;
    for (std::uint32_t c : e.children) {
      disks += doc_->at(c).name == "disk"sv;
      shared += doc_->at(c).name == "shared-disk"sv;
    }
    role.disks.reserve(disks);
    role.shared.reserve(shared);
    for (std::uint32_t c : e.children) {
      const XmlElement& child = doc_->at(c);
      if (child.name == "hw"sv) {
        if (hw != nullptr)
          diags.error(Code::bad_structure, child.pos,
                      fmt::format("{} has a second <hw> (the first is at line {})",
                                  label("server-role", role.name, role.pos), hw->pos.line));
        hw = &child;
        role.hw = child.text;
        if (child.text.empty()) diags.error(Code::bad_value, child.pos, "<hw> names no hardware class");
      } else if (child.name == "disk"sv) {
        read_private_disk(child, role, drivenames);
      } else if (child.name == "shared-disk"sv) {
        read_shared_disk(child, role);
      }
    }
    if (hw == nullptr)
      diags.error(Code::bad_structure, e.pos,
                  fmt::format("{} has no <hw>: say which hardware class its servers need",
                              label("server-role", role.name, role.pos)));
    farm.roles.push_back(std::move(role));
  }

  void read_tier(const XmlElement& e) {
    Tier tier;
    tier.pos = e.pos;
    read_id_and_name(e, tier_ids, tier_names, tier.id, tier.name);
    TierSource source;
    std::optional<int> min, max, init;
    FirstPlaces<std::string_view> seen;  // the children but interfaces, by name
    for (std::uint32_t c : e.children) {
      const XmlElement& child = doc_->at(c);
      if (child.name == "interface"sv) {
        TierSource::Interface& iface = source.interfaces.emplace_back();
        if (const XmlAttribute* n = child.attribute("name")) iface.name = n->value;
        if (const XmlAttribute* s = child.attribute("subnet")) iface.subnet = Occurrence{s->value, s->value_pos};
        continue;
      }
      if (std::optional<Position> first = seen.note(child.name, child.pos)) {
        diags.error(Code::bad_structure, child.pos,
                    fmt::format("{} has a second <{}> (the first is at line {})", label("tier", tier.name, tier.pos),
                                child.name, first->line));
        continue;
      }
      if (child.name == "role"sv) {
        source.has_role = true;
        source.role_at = child.text.empty() ? child.pos : child.text_pos;
        tier.role_id = child.text;
      }
      if (child.name == "min-servers"sv) min = count(child);
      if (child.name == "max-servers"sv) max = count(child);
      if (child.name == "init-servers"sv) init = count(child);
    }
    if (!source.has_role)
      diags.error(Code::bad_structure, e.pos,
                  fmt::format("{} has no <role>: name the server-role its servers play",
                              label("tier", tier.name, tier.pos)));
    settle_counts(e, tier, min, max, init, seen);
    tier_sources.push_back(std::move(source));
    farm.tiers.push_back(std::move(tier));
  }

  // Defaults (docs/fml.md): min 0; init = min, or 1 when min is 0 and max allows;
  // max = the larger of init and min.
  void settle_counts(const XmlElement& e, Tier& tier, std::optional<int> min, std::optional<int> max,
                     std::optional<int> init, const FirstPlaces<std::string_view>& seen) {
    bool bad = (seen.find("min-servers") && !min) || (seen.find("max-servers") && !max) ||
               (seen.find("init-servers") && !init);
    if (bad) return;
    tier.min_servers = min.value_or(0);
    tier.init_servers = init.value_or(std::max(tier.min_servers, max && *max == 0 ? 0 : 1));
    tier.max_servers = max.value_or(std::max(tier.init_servers, tier.min_servers));
    if (!(tier.min_servers <= tier.init_servers && tier.init_servers <= tier.max_servers)) {
      diags.error(Code::server_counts_out_of_order, seen.find("init-servers").value_or(e.pos),
                  fmt::format("{}: min-servers ({}) <= init-servers ({}) <= max-servers ({}) does not hold",
                              label("tier", tier.name, tier.pos), tier.min_servers, tier.init_servers,
                              tier.max_servers));
    }
  }

  void read_subnet(const XmlElement& e) {
    std::string id, name;
    read_id_and_name(e, subnet_ids, subnet_names, id, name);
  }

  const XmlDocument* doc_ = nullptr;
  bool version_read_ = false;
};

// Below this many tiers and roles a second thread costs more than it saves.
constexpr std::size_t kTwoThreadsFromElements = 10'000;

// The parts put together, and the checks that need the whole farm.
class FarmAssembly {
 public:
  explicit FarmAssembly(DiagnosticList& diags) : diags_(diags) {}

  std::optional<Farm> run(const XmlElement& root, std::string_view default_name,
                          const std::vector<FarmPartReader*>& parts) {
    if (root.name != "farm"sv) {
      // the schema has reported the unknown root already; this is a backstop
      if (!diags_.has_errors())
        diags_.error(Code::unknown_element, root.pos,
                     fmt::format("the root element must be <farm>, not <{}>", root.name));
      return std::nullopt;
    }
    read_farm_attributes(root, default_name);
    reserve_for(parts);
    for (FarmPartReader* part : parts) take(*part);
    // The duplicate checks, and the references with the roles' targets, need
    // nothing of each other but the few subnets and global disks, found
    // first: a large farm has them made on two threads, each into a list of
    // its own, then said in the order one thread says them.
    DiagnosticList duplicates, references;
    subnet_ids_ =
        each_duplicate(parts, &FarmPartReader::subnet_ids, duplicate(duplicates, Code::duplicate_id, "subnet", "id"));
    global_names_ = each_duplicate(parts, &FarmPartReader::global_names, [&](const Occurrence& o, Position first) {
      duplicates.error(Code::duplicate_global_name, o.pos,
                       fmt::format("duplicate global-name '{}' (first declared at line {})", o.value, first.line));
    });
    auto check_references = [&] {
      resolve_references(parts, references);
      for (ServerRole& role : farm_.roles) settle_targets(role, references);
    };
    if (farm_.tiers.size() + farm_.roles.size() >= kTwoThreadsFromElements) {
      auto checked = std::async(std::launch::async, [&] { check_duplicates(parts, duplicates); });
      check_references();
      checked.get();
    } else {
      check_duplicates(parts, duplicates);
      check_references();
    }
    diags_.append(duplicates);
    diags_.append(references);
    if (!diags_.has_errors()) check_plan_size();
    warn_unused();
    if (diags_.has_errors()) return std::nullopt;
    return std::move(farm_);
  }

 private:
  void read_farm_attributes(const XmlElement& root, std::string_view default_name) {
    if (const XmlAttribute* v = root.attribute("fmlversion")) {
      if (is_known_version(v->value))
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

  template <class T>
  static void append(std::vector<T>& to, std::vector<T>& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  }

  // Room for every part at once: appended one by one, a million roles and
  // tiers were moved again each time a vector grew.
  void reserve_for(const std::vector<FarmPartReader*>& parts) {
    std::size_t globals = 0, tiers = 0, roles = 0;
    for (const FarmPartReader* part : parts) {
      globals += part->farm.globals.size();
      tiers += part->farm.tiers.size();
      roles += part->farm.roles.size();
    }
    farm_.globals.reserve(globals);
    farm_.tiers.reserve(tiers);
    farm_.roles.reserve(roles);
    tier_sources_.reserve(tiers);
  }

  void take(FarmPartReader& part) {
    diags_.append(part.diags);
    append(farm_.globals, part.farm.globals);
    append(farm_.tiers, part.farm.tiers);
    append(farm_.roles, part.farm.roles);
    append(tier_sources_, part.tier_sources);
  }

  using OnDuplicate = std::function<void(const Occurrence&, Position)>;

  // Every value given, once each, in order: what "did you mean" chooses from.
  static std::vector<std::string> known_values(const std::vector<FarmPartReader*>& parts,
                                               std::vector<Occurrence> FarmPartReader::*list) {
    std::vector<std::string> values;
    for (const FarmPartReader* part : parts)
      for (const Occurrence& o : part->*list) values.push_back(o.value);
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    return values;
  }

  // Says "duplicate KIND WHAT 'value' (first at line N)" into `diags`.
  static OnDuplicate duplicate(DiagnosticList& diags, Code code, std::string_view kind, std::string_view what) {
    return [=, &diags](const Occurrence& o, Position first) {
      diags.error(code, o.pos, fmt::format("duplicate {} {} '{}' (first at line {})", kind, what, o.value, first.line));
    };
  }

  // Each occurrence whose value an earlier one has, in document order:
  // on_duplicate(o, the first's position). The values, for lookups: views
  // into the parts' occurrences, which outlive the assembly.
  static FirstIndex each_duplicate(const std::vector<FarmPartReader*>& parts,
                                   std::vector<Occurrence> FarmPartReader::*list, const OnDuplicate& on_duplicate) {
    std::vector<const Occurrence*> all;
    std::vector<std::string_view> values;
    for (const FarmPartReader* part : parts)
      for (const Occurrence& o : part->*list) {
        all.push_back(&o);
        values.push_back(o.value);
      }
    FirstIndex index(std::move(values));
    for (auto [duplicate, first] : index.duplicates()) on_duplicate(*all[duplicate], all[first]->pos);
    return index;
  }

  // The ids and names of roles, tiers and subnets (the subnets' ids and the
  // global disks' names were checked as they were found, in run).
  void check_duplicates(const std::vector<FarmPartReader*>& parts, DiagnosticList& diags) {
    each_duplicate(parts, &FarmPartReader::role_ids, duplicate(diags, Code::duplicate_id, "server-role", "id"));
    each_duplicate(parts, &FarmPartReader::role_names, duplicate(diags, Code::duplicate_name, "server-role", "name"));
    each_duplicate(parts, &FarmPartReader::tier_ids, duplicate(diags, Code::duplicate_id, "tier", "id"));
    // A tier's name: a duplicate, then whether it can name servers (at the
    // same place, the messages keep this order when sorted by place).
    each_duplicate(parts, &FarmPartReader::tier_names, duplicate(diags, Code::duplicate_name, "tier", "name"));
    for (const FarmPartReader* part : parts)
      for (const Occurrence& o : part->tier_names)
        if (!is_server_name_safe(o.value))
          diags.error(Code::bad_value, o.pos,
                       fmt::format("tier name '{}' cannot name servers (they are called '{}-0', ...): use letters, "
                                   "digits, '-', '_' and '.' only",
                                   o.value, o.value));
    each_duplicate(parts, &FarmPartReader::subnet_names, duplicate(diags, Code::duplicate_name, "subnet", "name"));
  }

  // ---- references --------------------------------------------------------

  std::string did_you_mean(const std::string& wanted, const std::vector<FarmPartReader*>& parts,
                           std::vector<Occurrence> FarmPartReader::*known) {
    if (suggestions_left_ == 0) return {};
    --suggestions_left_;
    return suggestion_suffix(wanted, known_values(parts, known));
  }

  void resolve_references(const std::vector<FarmPartReader*>& parts, DiagnosticList& diags) {
    std::vector<std::string_view> ids;
    ids.reserve(farm_.roles.size());
    for (const ServerRole& role : farm_.roles) ids.push_back(role.id);
    FirstIndex roles(std::move(ids));  // the first role of each id
    std::vector<std::size_t> first_of_id(farm_.roles.size());  // of each role, the first with its id
    for (std::size_t r = 0; r < farm_.roles.size(); ++r) first_of_id[r] = r;
    for (auto [duplicate, first] : roles.duplicates()) first_of_id[duplicate] = first;
    std::vector<bool> played(farm_.roles.size());
    for (std::size_t i = 0; i < farm_.tiers.size(); ++i) {
      Tier& tier = farm_.tiers[i];
      const TierSource& source = tier_sources_[i];
      std::size_t role = roles.find(tier.role_id);
      if (source.has_role && role == FirstIndex::npos) {
        diags.error(Code::unknown_role, source.role_at,
                     fmt::format("{} names role '{}', but no <server-role> has that id{}",
                                 label("tier", tier.name, tier.pos), shown(tier.role_id),
                                 did_you_mean(tier.role_id, parts, &FarmPartReader::role_ids)));
      }
      if (role != FirstIndex::npos) {
        tier.role = role;
        played[role] = true;
      }
      for (const TierSource::Interface& iface : source.interfaces)
        if (iface.subnet && subnet_ids_.find(iface.subnet->value) == FirstIndex::npos)
          diags.error(Code::unknown_subnet, iface.subnet->pos,
                       fmt::format("interface '{}' is on subnet '{}', but no <subnet> has that id{}",
                                   iface.name ? shown(*iface.name) : "", shown(iface.subnet->value),
                                   did_you_mean(iface.subnet->value, parts, &FarmPartReader::subnet_ids)));
    }
    for (ServerRole& role : farm_.roles) resolve_shared_disks(role, parts, diags);
    // A role is played when a tier names its id (each of several roles of one id, then).
    for (std::size_t r = 0; r < farm_.roles.size(); ++r) unplayed_roles_.push_back(!played[first_of_id[r]]);
  }

  void resolve_shared_disks(ServerRole& role, const std::vector<FarmPartReader*>& parts, DiagnosticList& diags) {
    for (std::size_t k = 0; k < role.shared.size(); ++k) {
      const SharedDisk& s = role.shared[k];
      if (global_names_.find(s.global_name) == FirstIndex::npos) {
        diags.error(Code::unknown_global_name, s.pos,
                     fmt::format("shared-disk names global disk '{}', but no <global-disk> has that global-name{}",
                                 shown(s.global_name), did_you_mean(s.global_name, parts, &FarmPartReader::global_names)));
        continue;
      }
      used_globals_.insert(s.global_name);
      // A role shares a few disks: the earlier ones are looked through, not mapped.
      auto earlier = std::find_if(role.shared.begin(), role.shared.begin() + static_cast<std::ptrdiff_t>(k),
                                  [&](const SharedDisk& e) { return e.global_name == s.global_name; });
      if (earlier != role.shared.begin() + static_cast<std::ptrdiff_t>(k))
        diags.error(Code::duplicate_global_name, s.pos,
                     fmt::format("global disk '{}' is already shared into {} at line {}", shown(s.global_name),
                                 label("server-role", role.name, role.pos), earlier->pos.line));
    }
  }

  // Each server of a tier becomes one server, one volume per private disk and
  // one export per disk and shared disk. Run only on a farm without errors,
  // when every tier's role is known.
  void check_plan_size() {
    std::uint64_t entries = 2 * farm_.globals.size();
    for (const Tier& tier : farm_.tiers) {
      const ServerRole& role = farm_.roles.at(tier.role);
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
    for (std::size_t r = 0; r < farm_.roles.size(); ++r)
      if (const ServerRole& role = farm_.roles[r]; unplayed_roles_[r])
        diags_.warning(Code::unused, role.pos,
                       fmt::format("{} is played by no tier", label("server-role", role.name, role.pos)));
    std::set<std::string> warned;  // a duplicated global-name is an error already; warn once
    for (const GlobalDisk& g : farm_.globals)
      if (!used_globals_.count(g.global_name) && warned.insert(g.global_name).second)
        diags_.warning(Code::unused, g.spec.pos,
                       fmt::format("global disk '{}' is shared with no server (it is still provisioned)",
                                   shown(g.global_name)));
  }

  DiagnosticList& diags_;
  Farm farm_;
  std::vector<TierSource> tier_sources_;
  FirstIndex subnet_ids_{std::vector<std::string_view>()}, global_names_{std::vector<std::string_view>()};
  std::vector<bool> unplayed_roles_;  // by index in farm_.roles
  std::unordered_set<std::string_view> used_globals_;
  int suggestions_left_ = kMaxSuggestions;
};

}  // namespace

MakeTopElementReader farm_part_reader() {
  return [] { return std::make_unique<FarmPartReader>(); };
}

std::optional<Farm> analyze_parts(const XmlElement& root, const std::vector<std::unique_ptr<TopElementReader>>& parts,
                                  std::string_view default_name, DiagnosticList& diags) {
  std::vector<FarmPartReader*> farm_parts;
  for (const auto& part : parts) farm_parts.push_back(&dynamic_cast<FarmPartReader&>(*part));
  return FarmAssembly(diags).run(root, default_name, farm_parts);
}

std::optional<Farm> analyze(const XmlDocument& doc, std::string_view default_name, DiagnosticList& diags) {
  FarmPartReader part;
  if (doc.root().name == "farm"sv)
    for (std::uint32_t child : doc.root().children) part.read(doc, child);
  return FarmAssembly(diags).run(doc.root(), default_name, {&part});
}

}  // namespace farmctl::fml
