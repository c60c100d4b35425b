#pragma once
// A streaming JSON writer for large outputs (the Plan IR of a 100,000-server
// farm is 100 MB of JSON): it appends to one buffer with no document tree in
// between. Pretty-prints exactly as nlohmann::json's dump(2) (or dump(n)) does, so the
// format of every JSON file farmctl writes stays one and the same; compact,
// exactly as dump() does (the journal's one-line records). The Plan IR's
// items, each on a line of its own, are written whole by their writer
// (raw_value; docs/design/plan-layout.md).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace farmctl::json {

// `s` as a JSON string, quotes and escapes included, as Writer writes strings.
void append_string(std::string& out, std::string_view s);
// `n` in decimal, as Writer writes numbers.
void append_number(std::string& out, std::int64_t n);
void append_number(std::string& out, std::uint64_t n);
inline void append_number(std::string& out, int n) { append_number(out, static_cast<std::int64_t>(n)); }

class Writer {
 public:
  enum class Layout { pretty, compact };
  // `indent`: spaces per level when pretty, as dump(indent) takes them.
  explicit Writer(std::string& out, Layout layout = Layout::pretty, int indent = 2)
      : out_(out), pretty_(layout == Layout::pretty), indent_(indent) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view k);  // inside an object, before its value
  void value(std::string_view s);
  void value(const char* s) { value(std::string_view(s)); }
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(std::int64_t n);
  void value(std::uint64_t n);
  void value(int n) { value(static_cast<std::int64_t>(n)); }
  void value(bool b);
  void null();
  // An array of plain values (ids, names).
  template <class T>
  void value(const std::vector<T>& items) {
    begin_array();
    for (const T& item : items) value(item);
    end_array();
  }

  // Goes on inside a list that is a field of the document's top object,
  // as if this writer had begun the document: its first value follows a
  // comma when `list_holds_values`. Two writers can then make parts of one
  // large list at once (lowering.h, write_plan_json).
  void continue_in_list(bool list_holds_values) {
    levels_ = {{true, false}, {false, !list_holds_values}};
  }

  // The array or object open here holds values that were written by
  // another Writer (continue_in_list) straight to where this one's text goes.
  void holds_values() { levels_.back().empty = false; }

  // Where the caller writes one whole value, in this writer's layout, after
  // the comma and line break that go before it (plan_ir.cpp writes each of a
  // plan's items in one go, not a value at a time).
  std::string& raw_value() {
    before_value();
    return out_;
  }

  // key + value in one call
  template <class T>
  void field(std::string_view k, const T& v) {
    key(k);
    value(v);
  }

 private:
  struct Level {
    bool object;
    bool empty = true;
  };
  void before_value();
  void newline_indent();
  void write_string(std::string_view s);

  std::string& out_;
  bool pretty_;
  int indent_;
  std::vector<Level> levels_;
  bool after_key_ = false;
};

}  // namespace farmctl::json
