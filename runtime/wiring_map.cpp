// Reading and checking a wiring map. The XML is read by the compiler's safe
// reader against the embedded wiring schema; this file checks the values and
// references and builds the WiringMap.
#include "runtime/wiring_map.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "compiler/embedded_schema.h"
#include "compiler/values.h"
#include "compiler/xml_reader.h"

namespace farmctl::runtime {

using fml::Code;
using fml::Position;
using fml::XmlAttribute;
using fml::XmlElement;

bool is_valid_wwn(std::string_view wwn) {
  if (wwn.size() != 23) return false;
  for (std::size_t i = 0; i < wwn.size(); ++i) {
    bool colon_place = i % 3 == 2;
    if (colon_place ? wwn[i] != ':' : !std::isxdigit(static_cast<unsigned char>(wwn[i]))) return false;
  }
  return true;
}

std::uint64_t wwn_value(std::string_view wwn) {
  std::uint64_t value = 0;
  for (char c : wwn) {
    if (c == ':') continue;
    auto u = static_cast<unsigned char>(c);
    int digit = std::isdigit(u) ? c - '0' : std::tolower(u) - 'a' + 10;
    value = value << 4 | static_cast<std::uint64_t>(digit);
  }
  return value;
}

std::string wwn_text(std::uint64_t value) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8)
    out += fmt::format("{}{:02x}", out.empty() ? "" : ":", (value >> shift) & 0xff);
  return out;
}

bool is_valid_iqn(std::string_view iqn) {
  // iqn.YYYY-MM.reversed.domain[:suffix]
  if (iqn.size() < 13 || iqn.size() > 223 || iqn.substr(0, 4) != "iqn.") return false;
  auto digit = [&](std::size_t i) { return std::isdigit(static_cast<unsigned char>(iqn[i])) != 0; };
  if (!(digit(4) && digit(5) && digit(6) && digit(7) && iqn[8] == '-' && digit(9) && digit(10) && iqn[11] == '.'))
    return false;
  int month = (iqn[9] - '0') * 10 + (iqn[10] - '0');
  if (month < 1 || month > 12) return false;
  std::string_view rest = iqn.substr(12);
  std::string_view domain = rest.substr(0, rest.find(':'));
  if (domain.empty() || domain.front() == '.' || domain.back() == '.') return false;
  for (char c : rest) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '.' || c == '-' || c == ':')) return false;
    if (std::isupper(u)) return false;  // RFC 3720: names are lower case
  }
  return true;
}

namespace {

class WiringReader {
 public:
  explicit WiringReader(fml::DiagnosticList& diags) : diags_(diags) {}

  // One child of the root, as soon as the parse has read it (in file order).
  // `clean`: nothing before it broke the schema; only then is a device handed
  // to `device_read`, which may start using it at once.
  void read_top(const fml::XmlDocument& doc, const XmlElement& e, bool clean, const DeviceRead& device_read) {
    doc_ = &doc;
    if (doc.root().name != "wiring-map") return;  // said by finish()
    std::size_t devices = map_.devices.size();
    read_top(e);
    if (clean && device_read && !diags_.has_errors() && map_.devices.size() > devices)
      device_read(map_.devices.back());
  }

  // A <volume> is read as its start tag is, and kept in no element tree (a
  // large map has a million); read_device takes those of its device.
  bool take(const fml::XmlDocument& doc, const XmlElement& parent, const XmlElement& e) {
    if (e.name != "volume" || doc.root().name != "wiring-map") return false;
    if (&parent != volumes_of_) {
      volumes_of_ = &parent;
      volumes_.clear();
      volume_id_pos_.clear();
    }
    const XmlAttribute* id = e.attribute("id");
    volume_id_pos_.push_back(id != nullptr ? id->value_pos : e.pos);
    std::string bcv = attr(e, "bcv", "no");
    volumes_.push_back(
        {attr(e, "id"), size_of(e), class_of(e), raid_of(e), bcv == "yes" || bcv == "true" || bcv == "1"});
    return true;
  }

