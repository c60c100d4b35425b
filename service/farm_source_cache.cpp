#include "service/farm_source_cache.h"

namespace farmctl::service {

std::shared_ptr<const FarmSource> FarmSourceCache::get(const FarmRevision& revision) {
  auto key = std::make_pair(revision.farm, revision.revision);
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
  }
  auto source = FarmSource::parse(revision.fml, revision.farm);  // outside the lock: compiling takes a while
  std::lock_guard lock(mutex_);
  if (entries_.emplace(key, source).second) {
    order_.push_back(key);
    if (order_.size() > kCapacity) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
  }
  return source;
}

}  // namespace farmctl::service
