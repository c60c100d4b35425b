#include "compiler/source_text.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <utility>

#include <fmt/format.h>

namespace farmctl::fml {

namespace {

// The SIGBUS guard. Each live mapping has a slot with its range and the
// message that names its file, made before the mapping is used: the
// handler may not allocate or lock, only read these and write(2).
struct GuardSlot {
  std::atomic<bool> taken{false};
  std::atomic<std::uintptr_t> begin{0};  // 0: no mapping (set last, cleared first)
  std::uintptr_t end = 0;                // one past the mapping's last page
  char message[512] = {};
  std::size_t message_size = 0;
};
// More mappings than this at once (farmctl holds one or two) are read instead.
constexpr int kGuardSlots = 16;
GuardSlot guard_slots[kGuardSlots];
struct sigaction before_guard;

void on_sigbus(int, siginfo_t* info, void*) {
  int said = errno;
  // A SIGBUS from a fault (not one sent with kill) at a mapped source's page.
  auto at = reinterpret_cast<std::uintptr_t>(info->si_addr);
  for (const GuardSlot& slot : guard_slots) {
    std::uintptr_t begin = slot.begin.load(std::memory_order_acquire);
    if (info->si_code > 0 && begin != 0 && at >= begin && at < slot.end) {
      ssize_t written = ::write(STDERR_FILENO, slot.message, slot.message_size);
      static_cast<void>(written);  // nothing better to do if stderr is gone
      ::_exit(1);
    }
  }
  // Not ours: put back what handled SIGBUS before (from then on it has
  // SIGBUS to itself). A fault runs its access again and meets it; a
  // signal that was sent is sent again.
  ::sigaction(SIGBUS, &before_guard, nullptr);
  if (info->si_code <= 0) ::raise(SIGBUS);
  errno = said;
}

void install_guard() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action = {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, &before_guard);
  });
}

// A slot guarding [begin, end) for the file at `path`; -1 when none is free.
int guard(const char* begin, std::size_t length, const std::string& path) {
  install_guard();
  for (int i = 0; i < kGuardSlots; ++i) {
    GuardSlot& slot = guard_slots[i];
    if (slot.taken.exchange(true, std::memory_order_acquire)) continue;
    auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    auto start = reinterpret_cast<std::uintptr_t>(begin);
    slot.end = (start + length + page - 1) / page * page;
    auto said = fmt::format_to_n(slot.message, sizeof slot.message - 1,
                                 "farmctl: error: {} was cut short while farmctl was reading it (another program "
                                 "rewrote it in place); stopped: run the command again\n",
                                 path);
    slot.message_size = said.size < sizeof slot.message ? said.size : sizeof slot.message - 1;
    slot.begin.store(start, std::memory_order_release);
    return i;
  }
  return -1;
}

void unguard(int i) {
  if (i < 0) return;
  guard_slots[i].begin.store(0, std::memory_order_release);
  guard_slots[i].taken.store(false, std::memory_order_release);
}

// Closes a descriptor when the function that opened it returns (unless it
// was kept), leaving errno as the function left it.
struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd < 0) return;
    int said = errno;
    ::close(fd);
    errno = said;
  }
  int keep() { return std::exchange(fd, -1); }
};

// A file's size and modification time (ns): a write moves the time (and
// may the size). Not its change time, which a rename over the file moves
// too (the old file loses its name), though the mapping still holds the old
// file whole.
std::array<long long, 2> stamp_of(const struct stat& st) {
  return {static_cast<long long>(st.st_size),
          static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

// What `n = ::read(...)` says: false with errno set on an error, true
// otherwise (EINTR retried).
bool read_some(int fd, char* into, std::size_t room, ssize_t& n) {
  do n = ::read(fd, into, room);
  while (n < 0 && errno == EINTR);
  return n >= 0;
}

// The rest of the file open as `fd`, `size` bytes expected (0: unknown, as
// for a pipe). Read at once into a string of that size, then whatever the
// size did not tell (a file that grew). Nothing, with errno set, when a read
// fails.
std::optional<std::string> read_all(int fd, std::size_t size) {
  std::string text(size, '\0');
  std::size_t got = 0;
  ssize_t n = 0;
  while (got < size) {
    if (!read_some(fd, text.data() + got, size - got, n)) return std::nullopt;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  char more[1 << 14];
  for (;;) {
    if (!read_some(fd, more, sizeof more, n)) return std::nullopt;
    if (n == 0) return text;
    text.append(more, static_cast<std::size_t>(n));
  }
}

}  // namespace

SourceText::SourceText(SourceText&& other) noexcept
    : text_(std::move(other.text_)),
      mapped_(std::exchange(other.mapped_, nullptr)),
      mapped_size_(std::exchange(other.mapped_size_, 0)),
      guard_slot_(std::exchange(other.guard_slot_, -1)),
      fd_(std::exchange(other.fd_, -1)),
      stamp_(other.stamp_) {}

SourceText& SourceText::operator=(SourceText&& other) noexcept {
  if (this != &other) {
    unmap();
    text_ = std::move(other.text_);
    mapped_ = std::exchange(other.mapped_, nullptr);
    mapped_size_ = std::exchange(other.mapped_size_, 0);
    guard_slot_ = std::exchange(other.guard_slot_, -1);
    fd_ = std::exchange(other.fd_, -1);
    stamp_ = other.stamp_;
  }
  return *this;
}

SourceText::~SourceText() { unmap(); }

void SourceText::unmap() {
  if (mapped_ == nullptr) return;
  unguard(guard_slot_);
  ::munmap(const_cast<char*>(mapped_), mapped_size_);
  ::close(fd_);
  mapped_ = nullptr;
  mapped_size_ = 0;
  guard_slot_ = -1;
  fd_ = -1;
}

bool SourceText::changed() const {
  if (mapped_ == nullptr) return false;
  struct stat st = {};
  return ::fstat(fd_, &st) != 0 || stamp_of(st) != stamp_;
}

std::optional<SourceText> SourceText::of_file(const std::string& path) {
  Descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return std::nullopt;
  struct stat st = {};
  if (::fstat(file.fd, &st) != 0) return std::nullopt;
  if (S_ISDIR(st.st_mode)) {
    errno = EISDIR;
    return std::nullopt;
  }
  auto size = S_ISREG(st.st_mode) ? static_cast<std::size_t>(st.st_size) : 0;
  if (size >= kMapFromBytes) {
    // MAP_POPULATE: every page mapped now, in one call, not faulted in one
    // by one while the parse reads them.
    void* pages = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, file.fd, 0);
    if (pages != MAP_FAILED) {
      int slot = guard(static_cast<const char*>(pages), size, path);
      if (slot >= 0) {
        SourceText text;
        text.mapped_ = static_cast<const char*>(pages);
        text.mapped_size_ = size;
        text.guard_slot_ = slot;
        text.fd_ = file.keep();
        text.stamp_ = stamp_of(st);
        return text;
      }
      ::munmap(pages, size);  // no slot to guard it: read instead
    }
  }
  std::optional<std::string> read = read_all(file.fd, size);
  if (!read) return std::nullopt;
  return SourceText(std::move(*read));
}

}  // namespace farmctl::fml
