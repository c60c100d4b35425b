// clone_file: see file_clone.h.
#include "runtime/file_clone.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "runtime/driver.h"

namespace farmctl::runtime {
namespace {

class Fd {
 public:
  Fd(const std::string& path, int flags, mode_t mode = 0) : path_(path), fd_(::open(path.c_str(), flags | O_CLOEXEC, mode)) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  [[noreturn]] void fail(std::string_view what) const {
    throw DeviceError(fmt::format("{} {}: {}", what, path_, std::strerror(errno)));
  }

 private:
  std::string path_;
  int fd_;
};

// Copies [offset, end) of `in` to the same place in `out`.
void copy_range(const Fd& in, const Fd& out, std::uint64_t offset, std::uint64_t end) {
  while (offset < end) {
    loff_t in_off = static_cast<loff_t>(offset), out_off = static_cast<loff_t>(offset);
    ssize_t n = ::copy_file_range(in.get(), &in_off, out.get(), &out_off, end - offset, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
      char buffer[1 << 16];
      ssize_t got = ::pread(in.get(), buffer, std::min<std::uint64_t>(sizeof buffer, end - offset),
                            static_cast<off_t>(offset));
      if (got <= 0) in.fail("cannot read");
      n = ::pwrite(out.get(), buffer, static_cast<std::size_t>(got), static_cast<off_t>(offset));
    }
    if (n <= 0) out.fail("cannot write");
    offset += static_cast<std::uint64_t>(n);
  }
}

// Only the data extents: holes stay holes, so a mostly empty disk copies fast
// and takes no room.
void sparse_copy(const Fd& in, const Fd& out, std::uint64_t size) {
  std::uint64_t offset = 0;
  while (offset < size) {
    off_t data = ::lseek(in.get(), static_cast<off_t>(offset), SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;
    if (data < 0) {  // no SEEK_DATA on this file system: copy everything
      copy_range(in, out, offset, size);
      return;
    }
    off_t hole = ::lseek(in.get(), data, SEEK_HOLE);
    std::uint64_t end = hole < 0 ? size : std::min<std::uint64_t>(size, static_cast<std::uint64_t>(hole));
    copy_range(in, out, static_cast<std::uint64_t>(data), end);
    offset = end;
  }
}

}  // namespace

CloneMethod clone_file(const std::string& from, const std::string& to) {
  Fd in(from, O_RDONLY);
  if (in.get() < 0) in.fail("cannot open");
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) in.fail("cannot read");
  // A dot file: the tgt driver's listing skips it, so a crash mid-copy leaves
  // no volume that nobody asked for.
  auto slash = to.rfind('/');
  std::string temporary = slash == std::string::npos ? "." + to + ".farmctl-copy"
                                                     : to.substr(0, slash + 1) + "." + to.substr(slash + 1) + ".farmctl-copy";
  ::unlink(temporary.c_str());
  CloneMethod method = CloneMethod::reflink;
  {
    Fd out(temporary, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 07777);
    if (out.get() < 0) out.fail("cannot create");
    if (::ioctl(out.get(), FICLONE, in.get()) != 0) {
      method = CloneMethod::sparse_copy;
      if (::ftruncate(out.get(), st.st_size) != 0) out.fail("cannot size");
      sparse_copy(in, out, static_cast<std::uint64_t>(st.st_size));
    }
    if (::fsync(out.get()) != 0) out.fail("cannot sync");
  }
  if (::rename(temporary.c_str(), to.c_str()) != 0) {
    int saved = errno;
    ::unlink(temporary.c_str());
    throw DeviceError(fmt::format("cannot replace {}: {}", to, std::strerror(saved)));
  }
  return method;
}

}  // namespace farmctl::runtime