  // The whole document has been read and read_top told each child of the root.
  std::optional<WiringMap> finish(const fml::XmlDocument& doc) {
    doc_ = &doc;
    const XmlElement& root = doc_->root();
    if (root.name != "wiring-map") {
      diags_.error(Code::unknown_element, root.pos,
                   fmt::format("the root element must be <wiring-map>, not <{}>", root.name));
      return std::nullopt;
    }
    check_references();
    check_npiv_ranges();
    if (diags_.has_errors()) return std::nullopt;
    return std::move(map_);
  }

 private:
  std::string attr(const XmlElement& e, std::string_view name, std::string fallback = {}) {
    const XmlAttribute* a = e.attribute(name);
    return a != nullptr ? a->value : fallback;
  }

  std::uint64_t size_of(const XmlElement& e) {
    const XmlAttribute* a = e.attribute("size");
    if (a == nullptr) return 0;
    // A large map spells its million sizes a few ways ("8GB"): each is parsed
    // once (the size grammar cost a tenth of the parse).
    if (auto known = sizes_.find(a->value); known != sizes_.end()) return known->second;
    auto size = fml::parse_size_mb(a->value);
    if (!size) {
      diags_.error(Code::bad_size, {a->value_pos.line, a->value_pos.col + static_cast<int>(size.error().offset)},
                   size.error().message);
      return 0;
    }
    if (sizes_.size() < kSizesKept) sizes_.emplace(a->value, *size);
    return *size;
  }

  std::string class_of(const XmlElement& e) {
    const XmlAttribute* a = e.attribute("type");
    if (a == nullptr) return "std";
    auto t = fml::parse_drivetype(a->value);
    if (t)
      if (auto* cls = std::get_if<fml::QualityClass>(&*t)) return std::string(fml::to_string(*cls));
    diags_.error(Code::bad_value, a->value_pos,
                 fmt::format("bad type '{}': must be a quality class (std, raid, performance, spindle, bandwidth "
                             "or other)",
                             a->value));
    return "std";
  }

  std::optional<std::string> raid_of(const XmlElement& e) {
    const XmlAttribute* a = e.attribute("raid");
    if (a == nullptr) return std::nullopt;
    auto r = fml::parse_raid_level(a->value);
    if (!r) {
      diags_.error(Code::bad_raid, a->value_pos, r.error().message);
      return std::nullopt;
    }
    return std::string(fml::to_string(*r));
  }

  std::optional<std::string> wwn_of(const XmlElement& e) {
    const XmlAttribute* a = e.attribute("wwn");
    if (a == nullptr) return std::nullopt;
    if (!is_valid_wwn(a->value))
      diags_.error(Code::bad_value, a->value_pos,
                   fmt::format("bad WWN '{}': write 8 colon-separated hex bytes, e.g. 50:06:04:8a:cc:c8:3b:00",
                               a->value));
    std::string lower = a->value;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower;
  }

  std::optional<std::string> iqn_of(const XmlElement& e) {
    const XmlAttribute* a = e.attribute("iqn");
    if (a == nullptr) return std::nullopt;
    if (!is_valid_iqn(a->value))
      diags_.error(Code::bad_value, a->value_pos,
                   fmt::format("bad IQN '{}': RFC 3720 names look like iqn.2026-11.org.example:host1 (lower case)",
                               a->value));
    return a->value;
  }

  // `array`: the array the name must be unique on, for the message (built
  // only when there is one to give: a map has a million volume ids).
  template <class Names>
  void unique(Names& seen, const XmlElement& e, std::string_view key_attr, std::string_view what,
              std::string_view array = {}) {
    const XmlAttribute* a = e.attribute(key_attr);
    if (a != nullptr && !seen.emplace(a->value).second)
      diags_.error(Code::duplicate_name, a->value_pos,
                   array.empty() ? fmt::format("duplicate {} '{}'", what, a->value)
                                 : fmt::format("duplicate {} on array {} '{}'", what, array, a->value));
  }

  // A volume id repeated on one array, at each repeat after the first in
  // the document. Found in the order by id that the import needs anyway: a
  // set of a million ids to check them as they were read cost a tenth of
  // the parse.
  void report_duplicate_volume_ids(const WiredDevice& d, const std::vector<Position>& id_positions) {
    for (std::size_t k = 1; k < d.volumes_by_id.size(); ++k) {
      std::uint32_t previous = d.volumes_by_id[k - 1], current = d.volumes_by_id[k];
      const std::string& id = d.volumes[current].id;
      if (id.empty() || id != d.volumes[previous].id || current >= id_positions.size()) continue;
      diags_.error(Code::duplicate_name, id_positions[current],
                   fmt::format("duplicate volume id on array {} '{}'", d.name, id));
    }
  }

