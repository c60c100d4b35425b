#pragma once
// The wiring map (../shared/WIRING.md, docs/wiring.md): the storage hardware
// that exists — arrays with ports, pre-carved volumes and pools, master
// images, gateways, fabrics, hosts with initiators. parse_wiring_map reads
// and checks one; wiring_import.h loads it into the inventory.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/diagnostics.h"
#include "compiler/source_text.h"

namespace farmctl::runtime {

struct WiredPort {
  std::string id;
  std::optional<std::string> wwn;
  std::optional<std::string> iqn;
  std::string san;  // fabric name
  std::string type = "front-end";
};

struct WiredVolume {
  std::string id;
  std::uint64_t size_mb = 0;
  std::string cls = "std";
  std::optional<std::string> raid;
  bool bcv = false;
};

struct WiredPool {
  std::string name;
  std::uint64_t size_mb = 0;
  std::string cls = "std";
  std::optional<std::string> raid;
};

// NPIV: virtual WWPNs farmctl may hand out on a fabric, first..last inclusive.
struct WiredNpivRange {
  std::string first;
  std::string last;
};

struct WiredDevice {  // array, gateway or fabric
  std::string kind;   // "array", "gateway", "fabric"
  std::string name;
  std::string driver;
  std::string model;
  std::string serial;
  std::vector<std::string> protocols;  // arrays
  std::string san;                     // gateways
  std::map<std::string, std::string> attributes;  // driver-specific
  std::vector<WiredPort> ports;
  std::vector<WiredVolume> volumes;
  // `volumes` by id: their indices in id order, sorted by the parse (on its
  // own thread, off the import's); empty when the device was made otherwise.
  std::vector<std::uint32_t> volumes_by_id;
  std::vector<WiredPool> pools;
  std::vector<WiredNpivRange> npiv_ranges;  // fabrics
  int line = 0;
};

struct WiredImage {
  std::string name;
  std::uint64_t size_mb = 0;
  std::string array;
};

struct WiredInitiator {
  std::optional<std::string> wwn;
  std::optional<std::string> iqn;
  std::string fabric;
};

struct WiredHost {
  std::string name;
  std::string hw;
  std::string gateway;
  std::vector<WiredInitiator> initiators;
};

struct WiringMap {
  // In file order. A deque, so that a device stays where it is while the
  // parse adds the next ones (parse_wiring_map_source's `device_read`).
  std::deque<WiredDevice> devices;
  std::vector<WiredImage> images;
  std::vector<WiredHost> hosts;
};

struct WiringParseResult {
  std::optional<WiringMap> map;
  fml::DiagnosticList diagnostics;
  fml::SourceText source;
  std::string file_name;
  // Read against the schema's outline, which doubted it: no map, nothing
  // said; read it again validated (WiringRead).
  bool doubted = false;
  std::string rendered_diagnostics() const { return fml::render(diagnostics, file_name, source); }
};

// `device_read`, when given, is told (on the parsing thread) each device
// (<array>, <gateway>, <fabric>) as soon as it has been read, while nothing
// read so far is wrong: an import can load it while the rest is read. The
// device stays at that address in the map the parse returns (and in the
// WiringParseResult it is moved into). Being told is no promise: a later
// error can still leave the result without a map.
using DeviceRead = std::function<void(const WiredDevice&)>;
// How a map is read: with Xerces' validator, or first against the schema's
// outline (fml::read_xml_document_against_outline: a million-volume map's
// parse about a quarter shorter), which may come back `doubted`. Then what
// `device_read` was told is to be undone, and the map read validated.
enum class WiringRead { validated, against_outline };
WiringParseResult parse_wiring_map_source(fml::SourceText source, std::string file_name,
                                          const DeviceRead& device_read = DeviceRead(),
                                          WiringRead how = WiringRead::validated);
// The same, for a map's text in a string (tests, bench/apply_bench).
inline WiringParseResult parse_wiring_map_source(std::string source, std::string file_name,
                                                 const DeviceRead& device_read = DeviceRead(),
                                                 WiringRead how = WiringRead::validated) {
  return parse_wiring_map_source(fml::SourceText(std::move(source)), std::move(file_name), device_read, how);
}
WiringParseResult parse_wiring_map_file(const std::string& path, const DeviceRead& device_read = DeviceRead());

// RFC 3720 iSCSI qualified name (iqn.YYYY-MM.reversed.domain[:suffix]) and
// 8-byte colon-separated WWN checks, shared with other parts that take them.
bool is_valid_iqn(std::string_view iqn);
bool is_valid_wwn(std::string_view wwn);
// A valid WWN as a number (ranges compare them), and back in its text form.
std::uint64_t wwn_value(std::string_view wwn);
std::string wwn_text(std::uint64_t value);

}  // namespace farmctl::runtime
