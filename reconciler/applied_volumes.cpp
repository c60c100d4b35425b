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

// farm_volumes_applied's entries, [["id", size_mb, "policies"], ...], read
// with a SAX pass: a one-change plan of a 10,000-server farm reads 30,000 of
// them, and a document tree of them cost more than the entries. An entry
// of any other shape is skipped; a text that does not parse reads as none.
class AppliedEntriesSax : public nlohmann::json_sax<nlohmann::json> {
 public:
  static AppliedVolumes read(const std::string& text) {
    AppliedEntriesSax sax;
    if (!nlohmann::json::sax_parse(text, &sax) || !sax.top_array_) return {};
    return std::move(sax.volumes_);
  }

  bool null() override { return other(); }
  bool boolean(bool) override { return other(); }
  bool number_integer(number_integer_t) override { return other(); }
  bool number_unsigned(number_unsigned_t n) override {
    if (depth_ == 2 && field_ == 1) size_ = n;
    else fits_ = fits_ && depth_ != 2;
    return advance();
  }
  bool number_float(number_float_t, const string_t&) override { return other(); }
  bool string(string_t& text) override {
    if (depth_ == 2 && field_ == 0) id_ = std::move(text);
    else if (depth_ == 2 && field_ == 2) backup_ = std::move(text);
    else fits_ = fits_ && depth_ != 2;
    return advance();
  }
  bool binary(binary_t&) override { return other(); }
  bool start_object(std::size_t) override {
    fits_ = fits_ && depth_ != 2;
    ++depth_;
    return true;
  }
  bool end_object() override {
    --depth_;
    return advance();
  }
  bool key(string_t&) override { return true; }
  bool start_array(std::size_t) override {
    if (depth_ == 0) top_array_ = true;
    if (depth_ == 1) field_ = 0, fits_ = true;
    else fits_ = fits_ && depth_ != 2;
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    if (depth_ == 1 && fits_ && field_ == 3) volumes_[id_] = AppliedVolume{size_, backup_};
    return depth_ == 1 ? true : advance();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  // A value inside an entry takes the entry's next field.
  bool advance() {
    if (depth_ == 2) ++field_;
    return true;
  }
  bool other() {
    fits_ = fits_ && depth_ != 2;
    return advance();
  }

  int depth_ = 0;  // arrays and objects open
  bool top_array_ = false;
  int field_ = 0;      // of the entry being read
  bool fits_ = false;  // the entry is [string, unsigned, string] so far
  std::string id_, backup_;
  std::uint64_t size_ = 0;
  AppliedVolumes volumes_;
};

// The same entries as farmctl writes them — compact, ASCII without escapes,
// sizes as plain digits — read without a JSON parser: the SAX pass still cost about
// 3,000 instructions an entry (96 M for 30,000, callgrind), most of a
// one-change plan's extra time. Anything else (a backslash, a space, a
// number in another form, an entry of another shape) returns false, and the
// SAX pass reads the text instead, so what is read never depends on which.
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

AppliedVolumes read_applied_volumes(const std::string& text) {
  AppliedVolumes out;
  if (WrittenEntries(text).read(out)) return out;
  return AppliedEntriesSax::read(text);
}

AppliedVolumes applied_volumes_of_plan_json(const std::string& plan_json) { return IrVolumesSax::read(plan_json); }

std::string applied_volumes_text_of_plan_json(const std::string& plan_json) {
  return text_of(applied_volumes_of_plan_json(plan_json));
}

}  // namespace farmctl::reconcile
