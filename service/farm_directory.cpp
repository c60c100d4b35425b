#include "service/farm_directory.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "service/farm_source.h"
#include "service/farm_store.h"

namespace farmctl::service {

std::map<std::string, FarmDirectory::Seen> FarmDirectory::scan() {
  std::map<std::string, Seen> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir_, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const auto& path = it->path();
    if (path.extension() != ".fml" || !it->is_regular_file(ec)) continue;
    Seen s{it->last_write_time(ec), it->file_size(ec)};
    if (!ec) out[path.string()] = s;
  }
  return out;
}

bool FarmDirectory::changed() {
  auto now = scan();
  for (const auto& [path, s] : now) {
    auto it = seen_.find(path);
    if (it == seen_.end() || !(it->second == s)) return true;
  }
  return false;
}

std::vector<std::string> FarmDirectory::poll(runtime::Database& db) {
  std::vector<std::string> stored;
  FarmStore farms(db);
  for (const auto& [path, s] : scan()) {
    auto it = seen_.find(path);
    if (it != seen_.end() && it->second == s) continue;
    seen_[path] = s;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      log_.warn("farm_file.unreadable", {{"path", path}});
      continue;
    }
    std::string stem = std::filesystem::path(path).stem().string();
    std::shared_ptr<const FarmSource> source;
    try {
      source = FarmSource::parse(text.str(), stem);
    } catch (const FarmSourceError& e) {
      log_.warn("farm_file.invalid", {{"path", path}, {"message", e.what()}});
      continue;
    }
    std::string farm = source->plan().farm;
    std::string origin = "dir:" + path;
    runtime::Transaction tx(db);
    auto existing = farms.farm(farm);
    if (existing && existing->origin != origin) {
      log_.warn("farm_file.ignored",
                {{"path", path},
                 {"farm", farm},
                 {"message", fmt::format("farm {} is kept through {} already; this file does not replace it", farm,
                                         existing->origin.empty() ? "the API or farm put" : existing->origin)}});
      continue;
    }
    int before = existing ? existing->revision : 0;
    int revision = farms.put(farm, source->text(), origin, std::nullopt);
    if (!existing) farms.set_origin(farm, origin);
    tx.commit();
    if (revision != before) {
      log_.info("farm.revision", {{"farm", farm}, {"revision", revision}, {"origin", origin}});
      stored.push_back(farm);
    }
  }
  return stored;
}

}  // namespace farmctl::service