  void read_top(const XmlElement& e) {
    if (e.name == "array" || e.name == "gateway" || e.name == "fabric") {
      unique(device_names_, e, "name", "device name");
      read_device(e);
    } else if (e.name == "image") {
      unique(image_names_, e, "name", "image name");
      map_.images.push_back({attr(e, "name"), size_of(e), attr(e, "array")});
      image_elements_.push_back(&e);
    } else if (e.name == "host") {
      unique(host_names_, e, "name", "host name");
      read_host(e);
    }
  }

  void read_device(const XmlElement& e) {
    WiredDevice d;
    d.kind = e.name;
    d.line = e.pos.line;
    static const std::set<std::string> kCommon{"name", "driver", "model", "serial", "protocols", "san"};
    for (const XmlAttribute& a : e.attributes) {
      if (!kCommon.count(a.name)) d.attributes[a.name] = a.value;
    }
    d.name = attr(e, "name");
    d.driver = attr(e, "driver");
    d.model = attr(e, "model");
    d.serial = attr(e, "serial");
    d.san = attr(e, "san");
    read_protocols(e, d);
    std::set<std::string> port_ids, pool_names;
    std::vector<Position> id_positions;
    if (volumes_of_ == &e) {
      d.volumes = std::move(volumes_);
      volumes_ = {};
      id_positions = std::move(volume_id_pos_);
      volume_id_pos_ = {};
      volumes_of_ = nullptr;
    }
    for (std::uint32_t c : e.children) {
      const XmlElement& child = doc_->at(c);
      if (child.name == "port") {
        unique(port_ids, child, "id", "port id", d.name);
        d.ports.push_back({attr(child, "id"), wwn_of(child), iqn_of(child), attr(child, "san"),
                           attr(child, "type", "front-end")});
        if (!d.ports.back().wwn && !d.ports.back().iqn)
          diags_.error(Code::missing_attribute, child.pos, "<port> needs a 'wwn' (fibre channel) or an 'iqn' (iSCSI)");
        port_elements_.push_back(&child);
      } else if (child.name == "npiv-range") {
        read_npiv_range(child, d);
      } else if (child.name == "pool") {
        unique(pool_names, child, "name", "pool name", d.name);
        d.pools.push_back({attr(child, "name"), size_of(child), class_of(child), raid_of(child)});
      }
    }
    d.volumes_by_id.resize(d.volumes.size());
    for (std::uint32_t i = 0; i < d.volumes_by_id.size(); ++i) d.volumes_by_id[i] = i;
    std::sort(d.volumes_by_id.begin(), d.volumes_by_id.end(), [&](std::uint32_t a, std::uint32_t b) {
      return d.volumes[a].id < d.volumes[b].id || (d.volumes[a].id == d.volumes[b].id && a < b);
    });
    report_duplicate_volume_ids(d, id_positions);
    device_elements_.push_back(&e);
    map_.devices.push_back(std::move(d));
  }

  // A range's ends must be WWNs, in order; check_npiv_ranges compares ranges.
  void read_npiv_range(const XmlElement& e, WiredDevice& d) {
    const XmlAttribute* first = e.attribute("first");
    const XmlAttribute* last = e.attribute("last");
    for (const XmlAttribute* a : {first, last})
      if (a != nullptr && !is_valid_wwn(a->value))
        diags_.error(Code::bad_value, a->value_pos,
                     fmt::format("bad WWN '{}' in <npiv-range>: write 8 colon-separated hex bytes", a->value));
    if (first == nullptr || last == nullptr || !is_valid_wwn(first->value) || !is_valid_wwn(last->value)) return;
    if (wwn_value(first->value) > wwn_value(last->value)) {
      diags_.error(Code::bad_value, e.pos,
                   fmt::format("<npiv-range> on fabric {} ends ({}) before it starts ({})", d.name, last->value,
                               first->value));
      return;
    }
    d.npiv_ranges.push_back({wwn_text(wwn_value(first->value)), wwn_text(wwn_value(last->value))});
    npiv_elements_.push_back({&e, d.npiv_ranges.back(), d.name});
  }

