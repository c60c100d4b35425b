#pragma once
// The text of a farm file, as the compiler reads it: held in memory, or, for
// a large regular file, the file's pages mapped read-only.
//
// Why mapped: reading copies the file into new memory, and the kernel
// faults in and zeroes every page of it first. For bench/gen's 6 MB farm of
// 10,000 servers that took 6-7 ms, against 0.6-0.8 ms to map the file's
// pages (already in the page cache) at once with MAP_POPULATE — time spent
// before the two threads that parse it can start (docs/performance.md).
//
// The price of a mapping: a file cut short while it is mapped (another
// program truncating it to write it anew) takes the pages beyond its new end
// away, and reading them raises SIGBUS. farmctl then stops with a named
// reason instead of crashing: "FILE was cut short while farmctl was reading
// it", exit status 1. Editors that save by writing a new file and renaming it
// over the old one (the usual way) do not touch the mapped file at all.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace farmctl::fml {

class SourceText {
 public:
  SourceText() = default;
  // Text already in memory (a string given to compile_source, a file
  // read from git).
  explicit SourceText(std::string text) : text_(std::move(text)) {}
  SourceText(SourceText&& other) noexcept;
  SourceText& operator=(SourceText&& other) noexcept;
  SourceText(const SourceText&) = delete;
  SourceText& operator=(const SourceText&) = delete;
  ~SourceText();

  std::string_view view() const { return mapped_ != nullptr ? std::string_view(mapped_, mapped_size_) : text_; }
  operator std::string_view() const { return view(); }
  bool mapped() const { return mapped_ != nullptr; }

  // The text of the file at `path`: mapped when it is a regular file of
  // at least kMapFromBytes, read otherwise (a small file, a pipe such as
  // /dev/stdin). Nothing, with errno set, when the file cannot be read.
  static std::optional<SourceText> of_file(const std::string& path);
  // Below this a read costs less than a mapping and its bookkeeping.
  static constexpr std::size_t kMapFromBytes = 256 << 10;

 private:
  void unmap();

  std::string text_;
  const char* mapped_ = nullptr;
  std::size_t mapped_size_ = 0;
  int guard_slot_ = -1;  // this mapping's entry for the SIGBUS guard (source_text.cpp)
};

}  // namespace farmctl::fml
