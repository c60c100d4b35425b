#include "service/farm_source.h"

#include <mutex>
#include <set>

#include <fmt/format.h>

#include "compiler/analyzer.h"
#include "compiler/diagnostics.h"
#include "compiler/embedded_schema.h"
#include "compiler/lowering.h"
#include "compiler/xml_reader.h"
#include "service/xml_text_edit.h"

namespace farmctl::service {
namespace {

std::mutex g_compiler_mutex;

std::string size_text(std::uint64_t size_mb) {
  // Whole GB read better in a farm file; anything else stays in MB.
  if (size_mb % 1024 == 0) return fmt::format("{}GB", size_mb / 1024);
  return fmt::format("{}MB", size_mb);
}

}  // namespace

std::shared_ptr<const FarmSource> FarmSource::parse(std::string fml, std::string_view name) {
  auto source = std::make_shared<FarmSource>();
  source->text_ = std::move(fml);
  std::string file_name = std::string(name) + ".fml";
  fml::DiagnosticList diags;
  {
    std::lock_guard lock(g_compiler_mutex);
    auto doc = fml::read_xml_document(source->text_, fml::embedded_fml_schema(), "fml.xsd", diags);
    if (doc && !diags.has_errors()) {
      auto model = fml::analyze(*doc, name, diags);
      if (model && !diags.has_errors()) {
        source->doc_ = std::move(*doc);
        source->model_ = std::move(*model);
        source->plan_ = fml::lower(source->model_);
        return source;
      }
    }
  }
  diags.sort_by_position();
  throw FarmSourceError(fml::render(diags, file_name, source->text_));
}

std::string FarmSource::new_storage_farm(std::string_view name) {
  return fmt::format(
      "<?xml version=\"1.0\"?>\n"
      "<!-- Storage allocated to an account by work orders (farmctl serve). -->\n"
      "<farm fmlversion=\"1.2\" name=\"{}\">\n"
      "  <farm-global-disks>\n"
      "  </farm-global-disks>\n"
      "</farm>\n",
      xml_escape(name));
}

std::uint64_t FarmSource::total_mb() const {
  std::uint64_t total = 0;
  for (const plan::Volume& v : plan_.volumes) total += v.size_mb;
  return total;
}

const plan::Volume* FarmSource::volume(std::string_view disk) const {
  for (const plan::Volume& v : plan_.volumes)
    if (v.id == disk || (v.shared && v.id == fmt::format("global/{}", disk))) return &v;
  return nullptr;
}

const plan::Server* FarmSource::server(std::string_view name) const {
  for (const plan::Server& s : plan_.servers)
    if (s.name == name) return &s;
  return nullptr;
}

const fml::Tier* FarmSource::tier(std::string_view name) const {
  for (const fml::Tier& t : model_.tiers)
    if (t.name == name) return &t;
  return nullptr;
}

const fml::ServerRole* FarmSource::role_of_server(std::string_view server_name) const {
  const plan::Server* s = server(server_name);
  const fml::Tier* t = s != nullptr ? tier(s->tier) : nullptr;
  if (t == nullptr) return nullptr;
  for (const fml::ServerRole& r : model_.roles)
    if (r.id == t->role_id) return &r;
  return nullptr;
}

const fml::GlobalDisk* FarmSource::global_disk(std::string_view name) const {
  for (const fml::GlobalDisk& g : model_.globals)
    if (g.global_name == name) return &g;
  return nullptr;
}

bool FarmSource::tier_declares_max(const fml::Tier& tier) const {
  XmlTextEdit edit(text_, doc_);
  std::uint32_t e = edit.element_at(tier.pos);
  return e != UINT32_MAX && edit.child_named(e, "max-servers") != UINT32_MAX;
}

int FarmSource::copies(const plan::Volume& volume) const {
  if (volume.shared) return 1;
  const fml::ServerRole* role = role_of_server(volume.server);
  if (role == nullptr) return 1;
  int n = 0;
  for (const plan::Server& s : plan_.servers)
    if (const fml::ServerRole* r = role_of_server(s.name); r != nullptr && r->id == role->id) ++n;
  return std::max(n, 1);
}

int FarmSource::free_target(const fml::ServerRole& role) const {
  std::set<int> used;
  for (const fml::PrivateDisk& d : role.disks) used.insert(d.target);
  for (const fml::SharedDisk& s : role.shared) used.insert(s.target);
  for (int t = 1; t <= 255; ++t)
    if (!used.count(t)) return t;
  return -1;
}

std::string FarmSource::protocol_of(const fml::ServerRole& role) const {
  for (const plan::Server& s : plan_.servers) {
    const fml::ServerRole* r = role_of_server(s.name);
    if (r == nullptr || r->id != role.id) continue;
    for (const plan::Export& e : plan_.exports)
      if (e.server == s.name) return e.protocol;
  }
  return "scsi";
}

std::string FarmSource::with_disk_size(const plan::Volume& volume, std::uint64_t size_mb) const {
  fml::Position pos;
  if (volume.shared) {
    const fml::GlobalDisk* g = global_disk(std::string_view(volume.id).substr(7));  // after "global/"
    if (g == nullptr) throw FarmEditError(fmt::format("farm {} has no global disk for {}", plan_.farm, volume.id));
    pos = g->spec.pos;
  } else {
    const fml::ServerRole* role = role_of_server(volume.server);
    const fml::PrivateDisk* disk = nullptr;
    if (role != nullptr) {
      int target = -1;
      for (const plan::Export& e : plan_.exports)
        if (e.volume == volume.id) target = e.target;
      for (const fml::PrivateDisk& d : role->disks)
        if (d.target == target) disk = &d;
    }
    if (disk == nullptr) throw FarmEditError(fmt::format("farm {}: cannot find the disk behind {}", plan_.farm, volume.id));
    pos = disk->spec.pos;
  }
  XmlTextEdit edit(text_, doc_);
  std::uint32_t e = edit.element_at(pos);
  if (e == UINT32_MAX) throw FarmEditError(fmt::format("farm {}: cannot find the element of {}", plan_.farm, volume.id));
  return edit.replace_attribute_value(e, "drivesize", size_text(size_mb));
}

std::string FarmSource::with_tier_servers(const fml::Tier& tier, int servers) const {
  XmlTextEdit edit(text_, doc_);
  std::uint32_t e = edit.element_at(tier.pos);
  if (e == UINT32_MAX) throw FarmEditError(fmt::format("farm {}: cannot find tier {}", plan_.farm, tier.name));
  std::uint32_t init = edit.child_named(e, "init-servers");
  if (init != UINT32_MAX) return edit.replace_text(init, std::to_string(servers));
  return edit.append_child(e, fmt::format("<init-servers>{}</init-servers>", servers));
}

std::string FarmSource::with_global_disk(std::string_view name, std::uint64_t size_mb, std::string_view drivetype,
                                         std::optional<std::string> raid) const {
  if (model_.fml_version == "1.1")
    throw FarmEditError(fmt::format("farm {} is FML 1.1, which has no global disks; raise its fmlversion to 1.2",
                                    plan_.farm));
  std::string element = fmt::format("<global-disk global-name=\"{}\" drivesize=\"{}\"", xml_escape(name),
                                    size_text(size_mb));
  if (!drivetype.empty()) element += fmt::format(" drivetype=\"{}\"", xml_escape(drivetype));
  if (raid)
    element += fmt::format(">\n  <attribute name=\"raid-level\" value=\"{}\"/>\n</global-disk>", xml_escape(*raid));
  else
    element += "/>";
  XmlTextEdit edit(text_, doc_);
  std::uint32_t globals = edit.child_named(0, "farm-global-disks");
  if (globals != UINT32_MAX) return edit.append_child(globals, element);
  std::string indented;  // one step in, inside the new <farm-global-disks>
  for (char c : element) indented += c == '\n' ? std::string("\n  ") : std::string(1, c);
  return edit.append_child(0, fmt::format("<farm-global-disks>\n  {}\n</farm-global-disks>", indented));
}

std::string FarmSource::with_shared_disk(const fml::ServerRole& role, std::string_view global_name, int target,
                                         std::string_view protocol) const {
  if (model_.fml_version == "1.1")
    throw FarmEditError(fmt::format("farm {} is FML 1.1, which has no shared disks", plan_.farm));
  XmlTextEdit edit(text_, doc_);
  std::uint32_t e = edit.element_at(role.pos);
  if (e == UINT32_MAX) throw FarmEditError(fmt::format("farm {}: cannot find server-role {}", plan_.farm, role.name));
  return edit.append_child(e, fmt::format("<shared-disk global-name=\"{}\" target=\"{}\" drivetype=\"{}\"/>",
                                          xml_escape(global_name), target, xml_escape(protocol)));
}

}  // namespace farmctl::service