  // No two ranges overlap (a WWPN has one owner), and no range holds a WWN
  // the map gives a host's physical initiator or an array port.
  void check_npiv_ranges() {
    for (std::size_t i = 0; i < npiv_elements_.size(); ++i) {
      const auto& [e, range, fabric] = npiv_elements_[i];
      std::uint64_t lo = wwn_value(range.first), hi = wwn_value(range.last);
      for (std::size_t j = 0; j < i; ++j) {
        const auto& [oe, other, ofabric] = npiv_elements_[j];
        if (wwn_value(other.first) <= hi && lo <= wwn_value(other.last))
          diags_.error(Code::bad_value, e->pos,
                       fmt::format("<npiv-range> {}..{} on fabric {} overlaps {}..{} on fabric {} (line {})",
                                   range.first, range.last, fabric, other.first, other.last, ofabric,
                                   oe->pos.line));
      }
      auto inside = [&](const std::optional<std::string>& wwn) {
        return wwn && wwn_value(*wwn) >= lo && wwn_value(*wwn) <= hi;
      };
      for (const WiredHost& h : map_.hosts)
        for (const WiredInitiator& in : h.initiators)
          if (inside(in.wwn))
            diags_.error(Code::bad_value, e->pos,
                         fmt::format("<npiv-range> {}..{} on fabric {} holds {}, the initiator of host {}",
                                     range.first, range.last, fabric, *in.wwn, h.name));
      for (const WiredDevice& d : map_.devices)
        for (const WiredPort& p : d.ports)
          if (inside(p.wwn))
            diags_.error(Code::bad_value, e->pos,
                         fmt::format("<npiv-range> {}..{} on fabric {} holds {}, port {} of {}", range.first,
                                     range.last, fabric, *p.wwn, p.id, d.name));
    }
  }

  void read_protocols(const XmlElement& e, WiredDevice& d) {
    const XmlAttribute* a = e.attribute("protocols");
    if (a == nullptr) return;
    std::istringstream words(a->value);
    for (std::string p; words >> p;) {
      if (p != "fc" && p != "iscsi" && p != "scsi")
        diags_.error(Code::bad_value, a->value_pos,
                     fmt::format("unknown protocol '{}' in protocols: farmctl knows fc, iscsi and scsi", p));
      d.protocols.push_back(p);
    }
  }

  void read_host(const XmlElement& e) {
    WiredHost h{attr(e, "name"), attr(e, "hw"), attr(e, "gateway"), {}};
    for (std::uint32_t c : e.children) {
      const XmlElement& child = doc_->at(c);
      WiredInitiator i{wwn_of(child), iqn_of(child), attr(child, "fabric")};
      if (i.wwn.has_value() == i.iqn.has_value())
        diags_.error(Code::bad_value, child.pos, "an <initiator> has exactly one of 'wwn' (fibre channel) and 'iqn' (iSCSI)");
      std::string key = i.wwn.value_or(i.iqn.value_or(""));
      if (!key.empty() && !initiator_names_.insert(key).second)
        diags_.error(Code::duplicate_name, child.pos, fmt::format("initiator '{}' is declared twice", key));
      if (i.wwn && i.fabric.empty())
        diags_.error(Code::missing_attribute, child.pos,
                     "a fibre-channel <initiator> needs the 'fabric' it is attached to");
      h.initiators.push_back(std::move(i));
      initiator_elements_.push_back(&child);
    }
    host_elements_.push_back(&e);
    map_.hosts.push_back(std::move(h));
  }

  const WiredDevice* device(const std::string& name) const {
    for (const WiredDevice& d : map_.devices)
      if (d.name == name) return &d;
    return nullptr;
  }

  void expect_device(const std::string& name, std::string_view kind, const XmlElement& e, std::string_view attr_name) {
    if (name.empty()) return;
    const WiredDevice* d = device(name);
    if (d != nullptr && d->kind == kind) return;
    const XmlAttribute* a = e.attribute(attr_name);
    diags_.error(Code::unknown_global_name, a != nullptr ? a->value_pos : e.pos,
                 d == nullptr ? fmt::format("{} '{}' is not declared in this map", kind, name)
                              : fmt::format("'{}' is a {}, not a {}", name, d->kind, kind));
  }

