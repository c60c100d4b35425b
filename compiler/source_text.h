#pragma once
// The text of a farm file, as the compiler reads it: held in memory, or, for
// a large regular file, the file's pages mapped read-only.
//
// Why mapped: reading copies the file into new memory, and the kernel
// faults in and zeroes every page of it first. For bench/gen's 6 MB farm of
// 10,000 servers that took 4-6 ms, against 0.5-0.8 ms to map the file's
// pages (already in the page cache) at once with MAP_POPULATE — time spent
// before the two threads that parse it can start (docs/performance.md).
//
// The price of a mapping: the pages are the file's, for as long as the text
// is used, not a copy taken in one go. A program that rewrites the file in
// place meanwhile changes what farmctl reads, and if it cuts the file short,
// reading the pages beyond its new end raises SIGBUS. So:
// - the SIGBUS guard stops farmctl with a named reason instead of a crash
//   ("FILE was cut short while farmctl was reading it", exit status 1);
// - whoever used the text asks changed() when done, and refuses what it
//   made of it when the file was written to meanwhile.
// Editors that save by writing a new file and renaming it over the old one
// (the usual way) do not touch the mapped file at all.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace farmctl::fml {

// What a command says of a file changed() while it was read.
inline constexpr std::string_view kChangedWhileRead =
    "the file changed while farmctl was reading it (another program rewrote it in place): run the command again";

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
  // Whether the mapped file was written to (its size or modification time
  // moved) since it was mapped; a text in memory never changes. A file
  // replaced by a rename is not: the mapping still holds the old one whole.
  bool changed() const;

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
  int fd_ = -1;          // the mapped file, open for changed()
  std::array<long long, 2> stamp_{};  // the file as mapped: size and modification time (ns)
};

}  // namespace farmctl::fml
