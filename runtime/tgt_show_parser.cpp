// Parsing tgtd's full show: see tgt_show_parser.h. A line-at-a-time reader
// that tracks which target and which section it is in; the depth of a line
// is its indentation.
#include "runtime/tgt_show_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "runtime/driver.h"

namespace farmctl::runtime {
namespace {

enum class Section { none, system, nexus, lun, account, acl };

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

template <class Int>
bool parse_int(std::string_view s, Int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

class ShowReader {
 public:
  TgtShow read(std::string_view text) {
    int line_no = 0;
    while (!text.empty()) {
      auto nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      ++line_no;
      line_ = line_no;
      take(line);
    }
    return std::move(show_);
  }

 private:
  void take(std::string_view raw) {
    std::string_view line = trim(raw);
    if (line.empty()) return;
    std::size_t indent = raw.find_first_not_of(" \t");
    if (indent == 0) {
      target_header(line);
      return;
    }
    if (show_.targets.empty()) return;
    TgtTarget& t = show_.targets.back();
    if (indent <= 4) {
      section_ = line == "System information:"    ? Section::system
                 : line == "I_T nexus information:" ? Section::nexus
                 : line == "LUN information:"       ? Section::lun
                 : line == "Account information:"   ? Section::account
                 : line == "ACL information:"       ? Section::acl
                                                    : Section::none;
      return;
    }
    switch (section_) {
      case Section::nexus: nexus_line(t, line); break;
      case Section::lun: lun_line(t, line); break;
      case Section::account:
        if (indent <= 8) t.accounts.emplace_back(line);
        break;
      case Section::acl:
        if (indent <= 8) (is_initiator_name(line) ? t.acl_names : t.acl_addresses).emplace_back(line);
        break;
      case Section::system:
      case Section::none: break;
    }
  }

  void target_header(std::string_view line) {
    // "Target 1: iqn.2026-11.org.example:tgt1:x01"
    constexpr std::string_view kTarget = "Target ";
    auto colon = line.find(": ");
    TgtTarget t;
    if (!starts_with(line, kTarget) || colon == std::string_view::npos ||
        !parse_int(line.substr(kTarget.size(), colon - kTarget.size()), t.tid))
      throw DeviceError(fmt::format("tgtd's show, line {}: expected 'Target <tid>: <name>', got '{}'", line_, line));
    t.name = std::string(trim(line.substr(colon + 2)));
    show_.targets.push_back(std::move(t));
    section_ = Section::none;
  }

  void nexus_line(TgtTarget& t, std::string_view line) {
    if (starts_with(line, "I_T nexus: ")) {
      TgtSession s;
      if (parse_int(trim(line.substr(11)), s.sid)) t.sessions.push_back(std::move(s));
      return;
    }
    if (t.sessions.empty()) return;
    TgtSession& s = t.sessions.back();
    if (starts_with(line, "Initiator: ")) {
      std::string_view rest = line.substr(11);
      auto alias = rest.find(" alias:");
      s.initiator = std::string(trim(rest.substr(0, alias)));
    } else if (starts_with(line, "Connection: ")) {
      std::uint32_t cid = 0;
      if (parse_int(trim(line.substr(12)), cid)) s.connections.push_back(cid);
    }
  }

  void lun_line(TgtTarget& t, std::string_view line) {
    if (starts_with(line, "LUN: ")) {
      TgtLogicalUnit lu;
      if (parse_int(trim(line.substr(5)), lu.lun)) t.luns.push_back(std::move(lu));
      return;
    }
    if (t.luns.empty()) return;
    TgtLogicalUnit& lu = t.luns.back();
    if (starts_with(line, "Type: ")) {
      lu.type = std::string(trim(line.substr(6)));
    } else if (starts_with(line, "SCSI SN: ")) {
      lu.serial = std::string(trim(line.substr(9)));
    } else if (starts_with(line, "Backing store path: ")) {
      std::string_view path = trim(line.substr(20));
      lu.backing_path = path == "None" ? std::string() : std::string(path);
    }
  }

  TgtShow show_;
  Section section_ = Section::none;
  int line_ = 0;
};

}  // namespace

const TgtLogicalUnit* TgtTarget::lun(int number) const {
  for (const TgtLogicalUnit& lu : luns)
    if (lu.lun == number) return &lu;
  return nullptr;
}

bool TgtTarget::admits_name(std::string_view initiator) const {
  return std::find(acl_names.begin(), acl_names.end(), initiator) != acl_names.end();
}

bool TgtTarget::has_disks() const {
  return std::any_of(luns.begin(), luns.end(), [](const TgtLogicalUnit& lu) { return lu.lun != 0; });
}

TgtTarget* TgtShow::find(std::string_view name) {
  for (TgtTarget& t : targets)
    if (t.name == name) return &t;
  return nullptr;
}

const TgtTarget* TgtShow::find(std::string_view name) const {
  for (const TgtTarget& t : targets)
    if (t.name == name) return &t;
  return nullptr;
}

int TgtShow::next_free_tid() const {
  int highest = 0;
  for (const TgtTarget& t : targets) highest = std::max(highest, t.tid);
  return highest + 1;
}

bool is_initiator_name(std::string_view acl_entry) {
  return starts_with(acl_entry, "iqn.") || starts_with(acl_entry, "eui.") || starts_with(acl_entry, "naa.");
}

TgtShow parse_tgt_show(std::string_view text) { return ShowReader().read(text); }

std::vector<TgtSession> parse_tgt_connections(std::string_view text) {
  // tgtd prints "Session: N" once per connection: a session with two
  // connections shows up twice.
  std::vector<TgtSession> out;
  TgtSession* session = nullptr;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (starts_with(line, "Session: ")) {
      std::uint64_t sid = 0;
      session = nullptr;
      if (!parse_int(trim(line.substr(9)), sid)) continue;
      for (TgtSession& s : out)
        if (s.sid == sid) session = &s;
      if (session == nullptr) session = &out.emplace_back(TgtSession{sid, "", {}});
    } else if (session != nullptr && starts_with(line, "Connection: ")) {
      std::uint32_t cid = 0;
      if (parse_int(trim(line.substr(12)), cid)) session->connections.push_back(cid);
    } else if (session != nullptr && starts_with(line, "Initiator: ")) {
      session->initiator = std::string(trim(line.substr(11)));
    }
  }
  return out;
}

}  // namespace farmctl::runtime
