#pragma once
// How a farm diff (farm_diff.h) is shown: text for a terminal or a CI log,
// JSON for machines, Markdown for a pull-request comment. Each change names
// where it is declared as SOURCE:LINE — NEW's line, or OLD's for a removal.
#include <string>

#include "compiler/farm_diff.h"

namespace farmctl::plan {

// What OLD and NEW were called on the command line ("farm.fml",
// "git:main:farms/web.fml"), for SOURCE:LINE.
struct DiffSources {
  std::string old_name;
  std::string new_name;
};

//   Farm web-prod: git:HEAD~1:farm.fml -> farm.fml
//
//   Destructive changes (data is lost or a server goes):
//     -/+ volume web-0/t3: raid 0+1 -> 5 (farm.fml:22)
//
//   Other changes:
//       ~ volume global/media: size 8631 MB -> 10240 MB (grows in place) (farm.fml:4)
//
//   Diff: 0 to create, 1 to update, 1 to replace, 0 to destroy.
std::string render_diff_text(const FarmDiff& diff, const DiffSources& sources, bool color);
// docs/cli.md, "farmctl diff --json".
std::string render_diff_json(const FarmDiff& diff, const DiffSources& sources);
// A heading, the counts, a table of the destructive changes, the other
// changes in a collapsed <details> block; under markdown::kBudget bytes.
std::string render_diff_markdown(const FarmDiff& diff, const DiffSources& sources);

}  // namespace farmctl::plan
