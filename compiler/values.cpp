// The FML value micro-syntax (FML.md, "Values"). This file's external
// interface is values.h; it is the only file in farmctl that includes
// Boost.Spirit X3, and every grammar in it is private.
//
// How the parsers are built: X3 recognises the small pieces (digits, words,
// keywords, units, punctuation) at a cursor over the text, and plain C++
// strings the pieces together. Between two pieces the code therefore knows
// exactly where it is and what it expected, so each error names the offending
// part with its offset, and each range check sits next to the message that
// explains it.
//
// Whitespace: leading and trailing whitespace of every value is ignored (XML
// keeps attribute text verbatim, and padding is harmless). Inside a value:
//  - size: none. "5 GB" is refused with a hint to write "5GB", so that a size
//    stays one token everywhere it is written;
//  - backup-policy: allowed around ':', ';' and '=', between "every" and its
//    count, and around cron fields (which need it as a separator); not between
//    a count and its unit ("every 15 m").
// Case: size units are MB/GB/TB/MiB/GiB/TiB as written in FML.md, plus mb/gb/tb;
// drivetype is case-insensitive; raid levels and backup-policy keywords
// (level, retain, hourly, every, cron, s/m/h/d, ...) are lower case only.
#include "compiler/values.h"

#include <boost/spirit/home/x3.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <iterator>
#include <utility>
#include <vector>

namespace farmctl::fml {
namespace {

namespace x3 = boost::spirit::x3;

// Character classes spelled as ASCII ranges: X3's digit/alpha go through
// <cctype>, which is locale-dependent and undefined for bytes above 0x7f.
const auto digit = x3::char_('0', '9');
const auto letter = x3::char_('a', 'z') | x3::char_('A', 'Z');
const auto blank = x3::lit(' ') | x3::lit('\t') | x3::lit('\r') | x3::lit('\n');

constexpr std::string_view kSizeForm =
    "expected a number of MB with an optional unit, e.g. 8631, 512MB or 1.5TB";
constexpr std::string_view kSizeUnits = "MB, GB, TB, MiB, GiB or TiB";
constexpr std::string_view kTargetRule = "must be an integer from 0 to 255";
constexpr std::string_view kDriveTypeRule =
    "must be an access path (scsi, fc or iscsi) or a quality class "
    "(std, raid, performance, spindle, bandwidth or other)";
constexpr std::string_view kRaidRule = "must be one of 0, 1, 5, 6, 10, 0+1 or 1+0";
constexpr std::string_view kSchedules =
    "hourly, nightly, daily, weekly, monthly, every <n><s|m|h|d> or cron(<5 fields>)";
constexpr std::string_view kOptionHint = "options are separated by ';', as in nightly;retain=7";

// Thrown by the parsing steps below and turned into a ValueError at the public
// boundary (run_parser); it never leaves this file.
struct Failure {
  ValueError error;
};

// A cursor over one attribute value, trimmed of surrounding whitespace.
// Positions are byte offsets into the untrimmed text, so they can be reported
// as they are.
class Input {
 public:
  Input(std::string_view what, std::string_view text) : what_(what), text_(text) {
    constexpr std::string_view kBlanks = " \t\r\n";
    const std::size_t first = text.find_first_not_of(kBlanks);
    if (first != std::string_view::npos) {
      pos_ = first;
      end_ = text.find_last_not_of(kBlanks) + 1;
    }
  }

  std::size_t pos() const { return pos_; }
  bool at_end() const { return pos_ == end_; }
  // The rest of the (trimmed) value.
  std::string_view rest() const { return text_.substr(pos_, end_ - pos_); }
  // What was consumed since `from`.
  std::string_view since(std::size_t from) const { return text_.substr(from, pos_ - from); }
  // The rest up to the next ';', without trailing blanks: the part of a
  // backup-policy an error is about.
  std::string_view rest_of_part() const {
    std::string_view part = rest().substr(0, rest().find(';'));
    return part.substr(0, part.find_last_not_of(" \t\r\n") + 1);
  }

