#pragma once
// Diagnostics of the FML compiler: what went wrong, where, and how to say it.
//
// Rendered as
//   farm.fml:12:17: error: bad size '12XB': unknown unit 'XB' (...) [FML010]
//     <disk drivesize="12XB"/>
//                      ^
// Tests compare whole rendered strings, so the format is part of the contract
// (docs/fml.md, "Diagnostics").
#include <string>
#include <string_view>
#include <vector>

namespace farmctl::fml {

// Stable codes; documented in docs/fml.md. Never renumber, only add.
enum class Code {
  malformed_xml = 1,        // FML001
  doctype_refused = 2,      // FML002
  unknown_element = 3,      // FML003
  unknown_attribute = 4,    // FML004
  missing_attribute = 5,    // FML005
  bad_structure = 6,        // FML006: element in the wrong place, wrong count
  old_style_syntax = 7,     // FML007: commas between attributes, "/shared-disk>"
  bad_size = 10,
  bad_target = 11,
  bad_drivetype = 12,
  bad_raid = 13,
  bad_backup_policy = 14,
  bad_number = 15,
  bad_value = 16,
  bad_version = 17,
  duplicate_id = 20,
  duplicate_name = 21,
  duplicate_global_name = 22,
  unknown_role = 23,
  unknown_subnet = 24,
  unknown_global_name = 25,
  target_collision = 30,
  system_disk_target_taken = 31,
  no_free_target = 32,
  needs_newer_version = 40,
  server_counts_out_of_order = 41,
  duplicate_backup_level = 42,
  plan_too_large = 43,      // the plan would exceed farmctl's size limit
  unused = 50,              // warnings about things declared and never used
  io = 90,                  // the file could not be read
};

enum class Severity { error, warning };

struct Position {
  int line = 0;  // 1-based; 0 = no position (whole file)
  int col = 0;   // 1-based, in bytes
};

struct Diagnostic {
  Code code;
  Severity severity = Severity::error;
  Position pos;
  std::string message;
};

// The diagnostics of one source file, kept in file order.
class DiagnosticList {
 public:
  void error(Code code, Position pos, std::string message);
  void warning(Code code, Position pos, std::string message);
  // Every diagnostic of `other`, after these.
  void append(const DiagnosticList& other);
  bool has_errors() const;
  int error_count() const;
  // Stable sort by position, so checks may run in any order yet report in file order.
  void sort_by_position();
  const std::vector<Diagnostic>& items() const { return items_; }

 private:
  std::vector<Diagnostic> items_;
};

std::string code_name(Code code);  // "FML010"

// Renders every diagnostic with its source line and a caret. A line longer
// than 200 bytes is shown as a window of about 160 bytes around the caret,
// cut with "...".
std::string render(const DiagnosticList& list, std::string_view file_name, std::string_view source);
std::string render(const Diagnostic& d, std::string_view file_name, std::string_view source);

// A name as messages quote it: cut to 64 bytes plus "..." when longer, so a
// message that quotes a name stays short even when the name is huge and the
// message is repeated for every disk of a role.
inline constexpr std::size_t kLongestShownName = 64;
std::string shown(std::string_view name);

}  // namespace farmctl::fml
