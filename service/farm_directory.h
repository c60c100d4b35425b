#pragma once
// --farms DIR: the *.fml files of a directory as stored farms. Each poll
// (every loop tick: a stat per file) notices files whose modification time
// or size changed; each such file that compiles becomes its farm's next
// revision (origin "dir:PATH"). A file that does not compile is logged and
// left alone until it changes again; the farm keeps its last good revision.
// Removing a file does not destroy its farm (that stays a deliberate
// `farmctl destroy`). A farm that exists already through the API or
// `farm put` is not taken over by a file of the same name.
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/sqlite.h"
#include "service/json_log.h"

namespace farmctl::service {

class FarmDirectory {
 public:
  FarmDirectory(std::filesystem::path dir, JsonLog& log) : dir_(std::move(dir)), log_(log) {}
  // Whether any file is new or changed since the last poll (cheap: stat only).
  bool changed();
  // Stores every new or changed file that compiles; returns the farms that got a revision.
  std::vector<std::string> poll(runtime::Database& db);

 private:
  struct Seen {
    std::filesystem::file_time_type mtime;
    std::uintmax_t size = 0;
    bool operator==(const Seen&) const = default;
  };
  std::map<std::string, Seen> scan();
  std::filesystem::path dir_;
  JsonLog& log_;
  std::map<std::string, Seen> seen_;
};

}  // namespace farmctl::service
