#pragma once
// Copying a volume's backing file for the tgt driver's snap and restore:
// a reflink (FICLONE) where the file system shares blocks between files
// (btrfs, XFS), else a sparse copy that writes only the source's data
// extents. Either way the copy is written beside the destination and renamed
// over it, so a crash leaves the old file or the whole new one, never half.
#include <string>

namespace farmctl::runtime {

enum class CloneMethod { reflink, sparse_copy };

// Makes `to` a copy of `from` (same size and contents) and syncs it. Throws
// DeviceError naming the file that could not be read or written.
CloneMethod clone_file(const std::string& from, const std::string& to);

}  // namespace farmctl::runtime
