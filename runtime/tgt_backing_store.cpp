// The tgt driver's backing files: see tgt_backing_store.h. This file's
// external interface is TgtBackingStore and is_safe_file_name.
#include "runtime/tgt_backing_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "runtime/driver.h"
#include "runtime/file_clone.h"

namespace farmctl::runtime {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::size_t kChunk = 1024 * 1024;

// Closes the descriptor however the operation ends.
class File {
 public:
  File(const std::string& path, int flags, mode_t mode = 0) : path_(path), fd_(::open(path.c_str(), flags | O_CLOEXEC, mode)) {}
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  int fd() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  [[noreturn]] void fail(std::string_view what) const {
    throw DeviceError(fmt::format("{} {}: {}", what, path_, std::strerror(errno)));
  }

 private:
  std::string path_;
  int fd_;
};

std::optional<TgtVolumeFile> stat_volume(const fs::path& path, std::string id, std::string pool) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return TgtVolumeFile{std::move(id), std::move(pool), path.string(), static_cast<std::uint64_t>(st.st_size),
                       st.st_dev, st.st_ino};
}

std::vector<std::string> names_in(const fs::path& dir, bool directories) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!is_safe_file_name(name)) continue;
    std::error_code type_ec;
    if (directories ? it->is_directory(type_ec) : it->is_regular_file(type_ec)) out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void check_name(std::string_view name, std::string_view what) {
  if (!is_safe_file_name(name))
    throw DeviceError(fmt::format("{} '{}' cannot name a file: use letters, digits, '.', '_' and '-'", what, name));
}

void write_zeros(int fd, std::uint64_t from, std::uint64_t to, const std::string& path) {
  static const std::vector<char> zeros(kChunk, 0);
  while (from < to) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, to - from));
    ssize_t written = ::pwrite(fd, zeros.data(), n, static_cast<off_t>(from));
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) throw DeviceError(fmt::format("cannot overwrite {}: {}", path, std::strerror(errno)));
    from += static_cast<std::uint64_t>(written);
  }
}

void create_sparse(const std::string& path, std::uint64_t size_bytes) {
  File f(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (!f.ok()) f.fail("cannot create");
  if (::ftruncate(f.fd(), static_cast<off_t>(size_bytes)) != 0) {
    int saved = errno;
    ::unlink(path.c_str());
    errno = saved;
    f.fail("cannot size");
  }
}

}  // namespace

