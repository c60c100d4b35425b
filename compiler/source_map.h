#pragma once
// Converts between byte offsets in a source text and 1-based line/column
// positions (columns in bytes, as the diagnostics print them).
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "compiler/diagnostics.h"

namespace farmctl::fml {

// A copy shares the line table (built once) but keeps caches of its own, so
// that two threads reading pieces of one document each use a copy.
class SourceMap {
 public:
  explicit SourceMap(std::string_view source);
  Position position(std::size_t offset) const;
  // The offset of a position counted in characters, as XML parsers count
  // columns (a multi-byte UTF-8 sequence is one character).
  std::size_t offset_of_char_column(int line, int char_col) const;
  std::string_view source() const { return source_; }

 private:
  std::string_view source_;
  std::shared_ptr<const std::vector<std::size_t>> line_starts_;
  // The last answer of offset_of_char_column (a cache; not thread-safe, like
  // the parse that uses it).
  mutable int cached_line_ = 0;
  mutable int cached_char_col_ = 1;
  mutable std::size_t cached_offset_ = 0;
  mutable std::size_t cached_position_line_ = 1;  // position's last answer (1-based)
};

}  // namespace farmctl::fml
