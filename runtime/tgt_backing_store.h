#pragma once
// Where a tgt array keeps its volumes: plain files under its `dir` attribute,
// which tgtd presents as logical units (bstype rdwr).
//
//   DIR/pools/POOL/ID     a slice carved from pool POOL: a sparse file of exactly
//                         size_mb MiB (allocate), extended in place (grow),
//                         deleted by deallocate
//   DIR/volumes/ID        a pre-carved volume the wiring map declares (made,
//                         sparse, when the map is imported; never deleted)
//   IMAGES/NAME.img       a master image; IMAGES is the `images` attribute,
//                         else DIR/images
//
// Volume ids and pool names are file names: letters, digits, '.', '_', '-',
// not starting with '.'. Every refusal throws DeviceError naming the volume.
// Thread-safe as far as the file system is: callers keep actions on one
// volume apart (the executor never runs two at once).
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace farmctl::runtime {

struct TgtVolumeFile {
  std::string id;
  std::string pool;  // empty: pre-carved
  std::string path;
  std::uint64_t size_bytes = 0;
  dev_t dev = 0;  // identify the file whatever path a logical unit names it by
  ino_t ino = 0;
};

class TgtBackingStore {
 public:
  TgtBackingStore(std::string dir, std::string images_dir);
  const std::string& dir() const { return dir_; }

  // Every volume file, pre-carved first, then by pool and id.
  std::vector<TgtVolumeFile> list() const;
  std::optional<TgtVolumeFile> find(std::string_view id) const;
  // The pools that have a directory.
  std::vector<std::string> pools() const;

  // Makes DIR, DIR/pools/POOL for each pool, DIR/volumes/ID (sparse, size_mb)
  // for each pre-carved volume that is missing. Never changes what exists.
  void declare(const std::vector<std::string>& pools, const std::vector<std::pair<std::string, std::uint64_t>>& volumes);

  // Each returns what an operator should know when nothing had to be done
  // ("" when it did the work); throws DeviceError when it refuses.
  std::string allocate(std::string_view id, std::string_view pool, std::uint64_t size_mb);  // pool "": claim pre-carved
  std::string grow(std::string_view id, std::uint64_t size_mb);
  std::string copy_image(std::string_view id, std::string_view image);
  // Overwrites every allocated block with zeros (holes already read as zeros), then syncs.
  std::string scrub(std::string_view id);
  std::string deallocate(std::string_view id);
  // Backups: `id` becomes a copy of `source` (a reflink where the file system
  // can, else a sparse copy). snap carves `id` in `pool` when it is missing;
  // restore keeps `id`'s size when the copy is smaller (the disk grew since).
  std::string snap(std::string_view id, std::string_view source, std::string_view pool);
  std::string restore(std::string_view id, std::string_view source);

 private:
  std::string image_path(std::string_view image) const;

  std::string dir_;
  std::string images_dir_;
};

// Letters, digits, '.', '_', '-', not starting with '.', at most 200 characters.
bool is_safe_file_name(std::string_view name);

}  // namespace farmctl::runtime
