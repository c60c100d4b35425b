#pragma once
// Storage node identifiers: one name for a volume (a "storage node") across
// vendors, VENDOR__MODEL__SERIAL__DEVICEID, as the original storage delivery
// service normalised them. Each driver family ships a translation file
// (runtime/translations/FAMILY.ids, compiled in) that says how the vendor's
// own identifiers make the four parts; the format is in
// docs/design/storage-node-ids.md:
//
//   # comment
//   vendor = IET                 literal text and {field} placeholders;
//   model  = VIRTUAL-DISK        {a|b} is a, or b when a is empty
//   serial = {serial|array}
//   device = {volume}
//
// Fields: array (the array's name), model and serial (the wiring map's),
// volume (the array's volume id). Each part is upper-cased and every
// character but A-Z, 0-9, '.' and '-' becomes '-', so a part never holds the
// "__" that separates them; an empty part is "-".
#include <array>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace farmctl::runtime {

struct DeviceRow;

// A translation file that cannot be read: "FILE:LINE: what".
class TranslationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a storage node is known by before translation.
struct NodeFacts {
  std::string array;
  std::string model;
  std::string serial;
  std::string volume;
};

class NodeIdTranslation {
 public:
  // Throws TranslationError for an unknown key or field, a key given twice
  // or missing, or a brace left open.
  static NodeIdTranslation parse(std::string_view text, std::string_view file_name);
  std::string identify(const NodeFacts& facts) const;

 private:
  // A part: literal text, or a placeholder's alternatives (fields).
  struct Piece {
    std::string literal;
    std::vector<std::string> fields;
  };
  std::array<std::vector<Piece>, 4> parts_;  // vendor, model, serial, device
};

// The translation of a driver family: its own file, or default.ids.
const NodeIdTranslation& node_id_translation(std::string_view family);
// The identifier of `volume` on `array`, by the array's driver family.
std::string storage_node_id(const DeviceRow& array, std::string_view volume);
// One part as the identifier holds it (upper case, A-Z 0-9 . -).
std::string normalise_id_part(std::string_view text);

// The files compiled in: (family, text). Generated from translations/*.ids.
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_translation_files();

}  // namespace farmctl::runtime
