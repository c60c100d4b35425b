#pragma once
// A stored farm's source understood: compiled (Plan IR), analyzed (the farm
// model with source positions) and parsed (the XML tree), for the questions
// work orders ask — does this disk, server or tier exist, how much storage
// does the farm take — and for the edits they make. An edit returns the new
// FML text, changed only where it must be (xml_text_edit.h); the caller
// compiles it again (FarmSource::parse) before storing it, so an edit can
// never store a farm the compiler would refuse.
//
// The compiler is not written for concurrent use, so parse() serializes it.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/farm_model.h"
#include "compiler/plan_ir.h"
#include "compiler/xml_document.h"

namespace farmctl::service {

// The farm does not compile; what() holds the rendered diagnostics.
class FarmSourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An edit that cannot be made to this farm (no such tier, a 1.1 farm has no
// global disks, ...): a full sentence for the order's submitter.
class FarmEditError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class FarmSource {
 public:
  // `name` is the farm's name (the default when <farm> has no name attribute).
  static std::shared_ptr<const FarmSource> parse(std::string fml, std::string_view name);
  // The text of a new farm holding only global disks (storage allocated to an
  // account before any server uses it).
  static std::string new_storage_farm(std::string_view name);

  const std::string& text() const { return text_; }
  const plan::Plan& plan() const { return plan_; }
  const fml::Farm& model() const { return model_; }
  std::uint64_t total_mb() const;  // every volume the farm asks for, each server's copy counted

  // Lookups; nullptr when there is none.
  // `disk`: "global/NAME" or NAME for a global disk, "SERVER/tN" for a server's disk.
  const plan::Volume* volume(std::string_view disk) const;
  const plan::Server* server(std::string_view name) const;
  const fml::Tier* tier(std::string_view name) const;
  const fml::ServerRole* role_of_server(std::string_view server) const;
  const fml::GlobalDisk* global_disk(std::string_view name) const;
  bool tier_declares_max(const fml::Tier& tier) const;
  // How many servers get a copy of `volume` (1 for a global disk).
  int copies(const plan::Volume& volume) const;
  // The lowest SCSI target from 1 up that no disk of the role uses; -1 if none.
  int free_target(const fml::ServerRole& role) const;
  // The access path the role's disks use ("scsi" when it has none).
  std::string protocol_of(const fml::ServerRole& role) const;

  // Edits. Each throws FarmEditError when it cannot be made.
  std::string with_disk_size(const plan::Volume& volume, std::uint64_t size_mb) const;
  std::string with_tier_servers(const fml::Tier& tier, int servers) const;
  std::string with_global_disk(std::string_view name, std::uint64_t size_mb, std::string_view drivetype,
                               std::optional<std::string> raid) const;
  std::string with_shared_disk(const fml::ServerRole& role, std::string_view global_name, int target,
                               std::string_view protocol) const;

 private:
  std::string text_;
  fml::XmlDocument doc_;
  fml::Farm model_;
  plan::Plan plan_;
};

}  // namespace farmctl::service
