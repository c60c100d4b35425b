// Applied volumes: from a compiled farm, to and from farm_volumes_applied,
// and from a stored Plan IR for farms applied before it existed.
#include "reconciler/applied_volumes.h"

#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/json_writer.h"

namespace farmctl::reconcile {
namespace {

using Policy = std::tuple<int, std::string, int>;  // level, schedule as written, retain

std::string text_of(const std::vector<Policy>& policies) {
  std::string out;
  for (const auto& [level, schedule, retain] : policies)
    out += fmt::format("{}level {} {} retain {}", out.empty() ? "" : ", ", level, schedule, retain);
  return out.empty() ? "none" : out;
}

// Read from the stored Plan IR with a SAX pass that keeps only what
// AppliedVolume holds: the IR of a large farm is tens of megabytes, and a
// document tree of it cost a no-op plan most of its time.
//   { "volumes": [ { "id", "size_mb", "backup": [ { "level", "schedule", "retain" } ] } ] }
class IrVolumesSax : public nlohmann::json_sax<nlohmann::json> {
 public:
  static AppliedVolumes read(const std::string& plan_json) {
    IrVolumesSax sax;
    if (!nlohmann::json::sax_parse(plan_json, &sax)) return {};
    return std::move(sax.volumes_);
  }

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t n) override { return number(n < 0 ? 0 : static_cast<std::uint64_t>(n)); }
  bool number_unsigned(number_unsigned_t n) override { return number(n); }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t& text) override {
    if (at(Role::volume) && key_ == "id") id_ = text;
    if (at(Role::policy) && key_ == "schedule") std::get<1>(policy_) = text;
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    Role parent = stack_.empty() ? Role::none : stack_.back();
    Role role = parent == Role::volumes ? Role::volume : parent == Role::backup ? Role::policy : Role::none;
    if (stack_.empty()) role = Role::top;
    if (role == Role::volume) id_.clear(), size_ = 0, policies_.clear();
    if (role == Role::policy) policy_ = {0, std::string(), 7};
    stack_.push_back(role);
    return true;
  }
  bool end_object() override {
    if (at(Role::volume) && !id_.empty()) volumes_[id_] = AppliedVolume{size_, text_of(policies_)};
    if (at(Role::policy)) policies_.push_back(policy_);
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    Role role = at(Role::top) && key_ == "volumes"   ? Role::volumes
                : at(Role::volume) && key_ == "backup" ? Role::backup
                                                       : Role::none;
    stack_.push_back(role);
    return true;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool key(string_t& name) override {
    key_ = name;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  enum class Role { none, top, volumes, volume, backup, policy };

  bool at(Role role) const { return !stack_.empty() && stack_.back() == role; }
  bool number(std::uint64_t n) {
    if (at(Role::volume) && key_ == "size_mb") size_ = n;
    if (at(Role::policy) && key_ == "level") std::get<0>(policy_) = static_cast<int>(n);
    if (at(Role::policy) && key_ == "retain") std::get<2>(policy_) = static_cast<int>(n);
    return true;
  }

  std::vector<Role> stack_;
  std::string key_;
  std::string id_;
  std::uint64_t size_ = 0;
  std::tuple<int, std::string, int> policy_;
  std::vector<std::tuple<int, std::string, int>> policies_;
  AppliedVolumes volumes_;
};

// The entries of farm_volumes_applied as farmctl writes them — compact,
// ASCII without escapes, sizes as plain digits — read without a JSON
// parser: even as a SAX pass it cost about 3,000 instructions an entry
// (96 M for the 30,000 a one-change plan of bench/gen's farm reads,
// callgrind). Anything else returns false, for the JSON parser to read.
class WrittenEntries {
 public:
  explicit WrittenEntries(std::string_view text) : text_(text) {}

  bool read(AppliedVolumes& out) {
    if (!take('[')) return false;
    if (take(']')) return at_end();
    do {
      std::string_view id, backup;
      std::uint64_t size_mb = 0;
      if (!take('[') || !string(id) || !take(',') || !number(size_mb) || !take(',') || !string(backup) || !take(']'))
        return false;
      out.insert_or_assign(std::string(id), AppliedVolume{size_mb, std::string(backup)});
    } while (take(','));
    return take(']') && at_end();
  }

 private:
  bool take(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool at_end() const { return pos_ == text_.size(); }
  bool string(std::string_view& value) {
    if (!take('"')) return false;
    std::size_t end = text_.find_first_of("\\\"", pos_);
    if (end == std::string_view::npos || text_[end] != '"') return false;
    for (std::size_t i = pos_; i < end; ++i)  // ASCII only: the parser checks UTF-8
      if (static_cast<unsigned char>(text_[i]) < 0x20 || static_cast<unsigned char>(text_[i]) > 0x7e) return false;
    value = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return true;
  }
  bool number(std::uint64_t& value) {
    std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    std::size_t digits = pos_ - start;
    if (digits == 0 || digits > 19 || (digits > 1 && text_[start] == '0')) return false;
    value = 0;
    for (std::size_t i = start; i < pos_; ++i) value = value * 10 + static_cast<std::uint64_t>(text_[i] - '0');
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// One entry of farm_volumes_applied: ["id", size_mb, "policies"].
void write_entry(json::Writer& w, std::string_view id, std::uint64_t size_mb, std::string_view backup) {
  w.begin_array();
  w.value(id);
  w.value(size_mb);
  w.value(backup);
  w.end_array();
}

std::string text_of(const AppliedVolumes& volumes) {
  std::string out;
  json::Writer w(out, json::Writer::Layout::compact);
  w.begin_array();
  for (const auto& [id, v] : volumes) write_entry(w, id, v.size_mb, v.backup);
  w.end_array();
  return out;
}

}  // namespace

std::string policies_text(const std::vector<fml::BackupPolicy>& policies) {
  std::vector<Policy> written;
  for (const fml::BackupPolicy& p : policies) written.emplace_back(p.level, fml::to_string(p.schedule), p.retain);
  return text_of(written);
}

std::string applied_volumes_text(const plan::Plan& ir) {
  std::string out;
  json::Writer w(out, json::Writer::Layout::compact);
  w.begin_array();
  const std::vector<fml::BackupPolicy>* last = nullptr;  // disks of one role share their policies
  std::string policies;
  for (const plan::Volume& v : ir.volumes) {
    if (last == nullptr || *last != v.backup) policies = policies_text(v.backup), last = &v.backup;
    write_entry(w, v.id, v.size_mb, policies);
  }
  w.end_array();
  return out;
}

bool read_written_entries(std::string_view text, AppliedVolumes& out) { return WrittenEntries(text).read(out); }

AppliedVolumes read_applied_volumes(const std::string& text) {
  AppliedVolumes out;
  if (read_written_entries(text, out)) return out;
  out.clear();  // a general JSON text: an entry of another shape is skipped, a text that does not parse is none
  auto entries = nlohmann::json::parse(text, nullptr, false);
  if (!entries.is_array()) return out;
  for (const auto& e : entries)
    if (e.is_array() && e.size() == 3 && e[0].is_string() && e[1].is_number_unsigned() && e[2].is_string())
      out[e[0].get<std::string>()] = AppliedVolume{e[1].get<std::uint64_t>(), e[2].get<std::string>()};
  return out;
}

AppliedVolumes applied_volumes_of_plan_json(const std::string& plan_json) { return IrVolumesSax::read(plan_json); }

std::string applied_volumes_text_of_plan_json(const std::string& plan_json) {
  return text_of(applied_volumes_of_plan_json(plan_json));
}

}  // namespace farmctl::reconcile
