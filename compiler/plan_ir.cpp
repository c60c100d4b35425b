#include "compiler/plan_ir.h"

#include <algorithm>
#include <future>

#include <fmt/format.h>
#include "compiler/json_writer.h"

namespace farmctl::plan {
namespace {

void write_volume(json::Writer& w, const Volume& v) {
  w.begin_object();
  w.field("id", v.id);
  w.field("size_mb", v.size_mb);
  w.field("shared", v.shared);
  w.field("class", v.cls);
  w.key("raid");
  if (v.raid) w.value(*v.raid);
  else w.null();
  w.key("image");
  if (v.image) {
    w.begin_object();
    w.field("type", v.image->type);
    w.field("name", v.image->name);
    w.end_object();
  } else {
    w.null();
  }
  w.key("backup");
  w.begin_array();
  for (const fml::BackupPolicy& b : v.backup) {
    w.begin_object();
    w.field("level", b.level);
    w.field("schedule", fml::to_string(b.schedule));
    w.field("retain", b.retain);
    w.end_object();
  }
  w.end_array();
  w.key("drivename");
  if (v.drivename) w.value(*v.drivename);
  else w.null();
  w.key("attributes");
  w.begin_object();
  for (const auto& [name, value] : v.attributes) w.field(name, value);
  w.end_object();
  w.end_object();
}


// Streamed (json_writer.h): the IR of a large farm is far too big to build
// as a JSON document first. `drain` is called between items: whoever wants
// the text somewhere else than in `out` takes it and clears `out`. Written in
// two parts, so that two threads can each write one: the head (up to the
// volume `cut`) and the tail (the rest).
template <class Drain>
void write_head(const Plan& plan, std::size_t cut, json::Writer& w, Drain drain) {
  w.begin_object();
  w.field("format_version", kFormatVersion);
  w.field("farm", plan.farm);
  w.field("fml_version", plan.fml_version);
  w.key("servers");
  w.begin_array();
  for (const Server& s : plan.servers) {
    w.begin_object();
    w.field("name", s.name);
    w.field("tier", s.tier);
    w.field("role", s.role);
    w.field("hw", s.hw);
    if (s.npiv) w.field("npiv", true);
    w.end_object();
    drain();
  }
  w.end_array();
  w.key("volumes");
  w.begin_array();
  for (std::size_t i = 0; i < cut; ++i) {
    write_volume(w, plan.volumes[i]);
    drain();
  }
}

// From inside the volumes array, after volume `cut - 1`.
template <class Drain>
void write_tail(const Plan& plan, std::size_t cut, json::Writer& w, std::string& out, Drain drain) {
  for (std::size_t i = cut; i < plan.volumes.size(); ++i) {
    write_volume(w, plan.volumes[i]);
    drain();
  }
  w.end_array();
  w.key("exports");
  w.begin_array();
  for (const Export& e : plan.exports) {
    w.begin_object();
    w.field("volume", e.volume);
    w.field("server", e.server);
    w.field("target", e.target);
    w.field("protocol", e.protocol);
    w.end_object();
    drain();
  }
  w.end_array();
  w.end_object();
  out += '\n';
}

// About as many bytes on either side of the cut (a server or an export
// prints about 120 bytes, a volume about 310).
std::size_t balanced_cut(const Plan& plan) {
  double servers = static_cast<double>(plan.servers.size()), volumes = static_cast<double>(plan.volumes.size()),
         exports = static_cast<double>(plan.exports.size());
  double cut = (volumes * 310 + exports * 120 - servers * 120) / 620;
  return static_cast<std::size_t>(std::clamp(cut, 0.0, volumes));
}

// Below this many volumes a second thread costs more than it saves.
constexpr std::size_t kTwoThreadsFromVolumes = 20'000;

}  // namespace

std::string to_json(const Plan& plan) {
  std::string out;
  out.reserve(256 + plan.volumes.size() * 300 + plan.exports.size() * 120 + plan.servers.size() * 120);
  json::Writer w(out);
  write_head(plan, plan.volumes.size(), w, [] {});
  write_tail(plan, plan.volumes.size(), w, out, [] {});
  return out;
}

// In pieces of about a megabyte: the IR of 100,000 servers is 112 MB, which
// as one string cost as much in page faults as it took to write. A large
// plan's tail is written at the same time on a second thread, into memory,
// and follows the head.
bool write_json(const Plan& plan, std::ostream& out) {
  constexpr std::size_t kPiece = 1 << 20;
  bool two_threads = plan.volumes.size() >= kTwoThreadsFromVolumes;
  std::size_t cut = two_threads ? balanced_cut(plan) : plan.volumes.size();
  std::future<std::string> tail;
  if (two_threads)
    tail = std::async(std::launch::async, [&plan, cut] {
      std::string text;
      text.reserve((plan.volumes.size() - cut) * 330 + plan.exports.size() * 130 + 64);
      json::Writer w(text);
      w.continue_inside({true, false}, {true, cut > 0});
      write_tail(plan, cut, w, text, [] {});
      return text;
    });
  std::string buffer;
  buffer.reserve(kPiece + 4096);
  auto drain = [&] {
    if (buffer.size() < kPiece) return;
    out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    buffer.clear();
  };
  json::Writer w(buffer);
  write_head(plan, cut, w, drain);
  if (!two_threads) write_tail(plan, cut, w, buffer, drain);
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  if (two_threads) {
    std::string text = tail.get();
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  return static_cast<bool>(out);
}

std::string to_text(const Plan& plan) {
  std::string out = fmt::format("farm {} fml {}\n", plan.farm, plan.fml_version);
  for (const Server& s : plan.servers)
    out += fmt::format("server {} tier={} role={} hw={}{}\n", s.name, s.tier, s.role, s.hw, s.npiv ? " npiv" : "");
  for (const Volume& v : plan.volumes) {
    std::string backup;
    for (const fml::BackupPolicy& b : v.backup)
      backup += fmt::format("{}{}:{}:{}", backup.empty() ? "" : ",", b.level, fml::to_string(b.schedule), b.retain);
    out += fmt::format("volume {} {}MB {}{} raid={} image={} backup=[{}]", v.id, v.size_mb, v.cls,
                       v.shared ? " shared" : "", v.raid.value_or("-"),
                       v.image ? v.image->type + ":" + v.image->name : "-", backup);
    if (v.drivename) out += fmt::format(" drivename={}", *v.drivename);
    for (const auto& [name, value] : v.attributes) out += fmt::format(" {}={}", name, value);
    out += "\n";
  }
  for (const Export& e : plan.exports)
    out += fmt::format("export {} -> {} t{} {}\n", e.volume, e.server, e.target, e.protocol);
  return out;
}

}  // namespace farmctl::plan
