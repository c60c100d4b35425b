#pragma once
// Compiled farm revisions, kept so that the API and the loop do not compile
// the same revision again for every order (a revision never changes, so an
// entry never goes stale). Thread-safe; holds the most recent few hundred.
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "service/farm_source.h"
#include "service/farm_store.h"

namespace farmctl::service {

class FarmSourceCache {
 public:
  // The revision compiled; throws FarmSourceError when it does not compile.
  std::shared_ptr<const FarmSource> get(const FarmRevision& revision);

 private:
  static constexpr std::size_t kCapacity = 256;
  std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const FarmSource>> entries_;
  std::list<std::pair<std::string, int>> order_;  // oldest first
};

}  // namespace farmctl::service
