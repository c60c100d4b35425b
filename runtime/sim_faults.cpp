// Parsing and evaluation of the sim driver's latency and fault settings.
// The per-process action counts live here, behind one mutex.
#include "runtime/sim_faults.h"

#include <charconv>
#include <cmath>
#include <map>
#include <mutex>

namespace farmctl::runtime {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits "a,b,,c" into its non-empty, trimmed items.
std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> items;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    if (!item.empty()) items.push_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

bool is_op_name(std::string_view name) { return name == "*" || op_from_string(name).has_value(); }

std::optional<std::int64_t> parse_count(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

// "op" or "op@device" -> (op, device)
std::pair<std::string, std::string> split_at(std::string_view selector) {
  auto at = selector.find('@');
  if (at == std::string_view::npos) return {std::string(trim(selector)), {}};
  return {std::string(trim(selector.substr(0, at))), std::string(trim(selector.substr(at + 1)))};
}

const char* kOpList = "allocate, meta, grow, copy, bind, map, zone, unmap, unbind, unzone, scrub, break, deallocate";

// The per-process counts: key "op" / "op@device" / "*" / "*@device" -> actions seen.
struct Counts {
  std::mutex mutex;
  std::map<std::string, std::int64_t, std::less<>> seen;
};

Counts& counts() {
  static Counts instance;
  return instance;
}

}  // namespace

SimLatency SimLatency::parse(std::string_view text, std::string_view origin) {
  SimLatency result;
  for (auto item : split_list(text)) {
    auto eq = item.find('=');
    auto bad = [&](std::string_view why) {
      return DeviceError(std::string(origin) + ": '" + std::string(item) + "': " + std::string(why) +
                         " (expected op=milliseconds, e.g. allocate=5,*=1)");
    };
    if (eq == std::string_view::npos) throw bad("no '='");
    auto [op, device] = split_at(item.substr(0, eq));
    if (!is_op_name(op) && op != "discover") throw bad("unknown operation '" + op + "'");
    auto value = std::string(trim(item.substr(eq + 1)));
    double ms = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size() || !(ms >= 0) || !std::isfinite(ms))
      throw bad("latency must be a non-negative number of milliseconds");
    result.entries_.push_back({op, device, std::chrono::microseconds(std::llround(ms * 1000.0))});
  }
  return result;
}

std::optional<std::chrono::microseconds> SimLatency::lookup(std::string_view op, std::string_view device) const {
  // Most specific first; within one specificity the last entry written wins.
  const std::pair<std::string_view, bool> order[] = {{op, true}, {"*", true}, {op, false}, {"*", false}};
  for (const auto& [want_op, with_device] : order) {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (it->op != want_op) continue;
      if (with_device ? it->device == device : it->device.empty()) return it->latency;
    }
  }
  return std::nullopt;
}

SimFaults SimFaults::parse(std::string_view text) {
  SimFaults result;
  for (auto item : split_list(text)) {
    auto bad = [&](std::string_view why) {
      return DeviceError("FARMCTL_SIM_FAULTS: '" + std::string(item) + "': " + std::string(why) +
                         " (expected op[@device][#N|#N-M]=permanent|transient|crash|crash-after)");
    };
    Rule rule;
    rule.text = std::string(item);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) throw bad("no '='");
    auto effect = trim(item.substr(eq + 1));
    if (effect == "permanent") rule.effect = SimFaultEffect::permanent;
    else if (effect == "transient") rule.effect = SimFaultEffect::transient;
    else if (effect == "crash") rule.effect = SimFaultEffect::crash;
    else if (effect == "crash-after") rule.effect = SimFaultEffect::crash_after;
    else throw bad("unknown effect '" + std::string(effect) + "'");

    auto selector = trim(item.substr(0, eq));
    if (auto hash = selector.find('#'); hash != std::string_view::npos) {
      auto range = trim(selector.substr(hash + 1));
      selector = selector.substr(0, hash);
      auto dash = range.find('-');
      auto first = parse_count(trim(range.substr(0, dash)));
      if (!first) throw bad("'#' must be followed by N, N-M or N- (counting from 1)");
      rule.first = *first;
      if (dash == std::string_view::npos) {
        rule.last = *first;
      } else if (auto tail = trim(range.substr(dash + 1)); !tail.empty()) {
        auto last = parse_count(tail);
        if (!last || *last < *first) throw bad("'#' must be followed by N, N-M or N- (counting from 1)");
        rule.last = *last;
      }
    }
    auto [op, device] = split_at(selector);
    if (!is_op_name(op)) throw bad("unknown operation '" + op + "' (one of *, " + kOpList + ")");
    if (selector.find('@') != std::string_view::npos && device.empty()) throw bad("'@' must be followed by a device");
    rule.op = std::move(op);
    rule.device = std::move(device);
    result.rules_.push_back(std::move(rule));
  }
  return result;
}

SimFaultDecision SimFaults::next(Op op, std::string_view device) const {
  // No rules, nothing to count: FARMCTL_SIM_FAULTS is the same for every
  // driver of a process (tests that change it reset the counts).
  if (rules_.empty()) return {};
  const std::string name(to_string(op));
  const std::string dev(device);
  std::map<std::string, std::int64_t, std::less<>> now;  // this action's ordinal per key
  {
    auto& c = counts();
    std::lock_guard lock(c.mutex);
    for (const auto& key : {name, name + "@" + dev, std::string("*"), "*@" + dev}) now[key] = ++c.seen[key];
  }
  for (const auto& rule : rules_) {
    if (rule.op != "*" && rule.op != name) continue;
    if (!rule.device.empty() && rule.device != device) continue;
    auto key = rule.device.empty() ? rule.op : rule.op + "@" + rule.device;
    auto n = now.at(key);
    if (n >= rule.first && n <= rule.last) return {rule.effect, rule.text};
  }
  return {};
}

void reset_sim_fault_counts() {
  auto& c = counts();
  std::lock_guard lock(c.mutex);
  c.seen.clear();
}

}  // namespace farmctl::runtime
