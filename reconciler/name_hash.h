#pragma once
// The hash in the names farmctl gives the volumes it carves ("f1a2b3c4d-7"
// for a farm's disk, "b…" for a backup copy, "r…" for a restored volume):
// FNV-1a of what the volume is for, so that the same disk gets the same name
// on every plan and names stay short enough for any array.
#include <cstdint>
#include <string_view>

namespace farmctl::reconcile {

inline std::uint32_t name_hash(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}

}  // namespace farmctl::reconcile
