#include "compiler/source_map.h"

#include <algorithm>
#include <cstring>

#include "compiler/xml_chars.h"

namespace farmctl::fml {
namespace {

bool all_ascii_on_one_line(std::string_view text) {
  return std::memchr(text.data(), '\n', text.size()) == nullptr && ascii_prefix(text) == text.size();
}

}  // namespace

SourceMap::SourceMap(std::string_view source) : source_(source) {
  auto line_starts = std::make_shared<std::vector<std::size_t>>();
  // Lines of farm files are some 35 bytes long: room for most at once.
  line_starts->reserve(source.size() / 32 + 16);
  line_starts->push_back(0);
  each_index_of(source, '\n', [&](std::size_t i) { line_starts->push_back(i + 1); });
  line_starts_ = std::move(line_starts);
}

Position SourceMap::position(std::size_t offset) const {
  const std::vector<std::size_t>& starts = *line_starts_;
  offset = std::min(offset, source_.size());
  // A parse asks about offsets on the line it asked about last, or the next
  // one: those are tried before a search over every line of the source.
  auto on_line = [&](std::size_t line) {
    return line >= 1 && line <= starts.size() && starts[line - 1] <= offset &&
           (line == starts.size() || offset < starts[line]);
  };
  std::size_t line = cached_position_line_;  // 1-based
  if (!on_line(line)) {
    if (on_line(line + 1)) {
      ++line;
    } else {
      auto it = std::upper_bound(starts.begin(), starts.end(), offset);
      line = static_cast<std::size_t>(it - starts.begin());
    }
    cached_position_line_ = line;
  }
  return {static_cast<int>(line), static_cast<int>(offset - starts[line - 1] + 1)};
}

std::size_t SourceMap::offset_of_char_column(int line, int char_col) const {
  const std::vector<std::size_t>& starts = *line_starts_;
  if (line < 1) return 0;
  if (static_cast<std::size_t>(line) > starts.size()) return source_.size();
  std::size_t offset = starts[line - 1];
  int c = 1;
  // The parser asks for positions in increasing order; walking on from the
  // last answer keeps a document written on one long line linear, not quadratic.
  if (line == cached_line_ && char_col >= cached_char_col_) {
    offset = cached_offset_;
    c = cached_char_col_;
  }
  // Where the line goes on in ASCII up to the column, characters are bytes.
  if (auto ascii_end = offset + static_cast<std::size_t>(char_col - c);
      char_col > c && ascii_end <= source_.size() && all_ascii_on_one_line(source_.substr(offset, ascii_end - offset))) {
    offset = ascii_end;
    c = char_col;
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
