#include "compiler/farm_diff_render.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/markdown.h"

namespace farmctl::plan {
namespace {

std::string_view color_of(DiffKind kind) {
  switch (kind) {
    case DiffKind::create: return "\033[32m";
    case DiffKind::update: return "\033[33m";
    case DiffKind::destroy: return "\033[31m";
    case DiffKind::replace: return "\033[35m";
  }
  return "";
}

const std::string& source_of(const DiffChange& c, const DiffSources& sources) {
  return c.in_old ? sources.old_name : sources.new_name;
}

std::string location(const DiffChange& c, const DiffSources& sources) {
  return c.line > 0 ? fmt::format("{}:{}", source_of(c, sources), c.line) : std::string();
}

std::string counts_text(const FarmDiff::Counts& n) {
  return fmt::format("{} to create, {} to update, {} to replace, {} to destroy", n.create, n.update, n.replace,
                     n.destroy);
}

FarmDiff::Counts counts_of(const FarmDiff& diff, bool destructive) {
  FarmDiff part;
  for (const DiffChange& c : diff.changes)
    if (c.destructive == destructive) part.changes.push_back(c);
  return part.counts();
}

// "2 to create, 1 to update": only the kinds there are.
std::string nonzero_counts_text(const FarmDiff::Counts& n) {
  std::string text;
  auto add = [&](int count, std::string_view what) {
    if (count > 0) text += fmt::format("{}{} to {}", text.empty() ? "" : ", ", count, what);
  };
  add(n.create, "create");
  add(n.update, "update");
  add(n.replace, "replace");
  add(n.destroy, "destroy");
  return text;
}

std::string no_changes(const FarmDiff& diff, const DiffSources& sources) {
  return fmt::format("No changes: {} and {} ask for the same farm {}.", sources.old_name, sources.new_name,
                     diff.new_farm);
}

}  // namespace

std::string render_diff_text(const FarmDiff& diff, const DiffSources& sources, bool color) {
  if (diff.empty()) return no_changes(diff, sources) + "\n";
  std::string_view reset = color ? "\033[0m" : "";
  std::string out = fmt::format("Farm {}: {} -> {}\n", diff.new_farm, sources.old_name, sources.new_name);
  bool in_destructive = false, in_other = false;
  for (const DiffChange& c : diff.changes) {
    if (c.destructive && !in_destructive) {
      out += "\nDestructive changes (data is lost or a server goes):\n";
      in_destructive = true;
    }
    if (!c.destructive && !in_other) {
      out += "\nOther changes:\n";
      in_other = true;
    }
    std::string where = location(c, sources);
    out += fmt::format("  {}{:>3} {}{}: {}{}\n", color ? color_of(c.kind) : "", symbol(c.kind), c.subject(), reset,
                       c.reason(), where.empty() ? "" : " (" + where + ")");
  }
  out += fmt::format("\nDiff: {}.\n", counts_text(diff.counts()));
  return out;
}

std::string render_diff_json(const FarmDiff& diff, const DiffSources& sources) {
  using Json = nlohmann::ordered_json;
  Json j;
  j["format_version"] = 1;
  j["old"] = Json{{"source", sources.old_name}, {"farm", diff.old_farm}};
  j["new"] = Json{{"source", sources.new_name}, {"farm", diff.new_farm}};
  Json changes = Json::array();
  for (const DiffChange& c : diff.changes)
    changes.push_back(Json{{"kind", to_string(c.kind)},
                           {"type", to_string(c.what)},
                           {"id", c.id},
                           {"server", c.server},
                           {"destructive", c.destructive},
                           {"reasons", c.reasons},
                           {"source", source_of(c, sources)},
                           {"line", c.line}});
  j["changes"] = std::move(changes);
  FarmDiff::Counts n = diff.counts();
  j["summary"] = Json{{"create", n.create},
                      {"update", n.update},
                      {"replace", n.replace},
                      {"destroy", n.destroy},
                      {"destructive", diff.destructive_count()}};
  return j.dump(2) + "\n";
}

std::string render_diff_markdown(const FarmDiff& diff, const DiffSources& sources) {
  namespace md = markdown;
  std::string out = fmt::format("### farmctl diff: farm {}\n\n", md::code(diff.new_farm));
  if (diff.empty()) return out + md::text(no_changes(diff, sources)) + "\n";
  out += fmt::format("From {} to {}: **{}**.\n\n", md::code(sources.old_name), md::code(sources.new_name),
                     counts_text(diff.counts()));
  std::vector<std::string> destructive, other;
  for (const DiffChange& c : diff.changes) {
    std::string where = location(c, sources);
    std::string row = md::row({md::code(symbol(c.kind)) + " " + std::string(to_string(c.kind)),
                               std::string(to_string(c.what)) + " " + md::code(c.id), md::text(c.reason()),
                               where.empty() ? "" : md::code(where)});
    (c.destructive ? destructive : other).push_back(std::move(row));
  }
  const std::vector<std::string> titles{"change", "what", "why", "where"};
  // Room for the other changes' <details> and the notes on rows left off.
  constexpr std::size_t kReserve = 600;
  if (destructive.empty()) {
    out += "**No destructive changes**: no volume is destroyed or replaced, no server removed.\n";
  } else {
    out += fmt::format("**Destructive changes ({})**: data is lost or a server goes.\n\n", destructive.size());
    out += md::header(titles);
    std::size_t left = md::append_rows(out, destructive, md::kBudget, kReserve);
    if (left > 0)
      out += fmt::format("\n**{} more destructive changes** not shown here: run `farmctl diff` for all.\n", left);
  }
  if (!other.empty()) {
    out += fmt::format("\n<details><summary>Other changes ({}): {}</summary>\n\n", other.size(),
                       nonzero_counts_text(counts_of(diff, false)));
    out += md::header(titles);
    std::size_t left = md::append_rows(out, other, md::kBudget, kReserve);
    if (left > 0) out += fmt::format("\n{} more changes not shown here: run `farmctl diff` for all.\n", left);
    out += "\n</details>\n";
  }
  return out;
}

}  // namespace farmctl::plan
