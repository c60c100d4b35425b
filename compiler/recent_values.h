#pragma once
// The values a reader parsed last, by their text. A large farm writes the
// same few sizes, drive types and backup policies a hundred thousand times,
// and each grammar (values.h) costs about a thousand instructions a value;
// a look through the last few texts costs a few dozen. Only values that
// parsed are kept: a bad one is parsed, and its error said, every time.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "compiler/values.h"

namespace farmctl::fml {

template <class T, std::size_t N = 8>
class RecentValues {
 public:
  // `parse_text(text)`, or what it gave for the same text lately.
  template <class Parse>
  Parsed<T> parse(std::string_view text, Parse parse_text) {
    for (std::size_t i = 0; i < filled_; ++i)
      if (entries_[i].text == text) return entries_[i].value;
    Parsed<T> parsed = parse_text(text);
    if (parsed && text.size() <= kLongest) {
      entries_[next_] = {std::string(text), *parsed};
      next_ = (next_ + 1) % N;
      if (filled_ < N) ++filled_;
    }
    return parsed;
  }

 private:
  static constexpr std::size_t kLongest = 64;  // longer texts are rare, and not kept
  struct Entry {
    std::string text;
    T value{};
  };
  std::array<Entry, N> entries_{};
  std::size_t filled_ = 0;
  std::size_t next_ = 0;
};

}  // namespace farmctl::fml