bool is_safe_file_name(std::string_view name) {
  if (name.empty() || name.size() > 200 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

TgtBackingStore::TgtBackingStore(std::string dir, std::string images_dir)
    : dir_(std::move(dir)), images_dir_(images_dir.empty() ? dir_ + "/images" : std::move(images_dir)) {}

std::vector<TgtVolumeFile> TgtBackingStore::list() const {
  std::vector<TgtVolumeFile> out;
  fs::path volumes = fs::path(dir_) / "volumes";
  for (const std::string& id : names_in(volumes, false))
    if (auto v = stat_volume(volumes / id, id, "")) out.push_back(std::move(*v));
  for (const std::string& pool : pools()) {
    fs::path p = fs::path(dir_) / "pools" / pool;
    for (const std::string& id : names_in(p, false))
      if (auto v = stat_volume(p / id, id, pool)) out.push_back(std::move(*v));
  }
  return out;
}

std::vector<std::string> TgtBackingStore::pools() const { return names_in(fs::path(dir_) / "pools", true); }

std::optional<TgtVolumeFile> TgtBackingStore::find(std::string_view id) const {
  if (!is_safe_file_name(id)) return std::nullopt;
  std::string name(id);
  if (auto v = stat_volume(fs::path(dir_) / "volumes" / name, name, "")) return v;
  for (const std::string& pool : pools())
    if (auto v = stat_volume(fs::path(dir_) / "pools" / pool / name, name, pool)) return v;
  return std::nullopt;
}

void TgtBackingStore::declare(const std::vector<std::string>& pools,
                              const std::vector<std::pair<std::string, std::uint64_t>>& volumes) {
  std::error_code ec;
  fs::create_directories(fs::path(dir_) / "volumes", ec);
  if (ec) throw DeviceError(fmt::format("cannot make {}/volumes: {}", dir_, ec.message()));
  for (const std::string& pool : pools) {
    check_name(pool, "pool");
    fs::create_directories(fs::path(dir_) / "pools" / pool, ec);
    if (ec) throw DeviceError(fmt::format("cannot make the directory of pool {} in {}: {}", pool, dir_, ec.message()));
  }
  for (const auto& [id, size_mb] : volumes) {
    check_name(id, "volume id");
    if (find(id)) continue;
    create_sparse((fs::path(dir_) / "volumes" / id).string(), size_mb * kMiB);
  }
}

std::string TgtBackingStore::allocate(std::string_view id, std::string_view pool, std::uint64_t size_mb) {
  check_name(id, "volume id");
  auto existing = find(id);
  if (pool.empty()) {
    if (!existing || !existing->pool.empty())
      throw DeviceError(fmt::format("no pre-carved volume {} in {}/volumes (allocate without a pool claims one)", id,
                                    dir_));
    if (size_mb * kMiB > existing->size_bytes)
      throw DeviceError(fmt::format("pre-carved volume {} has {} MB, {} MB asked", id, existing->size_bytes / kMiB,
                                    size_mb));
    return fmt::format("pre-carved volume {} is there", id);
  }
  check_name(pool, "pool");
  if (existing) {
    if (existing->pool != pool)
      throw DeviceError(fmt::format("volume {} exists already {}", id,
                                    existing->pool.empty() ? std::string("as a pre-carved volume")
                                                           : fmt::format("in pool {}", existing->pool)));
    if (existing->size_bytes != size_mb * kMiB)
      throw DeviceError(fmt::format("volume {} exists already in pool {} with {} bytes, not {} MB", id, pool,
                                    existing->size_bytes, size_mb));
    return fmt::format("volume {} of {} MB is already in pool {}", id, size_mb, pool);
  }
  if (size_mb == 0) throw DeviceError(fmt::format("volume {}: a size of 0 MB", id));
  fs::path dir = fs::path(dir_) / "pools" / std::string(pool);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw DeviceError(fmt::format("cannot make {}: {}", dir.string(), ec.message()));
  create_sparse((dir / std::string(id)).string(), size_mb * kMiB);
  return {};
}

std::string TgtBackingStore::grow(std::string_view id, std::uint64_t size_mb) {
  auto v = find(id);
  if (!v) throw DeviceError(fmt::format("volume {} does not exist in {}", id, dir_));
  if (v->pool.empty())
    throw DeviceError(fmt::format("pre-carved volume {} has a fixed size; only pool slices grow", id));
  std::uint64_t want = size_mb * kMiB;
  if (want < v->size_bytes)
    throw DeviceError(fmt::format("volume {} has {} MB; a volume does not shrink to {} MB", id, v->size_bytes / kMiB,
                                  size_mb));
  if (want == v->size_bytes) return fmt::format("volume {} has {} MB already", id, size_mb);
  if (::truncate(v->path.c_str(), static_cast<off_t>(want)) != 0)
    throw DeviceError(fmt::format("cannot extend {}: {}", v->path, std::strerror(errno)));
  return {};
}

std::string TgtBackingStore::image_path(std::string_view image) const {
  check_name(image, "image");
  return fmt::format("{}/{}.img", images_dir_, image);
}

std::string TgtBackingStore::copy_image(std::string_view id, std::string_view image) {
  auto v = find(id);
  if (!v) throw DeviceError(fmt::format("volume {} does not exist in {}", id, dir_));
  std::string source = image_path(image);
  File in(source, O_RDONLY);
  if (!in.ok()) in.fail(fmt::format("image {}: cannot open", image));
  struct stat st {};
  if (::fstat(in.fd(), &st) != 0) in.fail("cannot read");
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > v->size_bytes)
    throw DeviceError(fmt::format("image {} ({} bytes) does not fit volume {} ({} bytes)", image, size, id,
                                  v->size_bytes));
  File out(v->path, O_WRONLY);
  if (!out.ok()) out.fail("cannot open");
  std::uint64_t done = 0;
  bool kernel_copy = true;
  std::vector<char> buffer;
  while (done < size) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk * 16, size - done));
    ssize_t copied = -1;
    if (kernel_copy) {
      loff_t in_off = static_cast<loff_t>(done), out_off = static_cast<loff_t>(done);
      copied = ::copy_file_range(in.fd(), &in_off, out.fd(), &out_off, n, 0);
      if (copied < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
        kernel_copy = false;
        continue;
      }
    } else {
      buffer.resize(kChunk);
      ssize_t got = ::pread(in.fd(), buffer.data(), std::min(n, kChunk), static_cast<off_t>(done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) in.fail("cannot read");
      copied = ::pwrite(out.fd(), buffer.data(), static_cast<std::size_t>(got), static_cast<off_t>(done));
    }
    if (copied < 0 && errno == EINTR) continue;
    if (copied <= 0) out.fail(fmt::format("cannot write image {} onto", image));
    done += static_cast<std::uint64_t>(copied);
  }
  if (::fdatasync(out.fd()) != 0) out.fail("cannot sync");
  return {};
}

