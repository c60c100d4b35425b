// Retention and the applied policies: see backup_retention.h.
#include "reconciler/backup_retention.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace farmctl::reconcile {

std::vector<runtime::BackupRow> copies_beyond_retention(const std::vector<runtime::BackupRow>& copies,
                                                        const FarmPolicies& policies) {
  // (disk, level) -> its copies; taken_at sorts as it reads.
  std::map<std::pair<std::string, int>, std::vector<const runtime::BackupRow*>> series;
  for (const runtime::BackupRow& c : copies) series[{c.source, c.level}].push_back(&c);
  std::vector<runtime::BackupRow> out;
  for (auto& [key, rows] : series) {
    std::sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
      return a->taken_at != b->taken_at ? a->taken_at > b->taken_at : a->id > b->id;  // newest first
    });
    std::size_t keep = 0;
    auto disk = policies.find(key.first);
    if (disk != policies.end()) {
      auto same_level = std::find_if(disk->second.begin(), disk->second.end(),
                                     [&](const fml::BackupPolicy& p) { return p.level == key.second; });
      if (same_level != disk->second.end()) {
        keep = static_cast<std::size_t>(same_level->retain);
      } else {
        for (const fml::BackupPolicy& p : disk->second) keep = std::max(keep, static_cast<std::size_t>(p.retain));
      }
    }
    for (std::size_t i = keep; i < rows.size(); ++i) out.push_back(*rows[i]);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.taken_at != b.taken_at ? a.taken_at < b.taken_at : a.id < b.id;
  });
  return out;
}

FarmPolicies applied_policies(const std::string& plan_json) {
  FarmPolicies out;
  auto j = nlohmann::json::parse(plan_json, nullptr, false);
  if (j.is_discarded() || !j.contains("volumes")) return out;
  for (const auto& v : j["volumes"]) {
    if (!v.contains("backup") || !v["backup"].is_array() || v["backup"].empty()) continue;
    std::vector<fml::BackupPolicy> policies;
    for (const auto& b : v["backup"]) {
      std::string text = "level=" + std::to_string(b.value("level", 0)) + ":" + b.value("schedule", std::string()) +
                         ";retain=" + std::to_string(b.value("retain", 7));
      auto parsed = fml::parse_backup_policy(text);
      if (parsed) policies.push_back(*parsed);
    }
    if (!policies.empty()) out[v.value("id", std::string())] = std::move(policies);
  }
  return out;
}

}  // namespace farmctl::reconcile
