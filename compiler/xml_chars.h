#pragma once
// Byte classes and searches for the scans farmctl makes over XML text beside
// the parser (legacy_syntax.cpp, xml_reader.cpp, source_map.cpp,
// xml_pieces.cpp). A table rather than <cctype>: those are calls through the
// C locale, one per byte of a 60 MB farm file.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace farmctl::fml {

inline constexpr std::array<bool, 256> kXmlNameByte = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c)
    table[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == ':' || c == '.' || c >= 0x80;
  return table;
}();

// A byte of an XML name (ASCII letters, digits, - _ : . and any byte of a
// multi-byte UTF-8 character).
inline bool is_name_char(char c) { return kXmlNameByte[static_cast<unsigned char>(c)]; }

// XML's whitespace: space, tab, carriage return, line feed.
inline bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// How many bytes `text` starts with that are ASCII: farm files nearly all
// are, so they are looked at eight at a time.
inline std::size_t ascii_prefix(std::string_view text) {
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  std::size_t i = 0;
  for (std::uint64_t word = 0; i + sizeof word <= text.size(); i += sizeof word) {
    std::memcpy(&word, text.data() + i, sizeof word);
    if ((word & kHighBits) != 0) break;
  }
  while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80) ++i;
  return i;
}

// Past the '>' that ends the start tag whose '<' is at or before `from` (a
// '>' inside a quoted attribute value does not end it), or npos.
inline std::size_t end_of_start_tag(std::string_view src, std::size_t from) {
  char quote = 0;
  for (std::size_t i = from; i < src.size(); ++i) {
    char c = src[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Calls at(i) for each index i of `text` that holds the byte `c`, in order.
// 16 bytes at a time where the machine has SSE2 (every x86-64): a call of
// memchr per line of a 60 MB file cost more than the search itself.
template <class At>
void each_index_of(std::string_view text, char c, At at) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i wanted = _mm_set1_epi8(c);
  for (; i + 16 <= text.size(); i += 16) {
    __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, wanted)));
    for (; mask != 0; mask &= mask - 1) at(i + static_cast<std::size_t>(std::countr_zero(mask)));
  }
#endif
  for (; i < text.size(); ++i)
    if (text[i] == c) at(i);
}

}  // namespace farmctl::fml