  void check_references() {
    for (std::size_t i = 0; i < map_.images.size(); ++i)
      expect_device(map_.images[i].array, "array", *image_elements_[i], "array");
    for (std::size_t i = 0; i < map_.devices.size(); ++i)
      if (map_.devices[i].kind == "gateway") expect_device(map_.devices[i].san, "fabric", *device_elements_[i], "san");
    for (const XmlElement* p : port_elements_) expect_device(attr(*p, "san"), "fabric", *p, "san");
    for (std::size_t i = 0; i < map_.hosts.size(); ++i)
      expect_device(map_.hosts[i].gateway, "gateway", *host_elements_[i], "gateway");
    for (const XmlElement* i : initiator_elements_) expect_device(attr(*i, "fabric"), "fabric", *i, "fabric");
  }

  const fml::XmlDocument* doc_ = nullptr;
  fml::DiagnosticList& diags_;
  static constexpr std::size_t kSizesKept = 1024;
  std::unordered_map<std::string, std::uint64_t> sizes_;  // size_of's parses, by their text
  const XmlElement* volumes_of_ = nullptr;  // the device whose <volume>s take() is reading
  std::vector<WiredVolume> volumes_;
  std::vector<Position> volume_id_pos_;  // of each of volumes_, for a duplicate id
  WiringMap map_;
  std::set<std::string> device_names_, image_names_, host_names_, initiator_names_;
  struct NpivElement {
    const XmlElement* element;
    WiredNpivRange range;
    std::string fabric;
  };
  std::vector<NpivElement> npiv_elements_;
  std::vector<const XmlElement*> device_elements_, image_elements_, port_elements_, host_elements_,
      initiator_elements_;
};

}  // namespace

WiringParseResult parse_wiring_map_source(fml::SourceText source, std::string file_name,
                                          const DeviceRead& device_read, WiringRead how) {
  WiringParseResult result;
  result.source = std::move(source);
  result.file_name = std::move(file_name);
  // The reader's own findings count only for a document the schema accepts
  // (as when it ran after the parse): held apart until then.
  fml::DiagnosticList own;
  WiringReader reader(own);
  fml::TopElementClosed on_top_closed = [&](const fml::XmlDocument& d, std::uint32_t element, bool clean) {
    reader.read_top(d, d.at(element), clean, device_read);
  };
  fml::TakeElement take = [&](const fml::XmlDocument& d, const XmlElement& parent, const XmlElement& element) {
    return reader.take(d, parent, element);
  };
  std::optional<fml::XmlDocument> doc =
      how == WiringRead::against_outline
          ? fml::read_xml_document_against_outline(result.source, fml::embedded_wiring_schema(), on_top_closed, take)
          : fml::read_xml_document(result.source, fml::embedded_wiring_schema(), "wiring.xsd", result.diagnostics,
                                   on_top_closed, take);
  if (result.source.changed()) {
    // A mapped map rewritten in place while it was read (fml::SourceText):
    // what was read may mix two versions, and none of it is imported.
    result.diagnostics.error(Code::io, {}, std::string(fml::kChangedWhileRead));
  } else if (how == WiringRead::against_outline && !doc) {
    result.doubted = true;
    return result;
  } else if (doc && !result.diagnostics.has_errors()) {
    result.map = reader.finish(*doc);
    for (const fml::Diagnostic& d : own.items()) {
      if (d.severity == fml::Severity::error)
        result.diagnostics.error(d.code, d.pos, d.message);
      else
        result.diagnostics.warning(d.code, d.pos, d.message);
    }
  }
  result.diagnostics.sort_by_position();
  return result;
}

WiringParseResult parse_wiring_map_file(const std::string& path, const DeviceRead& device_read) {
  std::optional<fml::SourceText> text = fml::SourceText::of_file(path);
  if (!text) {
    WiringParseResult result;
    result.file_name = path;
    result.diagnostics.error(Code::io, {}, "cannot read the wiring map");
    return result;
  }
  return parse_wiring_map_source(std::move(*text), path, device_read);
}

}  // namespace farmctl::runtime
