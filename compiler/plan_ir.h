#pragma once
// The Plan IR: what a farm file asks for, independent of any inventory.
// Produced by lowering (lowering.h), consumed by the reconciler, printed by
// `farmctl compile`. Its JSON form is documented in docs/plan-ir.md and is a
// stable interface (format_version 1): fields are only ever added.
//
// Ids: a private disk is "SERVER/tTARGET" (web-0/t0), a global disk is
// "global/GLOBAL-NAME"; a server is "TIERNAME-INDEX".
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/values.h"

namespace farmctl::json {
class Writer;
}  // namespace farmctl::json

namespace farmctl::plan {

inline constexpr int kFormatVersion = 1;

struct Image {
  std::string type;  // "system" or "data"
  std::string name;
  bool operator==(const Image&) const = default;
};

struct Server {
  std::string name;  // TIERNAME-INDEX
  std::string tier;
  std::string role;  // the server-role's name
  std::string hw;
  int index = 0;
  int line = 0;  // source line of the tier (not serialised)
  bool npiv = false;  // serialised only when true, so older dumps stay as they are
};

struct Volume {
  std::string id;
  std::uint64_t size_mb = 0;
  bool shared = false;
  std::string cls = "std";  // quality class
  std::optional<std::string> raid;  // "0","1","5","6","10","0+1"
  std::optional<Image> image;
  std::vector<fml::BackupPolicy> backup;
  std::optional<std::string> drivename;
  std::map<std::string, std::string> attributes;  // other <attribute>s, kept as metadata
  std::string server;  // owner for a private disk, empty for a global one
  int line = 0;        // source line of the declaring element (not serialised)
};

struct Export {
  std::string volume;
  std::string server;
  int target = 0;
  std::string protocol;  // "scsi", "fc" or "iscsi"
  int line = 0;          // not serialised
};

struct Plan {
  std::string farm;
  std::string fml_version;
  std::vector<Server> servers;  // tiers in document order, then index
  std::vector<Volume> volumes;  // global disks first (document order), then per server by target
  std::vector<Export> exports;  // per server, by target
};

// The items as views of what they are made from: lowering makes them from
// the farm without a string of their own, and writes a large plan's JSON
// from them without making the plan's objects (lowering.h).
struct ServerView {
  std::string_view name, tier, role, hw;
  int index = 0;
  int line = 0;
  bool npiv = false;
};
struct VolumeView {
  std::string_view id;
  std::uint64_t size_mb = 0;
  bool shared = false;
  std::string_view cls;
  std::optional<std::string_view> raid;
  const Image* image = nullptr;
  const std::vector<fml::BackupPolicy>* backup = nullptr;  // written in order of level
  std::optional<std::string_view> drivename;
  const std::map<std::string, std::string>* attributes = nullptr;
  std::string_view server;
  int line = 0;
};
struct ExportView {
  std::string_view volume, server;
  int target = 0;
  std::string_view protocol;
  int line = 0;
};
Server to_server(const ServerView& s);
Volume to_volume(const VolumeView& v);
Export to_export(const ExportView& e);

// JSON with each server, volume and export on a line of its own
// (docs/plan-ir.md), byte-for-byte deterministic, ending in a newline.
// (farmctl compile writes the same bytes straight from the checked farm:
// lowering.h, write_plan_json.)
std::string to_json(const Plan& plan);

// One item of the JSON's servers, volumes or exports, as to_json writes it,
// on one line, where `w` stands in one of those lists (for writers that make
// the plan's JSON in pieces: lowering.h).
void write_item(json::Writer& w, const ServerView& s);
void write_item(json::Writer& w, const VolumeView& v);
void write_item(json::Writer& w, const ExportView& e);

// A compact line-per-item dump for humans and table-driven tests:
//   farm web-prod fml 1.2
//   server Server1-0 tier=Server1 role=Server1 hw=cpu-sun4u-x4
//   volume Server1-0/t0 8631MB std raid=- image=system:solaris backup=[0:nightly:7]
//   export Server1-0/t0 -> Server1-0 t0 scsi
std::string to_text(const Plan& plan);

}  // namespace farmctl::plan
