#include "reconciler/plan_markdown.h"

#include <map>

#include <fmt/format.h>

#include "compiler/markdown.h"
#include "reconciler/plan_render.h"
#include "reconciler/plan_summary.h"

namespace farmctl::reconcile {
namespace {

namespace md = markdown;

// As `farmctl diff` counts them: data is lost or a server goes. Taking an
// export away (an unmap) leaves the disk and its data.
bool destructive(const Change& c) {
  return c.kind == ChangeKind::replace || (c.kind == ChangeKind::destroy && c.subject.rfind("export ", 0) != 0);
}

// "volume `web-0/t0`" from the subject "volume web-0/t0".
std::string subject_cell(const std::string& subject) {
  auto space = subject.find(' ');
  if (space == std::string::npos) return md::code(subject);
  return md::text(subject.substr(0, space)) + " " + md::code(subject.substr(space + 1));
}

std::string counts_of(const std::vector<const Change*>& changes) {
  int n[4] = {0, 0, 0, 0};
  for (const Change* c : changes) ++n[static_cast<int>(c->kind)];
  std::string out;
  for (ChangeKind k : {ChangeKind::create, ChangeKind::update, ChangeKind::replace, ChangeKind::destroy})
    if (n[static_cast<int>(k)] > 0)
      out += fmt::format("{}{} to {}", out.empty() ? "" : ", ", n[static_cast<int>(k)], to_string(k));
  return out;
}

constexpr std::size_t kReserve = 600;  // room for what follows a table

void append_table(std::string& out, const std::vector<std::string>& titles, const std::vector<std::string>& rows,
                  std::size_t budget, std::string_view what) {
  out += md::header(titles);
  std::size_t left = md::append_rows(out, rows, budget, kReserve);
  if (left > 0) out += fmt::format("\n{} more {} not shown here: run `farmctl plan` for all.\n", left, what);
}

// The device actions per server, collapsed: at most `budget` bytes, rows
// that do not fit counted in one row before the totals.
std::string per_server_block(const ReconcilePlan& plan, std::size_t budget) {
  PlanSummary summary = summarize(plan);
  if (summary.total.total() == 0) return "";
  std::vector<int> ops;  // only the kinds of action the plan has
  for (int op = 0; op < kOpCount; ++op)
    if (summary.total.by_op[op] > 0) ops.push_back(op);
  std::vector<std::string> titles{"server"};
  for (int op : ops) titles.emplace_back(runtime::to_string(static_cast<Op>(op)));
  auto cells = [&](std::string first, const ActionCounts& counts) {
    std::vector<std::string> row{std::move(first)};
    for (int op : ops) row.push_back(counts.by_op[op] > 0 ? std::to_string(counts.by_op[op]) : "");
    return row;
  };
  std::vector<std::string> rows;
  for (const ServerActions& s : summary.servers)
    rows.push_back(md::row(cells(s.server.empty() ? md::text(s.label()) : "server " + md::code(s.server), s.actions)));
  std::string out = fmt::format("\n<details><summary>Device actions per server ({} actions)</summary>\n\n",
                                summary.total.total());
  std::string total_row = md::row(cells("**total**", summary.total));
  out += md::header(titles);
  std::size_t left = md::append_rows(out, rows, budget, kReserve + total_row.size());
  if (left > 0) out += md::row(cells(fmt::format("{} more servers", left), {}));
  out += total_row;
  out += "\n</details>\n";
  return out;
}

}  // namespace

std::string render_plan_markdown(const ReconcilePlan& plan) {
  std::string out = fmt::format("### farmctl {}: farm {}\n\n", plan.destroy ? "destroy" : "plan", md::code(plan.farm));
  if (plan.empty())
    return out + md::text(fmt::format("No changes. Farm {} matches its farm file and the devices.", plan.farm)) + "\n";
  out += "**" + md::text(summary_line(plan)) + "**\n\n";

  std::map<int, const Action*> by_id;
  for (const Action& a : plan.actions) by_id[a.id] = &a;
  std::vector<const Change*> destroying, other;
  std::vector<std::string> destroying_rows, other_rows;
  for (const Change& c : plan.changes) {
    ActionCounts counts;
    for (int id : c.actions) {
      auto a = by_id.find(id);
      if (a != by_id.end()) ++counts.by_op[static_cast<int>(a->second->op)];
    }
    std::string row = md::row({md::code(symbol(c.kind)) + " " + std::string(to_string(c.kind)),
                               subject_cell(c.subject), md::text(c.reason), md::text(counts.text())});
    bool d = destructive(c);
    (d ? destroying : other).push_back(&c);
    (d ? destroying_rows : other_rows).push_back(std::move(row));
  }
  // Whatever the plan's size, the per-server counts keep a third of the
  // room; the destructive changes come first in the rest.
  std::string per_server = per_server_block(plan, md::kBudget / 3);
  const std::vector<std::string> titles{"change", "what", "why", "device actions"};
  if (destroying.empty()) {
    out += "**No destructive changes**: no volume is destroyed or replaced, no server released.\n";
  } else {
    out += fmt::format("**Destructive changes ({})**: data is lost or a server goes.\n\n", destroying.size());
    append_table(out, titles, destroying_rows, md::kBudget - per_server.size(), "destructive changes");
  }
  out += per_server;
  if (!other.empty()) {
    out += fmt::format("\n<details><summary>Other changes ({}): {}</summary>\n\n", other.size(), counts_of(other));
    append_table(out, titles, other_rows, md::kBudget, "changes");
    out += "\n</details>\n";
  }
  return out;
}

}  // namespace farmctl::reconcile
