#include "compiler/source_map.h"

#include <algorithm>

namespace farmctl::fml {

SourceMap::SourceMap(std::string_view source) : source_(source) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < source.size(); ++i)
    if (source[i] == '\n') line_starts_.push_back(i + 1);
}

Position SourceMap::position(std::size_t offset) const {
  offset = std::min(offset, source_.size());
  // A parse asks about offsets on the line it asked about last, or the next
  // one: those are tried before a search over every line of the source.
  auto on_line = [&](std::size_t line) {
    return line >= 1 && line <= line_starts_.size() && line_starts_[line - 1] <= offset &&
           (line == line_starts_.size() || offset < line_starts_[line]);
  };
  std::size_t line = cached_position_line_;  // 1-based
  if (!on_line(line)) {
    if (on_line(line + 1)) {
      ++line;
    } else {
      auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
      line = static_cast<std::size_t>(it - line_starts_.begin());
    }
    cached_position_line_ = line;
  }
  return {static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
}

std::size_t SourceMap::offset_of_char_column(int line, int char_col) const {
  if (line < 1) return 0;
  if (static_cast<std::size_t>(line) > line_starts_.size()) return source_.size();
  std::size_t offset = line_starts_[line - 1];
  int c = 1;
  // The parser asks for positions in increasing order; walking on from the
  // last answer keeps a document written on one long line linear, not quadratic.
  if (line == cached_line_ && char_col >= cached_char_col_) {
    offset = cached_offset_;
    c = cached_char_col_;
  }
  for (; c < char_col && offset < source_.size() && source_[offset] != '\n'; ++c) {
    ++offset;
    // skip UTF-8 continuation bytes: one character, one column
    while (offset < source_.size() && (static_cast<unsigned char>(source_[offset]) & 0xC0) == 0x80) ++offset;
  }
  cached_line_ = line;
  cached_char_col_ = c;
  cached_offset_ = offset;
  return offset;
}

}  // namespace farmctl::fml