std::string TgtBackingStore::scrub(std::string_view id) {
  auto v = find(id);
  if (!v) return fmt::format("volume {} does not exist in {}: nothing to scrub", id, dir_);
  File f(v->path, O_RDWR);
  if (!f.ok()) f.fail("cannot open");
  std::uint64_t size = v->size_bytes;
  std::uint64_t offset = 0;
  while (offset < size) {
    off_t data = ::lseek(f.fd(), static_cast<off_t>(offset), SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only holes from here on
    if (data < 0) {                         // no SEEK_DATA here: overwrite everything
      write_zeros(f.fd(), offset, size, v->path);
      break;
    }
    off_t hole = ::lseek(f.fd(), data, SEEK_HOLE);
    std::uint64_t end = hole < 0 ? size : std::min<std::uint64_t>(size, static_cast<std::uint64_t>(hole));
    write_zeros(f.fd(), static_cast<std::uint64_t>(data), end, v->path);
    offset = end;
  }
  if (::fdatasync(f.fd()) != 0) f.fail("cannot sync");
  return {};
}

std::string TgtBackingStore::deallocate(std::string_view id) {
  auto v = find(id);
  if (!v) return fmt::format("volume {} does not exist in {}: nothing to deallocate", id, dir_);
  if (v->pool.empty()) return fmt::format("pre-carved volume {} stays in {}/volumes", id, dir_);
  if (::unlink(v->path.c_str()) != 0)
    throw DeviceError(fmt::format("cannot delete {}: {}", v->path, std::strerror(errno)));
  return {};
}

std::string TgtBackingStore::snap(std::string_view id, std::string_view source, std::string_view pool) {
  auto from = find(source);
  if (!from) throw DeviceError(fmt::format("snap: volume {} does not exist in {}", source, dir_));
  auto existing = find(id);
  fs::path to;
  if (existing) {
    to = existing->path;
  } else {
    if (pool.empty()) throw DeviceError(fmt::format("snap: no volume {} and no pool to carve it from", id));
    check_name(id, "volume");
    check_name(pool, "pool");
    fs::path dir = fs::path(dir_) / "pools" / std::string(pool);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw DeviceError(fmt::format("cannot make {}: {}", dir.string(), ec.message()));
    to = dir / std::string(id);
  }
  bool shared = clone_file(from->path, to.string()) == CloneMethod::reflink;
  return shared ? fmt::format("copy {} shares its blocks with {} (reflink)", id, source) : std::string();
}

std::string TgtBackingStore::restore(std::string_view id, std::string_view source) {
  auto to = find(id);
  if (!to) throw DeviceError(fmt::format("restore: volume {} does not exist in {}", id, dir_));
  auto from = find(source);
  if (!from) throw DeviceError(fmt::format("restore: backup {} does not exist in {}", source, dir_));
  clone_file(from->path, to->path);
  if (from->size_bytes < to->size_bytes && ::truncate(to->path.c_str(), static_cast<off_t>(to->size_bytes)) != 0)
    throw DeviceError(fmt::format("cannot extend {}: {}", to->path, std::strerror(errno)));
  return {};
}

}  // namespace farmctl::runtime