  // Runs `parser` at the cursor; on a match moves past it and stores its
  // attribute, otherwise leaves the cursor where it was.
  template <class Parser, class Attr>
  bool take(const Parser& parser, Attr& attr) {
    const char* first = text_.data() + pos_;
    const char* last = text_.data() + end_;
    if (!x3::parse(first, last, parser, attr)) return false;
    pos_ = static_cast<std::size_t>(first - text_.data());
    return true;
  }
  template <class Parser>
  bool skip(const Parser& parser) {
    return take(parser, x3::unused);
  }
  template <class Parser>
  bool looking_at(const Parser& parser) {
    return skip(&parser);
  }
  void skip_blanks() { skip(*blank); }

  [[noreturn]] void fail(std::size_t at, std::string_view reason) const {
    throw Failure{{fmt::format("bad {} '{}': {}", what_, text_, reason), at}};
  }

 private:
  std::string_view what_;
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
};

// Runs one value parser over `text`, turning a Failure into the error result.
template <class T, class Step>
Parsed<T> run_parser(std::string_view what, std::string_view text, Step step) {
  Input in(what, text);
  try {
    return Parsed<T>(step(in));
  } catch (Failure& failure) {
    return Parsed<T>(std::move(failure.error));
  }
}

// True if `parser` matches all of `text`.
template <class Parser, class Attr>
bool parse_whole(std::string_view text, const Parser& parser, Attr& attr) {
  const char* first = text.data();
  return x3::parse(first, text.data() + text.size(), parser >> x3::eoi, attr);
}

// The value of a run of decimal digits, or nullopt if it exceeds `max`
// (checked before each step, so no input can overflow).
std::optional<std::uint64_t> to_uint(std::string_view digits, std::uint64_t max) {
  std::uint64_t value = 0;
  for (const char c : digits) {
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (value > max / 10 || d > max - value * 10) return std::nullopt;
    value = value * 10 + d;
  }
  return value;
}

// ---------------------------------------------------------------------------
// size

// Factor from the unit to MB. FML sizes are binary whatever the spelling.
const x3::symbols<std::uint32_t>& size_units() {
  static const x3::symbols<std::uint32_t> units({
      {"MB", 1},       {"GB", 1024},    {"TB", 1024 * 1024},
      {"MiB", 1},      {"GiB", 1024},   {"TiB", 1024 * 1024},
      {"mb", 1},       {"gb", 1024},    {"tb", 1024 * 1024},
  });
  return units;
}

// `digits` × `factor`, exactly, as a decimal digit string. Sizes are computed
// this way rather than in floating point so that "1.2345MB" is refused and
// "0.5GB" is exactly 512, and so that no intermediate value can overflow.
std::string multiply_digits(std::string digits, std::uint32_t factor) {
  std::uint64_t carry = 0;  // stays below factor, so nothing here overflows
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    const std::uint64_t product = static_cast<std::uint64_t>(*it - '0') * factor + carry;
    *it = static_cast<char>('0' + product % 10);
    carry = product / 10;
  }
  for (; carry != 0; carry /= 10) digits.insert(digits.begin(), static_cast<char>('0' + carry % 10));
  return digits;
}

// "0001331" and "200" -> "1331.2", for messages.
std::string decimal_text(std::string_view whole, std::string_view fraction) {
  whole.remove_prefix(std::min(whole.find_first_not_of('0'), whole.size() - 1));
  fraction = fraction.substr(0, fraction.find_last_not_of('0') + 1);
  return fraction.empty() ? std::string(whole) : fmt::format("{}.{}", whole, fraction);
}

// The unit after `number` in a size; no unit means MB.
std::uint32_t size_unit(Input& in, std::string_view number) {
  if (in.at_end()) return 1;
  const std::size_t at = in.pos();
  if (in.skip(+blank)) {
    in.fail(at, fmt::format("no space allowed between the number and the unit (write '{}{}')", number, in.rest()));
  }
  std::string unit;
  if (!in.take(+letter, unit)) {
    in.fail(at, fmt::format("unexpected '{}' after the number (expected a unit: {})", in.rest(), kSizeUnits));
  }
  std::uint32_t factor = 0;
  if (!parse_whole(unit, size_units(), factor)) {
    in.fail(at, fmt::format("unknown unit '{}' (use {})", unit, kSizeUnits));
  }
  if (!in.at_end()) in.fail(in.pos(), fmt::format("unexpected '{}' after the unit", in.rest()));
  return factor;
}

std::uint64_t size_mb(Input& in) {
  const std::size_t start = in.pos();
  if (in.skip(x3::lit('-') >> &digit)) in.fail(start, "size must be greater than 0");
  std::string whole, fraction;
  if (!in.take(+digit, whole)) in.fail(start, kSizeForm);
  if (in.skip(x3::lit('.')) && !in.take(+digit, fraction)) in.fail(in.pos(), "expected digits after '.'");
  const std::uint32_t factor = size_unit(in, in.since(start));

  const std::string product = multiply_digits(whole + fraction, factor);
  const std::string_view mb_whole = std::string_view(product).substr(0, product.size() - fraction.size());
  const std::string_view mb_fraction = std::string_view(product).substr(mb_whole.size());
  if (mb_fraction.find_first_not_of('0') != std::string_view::npos) {
    std::string reason = "not a whole number of MB";
    if (factor != 1) reason += fmt::format(" ({} is {} MB)", in.since(start), decimal_text(mb_whole, mb_fraction));
    in.fail(start, reason);
  }
  const auto mb = to_uint(mb_whole, UINT64_MAX);
  if (!mb) in.fail(start, fmt::format("too large (at most {} MB)", UINT64_MAX));
  if (*mb == 0) in.fail(start, "size must be greater than 0");
  return *mb;
}

// ---------------------------------------------------------------------------
// target, drivetype, raid-level: one token each

int target(Input& in) {
  const std::size_t start = in.pos();
  std::string digits;
  if (!in.take(+digit, digits)) in.fail(start, kTargetRule);
  if (!in.at_end()) in.fail(in.pos(), kTargetRule);
  const auto value = to_uint(digits, 255);
  if (!value) in.fail(start, kTargetRule);
  return static_cast<int>(*value);
}

// Lower-case keys: matched under x3::no_case, which folds the input only.
const x3::symbols<DriveType>& drive_types() {
  static const x3::symbols<DriveType> types({
      {"scsi", AccessPath::scsi},
      {"fc", AccessPath::fc},
      {"iscsi", AccessPath::iscsi},
      {"std", QualityClass::std_},
      {"raid", QualityClass::raid},
      {"performance", QualityClass::performance},
      {"spindle", QualityClass::spindle},
      {"bandwidth", QualityClass::bandwidth},
      {"other", QualityClass::other},
  });
  return types;
}

DriveType drivetype(Input& in) {
  DriveType type;
  if (!parse_whole(in.rest(), x3::no_case[drive_types()], type)) in.fail(in.pos(), kDriveTypeRule);
  return type;
}

const x3::symbols<RaidLevel>& raid_levels() {
  static const x3::symbols<RaidLevel> levels({
      {"0", RaidLevel::r0},
      {"1", RaidLevel::r1},
      {"5", RaidLevel::r5},
      {"6", RaidLevel::r6},
      {"10", RaidLevel::r10},
      {"1+0", RaidLevel::r10},
      {"0+1", RaidLevel::r01},
  });
  return levels;
}

RaidLevel raid_level(Input& in) {
  RaidLevel level{};
  if (!parse_whole(in.rest(), raid_levels(), level)) in.fail(in.pos(), kRaidRule);
  return level;
}

// ---------------------------------------------------------------------------
// backup-policy: [level=N:]SCHEDULE[;retain=K]

const x3::symbols<Schedule::Kind>& schedule_keywords() {
  static const x3::symbols<Schedule::Kind> keywords({
      {"hourly", Schedule::Kind::hourly},
      {"nightly", Schedule::Kind::nightly},
      {"daily", Schedule::Kind::daily},
      {"weekly", Schedule::Kind::weekly},
      {"monthly", Schedule::Kind::monthly},
  });
  return keywords;
}

const x3::symbols<char>& every_units() {
  static const x3::symbols<char> units({{"s", 's'}, {"m", 'm'}, {"h", 'h'}, {"d", 'd'}});
  return units;
}

// "level=N:" before the schedule, after the word "level".
int backup_level(Input& in) {
  in.skip_blanks();
  if (!in.skip(x3::lit('='))) in.fail(in.pos(), "expected '=' after 'level' (e.g. level=0:nightly)");
  in.skip_blanks();
  const std::size_t at = in.pos();
  std::string digits;
  const auto level = in.take(+digit, digits) ? to_uint(digits, 9) : std::nullopt;
  if (!level) in.fail(at, "level must be 0-9 (0 = full, 1-9 = incremental)");
  in.skip_blanks();
  if (!in.skip(x3::lit(':'))) {
    in.fail(in.pos(), fmt::format("expected ':' and a schedule after 'level={0}' (e.g. level={0}:nightly)", *level));
  }
  in.skip_blanks();
  return static_cast<int>(*level);
}

// "every <n><unit>", after the word "every".
Schedule every_schedule(Input& in) {
  in.skip_blanks();  // "every 15m" and "every15m" both read naturally
  const std::size_t count_at = in.pos();
  std::string digits;
  if (!in.take(+digit, digits)) in.fail(count_at, "expected a count after 'every' (e.g. every 15m)");
  const auto count = to_uint(digits, UINT_MAX);
  if (!count) in.fail(count_at, fmt::format("count {} is too large (at most {})", digits, UINT_MAX));
  if (*count == 0) in.fail(count_at, "the count after 'every' must be greater than 0");

  const std::size_t space_at = in.pos();
  const bool spaced = in.skip(+blank);
  const std::size_t unit_at = in.pos();
  std::string unit;
  if (!in.take(+letter, unit)) {
    in.fail(unit_at, fmt::format("expected a unit after 'every {}' (s, m, h or d)", digits));
  }
  if (spaced) {
    in.fail(space_at, fmt::format("no space allowed between the count and the unit (write 'every {}{}')", digits, unit));
  }
  char unit_letter = 0;
  if (!parse_whole(unit, every_units(), unit_letter)) {
    in.fail(unit_at, fmt::format("unknown unit '{}' (use s, m, h or d)", unit));
  }
  Schedule schedule;
  schedule.kind = Schedule::Kind::every;
  schedule.every_count = static_cast<unsigned>(*count);
  schedule.every_unit = unit_letter;
  return schedule;
}

struct CronField {
  std::string_view name;
  unsigned min;
  unsigned max;
};
constexpr CronField kCronFields[] = {
    {"minute", 0, 59}, {"hour", 0, 23}, {"day", 1, 31}, {"month", 1, 12}, {"weekday", 0, 7},
};
constexpr std::string_view kCronCount = "cron takes 5 fields (minute hour day month weekday)";

// A number inside a cron field, within the field's range.
unsigned cron_number(Input& in, const CronField& field, std::string_view expected) {
  const std::size_t at = in.pos();
  std::string digits;
  if (!in.take(+digit, digits)) in.fail(at, expected);
  const auto value = to_uint(digits, field.max);
  if (!value || *value < field.min) {
    in.fail(at, fmt::format("{} {} out of range {}-{}", field.name, digits, field.min, field.max));
  }
  return static_cast<unsigned>(*value);
}

// One item of a cron field's list: '*', N or A-B, then optionally /STEP. A
// step after a single number is refused: cron implementations disagree on
// what "5/10" means.
void cron_item(Input& in, const CronField& field) {
  const std::size_t at = in.pos();
  bool single_number = false;
  if (!in.skip(x3::lit('*'))) {
    const unsigned first = cron_number(in, field, fmt::format("expected a number or '*' in the {} field", field.name));
    if (in.skip(x3::lit('-'))) {
      const unsigned last = cron_number(in, field, fmt::format("expected a number after '-' in the {} field", field.name));
      if (last < first) in.fail(at, fmt::format("{} range {}-{} goes backwards", field.name, first, last));
    } else {
      single_number = true;
    }
  }
  const std::size_t slash_at = in.pos();
  if (!in.skip(x3::lit('/'))) return;
  if (single_number) {
    in.fail(slash_at, fmt::format("a step needs '*' or a range before it in the {} field (e.g. */15 or 0-30/15)", field.name));
  }
  const std::size_t step_at = in.pos();
  std::string digits;
  if (!in.take(+digit, digits)) in.fail(step_at, fmt::format("expected a number after '/' in the {} field", field.name));
  const auto step = to_uint(digits, field.max);
  if (!step || *step == 0) {
    in.fail(step_at, fmt::format("{} step {} out of range 1-{}", field.name, digits, field.max));
  }
}

// One cron field: a comma-separated list of items, ended by a blank, ')' or
// ';' (the last so that a missing ')' is reported as such).
void cron_field(Input& in, const CronField& field) {
  do {
    cron_item(in, field);
  } while (in.skip(x3::lit(',')));
  if (!in.at_end() && !in.looking_at(blank | x3::lit(')') | x3::lit(';'))) {
    in.fail(in.pos(), fmt::format("unexpected '{}' in the {} field", in.rest().front(), field.name));
  }
}

// "(<5 fields>)" after the word "cron"; returns the fields single-spaced.
Schedule cron_schedule(Input& in) {
  in.skip_blanks();
  if (!in.skip(x3::lit('('))) in.fail(in.pos(), "expected '(' after 'cron' (e.g. cron(0 2 * * *))");
  std::vector<std::string_view> fields;
  for (;;) {
    in.skip_blanks();
    const std::size_t at = in.pos();
    if (in.skip(x3::lit(')'))) {
      if (fields.size() != std::size(kCronFields)) in.fail(at, fmt::format("{}, got {}", kCronCount, fields.size()));
      break;
    }
    if (in.at_end() || in.looking_at(x3::lit(';'))) in.fail(at, "missing ')' to close 'cron('");
    if (fields.size() == std::size(kCronFields)) in.fail(at, fmt::format("{}, got more", kCronCount));
    cron_field(in, kCronFields[fields.size()]);
    fields.push_back(in.since(at));
  }
  Schedule schedule;
  schedule.kind = Schedule::Kind::cron;
  schedule.cron = fmt::format("{}", fmt::join(fields, " "));
  return schedule;
}

Schedule schedule(Input& in) {
  const std::size_t at = in.pos();
  // The words must end here, so that e.g. "everyday" is an unknown schedule.
  if (in.skip(x3::lit("every") >> !letter)) return every_schedule(in);
  if (in.skip(x3::lit("cron") >> !letter)) return cron_schedule(in);
  std::string word;
  if (!in.take(+(x3::char_ - blank - ';'), word)) in.fail(at, fmt::format("expected a schedule ({})", kSchedules));
  Schedule result;
  if (!parse_whole(word, schedule_keywords(), result.kind)) {
    in.fail(at, fmt::format("unknown schedule '{}' (use {})", word, kSchedules));
  }
  return result;
}

// After the schedule and after each option only ';' or the end may follow;
// `part_at` is where the part just read began.
void expect_part_end(Input& in, std::size_t part_at) {
  const std::string_view part = in.since(part_at);
  in.skip_blanks();
  if (!in.at_end() && !in.looking_at(x3::lit(';'))) {
    in.fail(in.pos(), fmt::format("unexpected '{}' after '{}' ({})", in.rest_of_part(), part, kOptionHint));
  }
}

// One ";name=value" option, after the ';'. retain is the only one.
void backup_option(Input& in, BackupPolicy& policy, bool& retain_given) {
  in.skip_blanks();
  const std::size_t at = in.pos();
  std::string name;
  if (!in.take(+(letter | digit | x3::char_('-') | x3::char_('_')), name)) {
    in.fail(at, "expected an option after ';' (retain=K)");
  }
  if (name != "retain") in.fail(at, fmt::format("unknown option '{}' (the only option is retain=K)", name));
  if (retain_given) in.fail(at, "retain is given more than once");
  retain_given = true;

  in.skip_blanks();
  if (!in.skip(x3::lit('='))) in.fail(in.pos(), "expected '=' after 'retain' (e.g. retain=7)");
  in.skip_blanks();
  const std::size_t value_at = in.pos();
  std::string digits;
  if (!in.take(+digit, digits)) in.fail(value_at, "expected the number of copies to keep after 'retain='");
  const auto retain = to_uint(digits, INT_MAX);
  if (!retain) in.fail(value_at, fmt::format("retain {} is too large (at most {})", digits, INT_MAX));
  if (*retain == 0) in.fail(value_at, "retain must be at least 1 (it is the number of copies kept)");
  policy.retain = static_cast<int>(*retain);
  expect_part_end(in, at);
}

BackupPolicy backup_policy(Input& in) {
  BackupPolicy policy;
  if (in.skip(x3::lit("level") >> !letter)) policy.level = backup_level(in);
  const std::size_t schedule_at = in.pos();
  policy.schedule = schedule(in);
  expect_part_end(in, schedule_at);
  bool retain_given = false;
  while (in.skip(x3::lit(';'))) backup_option(in, policy, retain_given);
  return policy;
}

}  // namespace

