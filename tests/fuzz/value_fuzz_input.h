#pragma once
// How a fuzz input drives the value parsers (values.h): its first byte picks
// the parser, the rest is the attribute text. Shared by fuzz_values.cpp and by
// the test that replays the corpus (tests/fuzz_corpus_test.cpp), so both read
// a corpus file the same way.
//
// Besides "no crash", it checks what callers rely on: an error's offset lies
// within the text (the analyzer puts a caret there), and a backup policy
// parsed once reads back the same from its canonical spelling.
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "compiler/values.h"

namespace farmctl::fml::fuzz {

enum class ValueKind { size, target, drivetype, raid, backup, count };

inline ValueKind value_kind(unsigned char selector) {
  return static_cast<ValueKind>(selector % static_cast<unsigned>(ValueKind::count));
}

// Aborts (a fuzzer's crash) when an invariant does not hold.
inline void require(bool holds, const char* what) {
  if (!holds) {
    std::fprintf(stderr, "value parser invariant broken: %s\n", what);
    std::abort();
  }
}

template <class T>
void check_error_offset(const Parsed<T>& result, std::string_view text) {
  if (!result) require(result.error().offset <= text.size(), "error offset beyond the text");
}

// The canonical text of a policy, as docs/fml.md spells it.
inline std::string canonical(const BackupPolicy& p) {
  return fmt::format("level={}:{};retain={}", p.level, to_string(p.schedule), p.retain);
}

inline void parse_value_input(std::string_view data) {
  if (data.empty()) return;
  std::string_view text = data.substr(1);
  switch (value_kind(static_cast<unsigned char>(data[0]))) {
    case ValueKind::size:
      check_error_offset(parse_size_mb(text), text);
      break;
    case ValueKind::target: {
      Parsed<int> t = parse_target(text);
      check_error_offset(t, text);
      if (t) require(*t >= 0 && *t <= 255, "target out of 0-255");
      break;
    }
    case ValueKind::drivetype:
      check_error_offset(parse_drivetype(text), text);
      break;
    case ValueKind::raid: {
      Parsed<RaidLevel> r = parse_raid_level(text);
      check_error_offset(r, text);
      if (r) require(parse_raid_level(to_string(*r)).ok(), "a raid level does not read back");
      break;
    }
    case ValueKind::backup: {
      Parsed<BackupPolicy> b = parse_backup_policy(text);
      check_error_offset(b, text);
      if (b) {
        Parsed<BackupPolicy> again = parse_backup_policy(canonical(*b));
        require(again.ok() && *again == *b, "a backup policy does not read back from its canonical text");
      }
      break;
    }
    case ValueKind::count:
      break;
  }
}

}  // namespace farmctl::fml::fuzz
