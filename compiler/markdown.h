#pragma once
// Markdown for pull-request comments (GitHub-flavoured): escaping names and
// text for table cells, and tables that stay under a size budget. Shared by
// `farmctl diff --format markdown` (compiler/farm_diff_render.cpp) and
// `farmctl plan --format markdown` (reconciler/plan_markdown.cpp).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace farmctl::markdown {

// A GitHub comment holds 65,536 characters. Each document farmctl renders
// stays under this many bytes, so a diff and a plan fit in one comment.
inline constexpr std::size_t kBudget = 32000;

// Plain text safe in a table cell: \ ` * _ [ ] | ~ are backslash-escaped,
// '<' and '&' become entities, '|' is escaped, line breaks become spaces.
std::string text(std::string_view s);
// A code span safe in a table cell, fenced with more backticks than `s` holds.
std::string code(std::string_view s);

// One table row from its cells (already escaped): "| a | b |\n".
std::string row(const std::vector<std::string>& cells);
// The header row and its separator.
std::string header(const std::vector<std::string>& titles);

// Appends `rows` to `out` while `out` stays under `budget` bytes less
// `reserve` (room for what follows); returns how many rows were left off.
std::size_t append_rows(std::string& out, const std::vector<std::string>& rows, std::size_t budget,
                        std::size_t reserve);

}  // namespace farmctl::markdown