Parsed<std::uint64_t> parse_size_mb(std::string_view text) {
  return run_parser<std::uint64_t>("size", text, size_mb);
}

Parsed<int> parse_target(std::string_view text) { return run_parser<int>("target", text, target); }

Parsed<DriveType> parse_drivetype(std::string_view text) {
  return run_parser<DriveType>("drivetype", text, drivetype);
}

Parsed<RaidLevel> parse_raid_level(std::string_view text) {
  return run_parser<RaidLevel>("raid-level", text, raid_level);
}

Parsed<BackupPolicy> parse_backup_policy(std::string_view text) {
  return run_parser<BackupPolicy>("backup-policy", text, backup_policy);
}

std::string_view to_string(AccessPath path) {
  switch (path) {
    case AccessPath::scsi: return "scsi";
    case AccessPath::fc: return "fc";
    case AccessPath::iscsi: return "iscsi";
  }
  return "?";
}

std::string_view to_string(QualityClass quality) {
  switch (quality) {
    case QualityClass::std_: return "std";
    case QualityClass::raid: return "raid";
    case QualityClass::performance: return "performance";
    case QualityClass::spindle: return "spindle";
    case QualityClass::bandwidth: return "bandwidth";
    case QualityClass::other: return "other";
  }
  return "?";
}

std::string_view to_string(RaidLevel level) {
  switch (level) {
    case RaidLevel::r0: return "0";
    case RaidLevel::r1: return "1";
    case RaidLevel::r5: return "5";
    case RaidLevel::r6: return "6";
    case RaidLevel::r10: return "10";
    case RaidLevel::r01: return "0+1";
  }
  return "?";
}

std::string to_string(const Schedule& schedule) {
  switch (schedule.kind) {
    case Schedule::Kind::hourly: return "hourly";
    case Schedule::Kind::nightly: return "nightly";
    case Schedule::Kind::daily: return "daily";
    case Schedule::Kind::weekly: return "weekly";
    case Schedule::Kind::monthly: return "monthly";
    case Schedule::Kind::every: return fmt::format("every {}{}", schedule.every_count, schedule.every_unit);
    case Schedule::Kind::cron: return fmt::format("cron({})", schedule.cron);
  }
  return "?";
}

}  // namespace farmctl::fml
