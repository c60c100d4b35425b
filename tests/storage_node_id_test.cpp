// Storage node identifiers (runtime/storage_node_id.h, docs/design/storage-node-ids.md):
// the translation files shipped inside the binary, a table of facts and the
// identifiers they give, and a list of files that must be refused with their
// exact message.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "runtime/inventory.h"
#include "runtime/storage_node_id.h"

namespace farmctl::testing {
namespace {

using runtime::NodeFacts;
using runtime::NodeIdTranslation;

TEST_CASE("ids: every translation file shipped in the binary reads, sim and tgt among them", "[ids]") {
  std::set<std::string> families;
  for (const auto& [family, text] : runtime::embedded_translation_files()) {
    INFO(family);
    CHECK_NOTHROW(NodeIdTranslation::parse(text, std::string(family) + ".ids"));
    families.insert(std::string(family));
  }
  CHECK(families == std::set<std::string>{"default", "sim", "tgt"});
}

TEST_CASE("ids: facts become VENDOR__MODEL__SERIAL__DEVICEID", "[ids]") {
  struct Case {
    std::string family;
    NodeFacts facts;
    std::string id;
  };
  const Case cases[] = {
      {"sim", {"sym1", "Symmetrix", "000184500123", "f1a2b3c4-7"}, "FARMCTL__SYMMETRIX__000184500123__F1A2B3C4-7"},
      {"sim", {"sym1", "Symmetrix", "", "0A1"}, "FARMCTL__SYMMETRIX__SYM1__0A1"},  // no serial: the array's name
      {"sim", {"sym1", "", "", "0A1"}, "FARMCTL__-__SYM1__0A1"},                   // an empty part is "-"
      {"sim", {"sym_1", "Clariion CX4", "a/b", "v__1"}, "FARMCTL__CLARIION-CX4__A-B__V--1"},  // never "__" in a part
      {"tgt", {"tgt1", "", "", "disk0"}, "IET__VIRTUAL-DISK__TGT1__DISK0"},
      {"tgt", {"tgt1", "ignored", "SN7", "fe0-12"}, "IET__VIRTUAL-DISK__SN7__FE0-12"},
      {"no-such-family", {"a1", "M", "S", "v"}, "UNKNOWN__M__S__V"},  // default.ids
  };
  for (const Case& c : cases) {
    INFO(c.family << " " << c.facts.array << " " << c.facts.volume);
    CHECK(runtime::node_id_translation(c.family).identify(c.facts) == c.id);
  }
  auto custom = NodeIdTranslation::parse("vendor = ACME # the vendor\n\n  model={model|array}\nserial = SN-{serial}\n"
                                         "device = {volume}.{array}\n",
                                         "acme.ids");
  CHECK(custom.identify({"box", "", "42", "lun9"}) == "ACME__BOX__SN-42__LUN9.BOX");
  CHECK(runtime::normalise_id_part("  a b\t") == "A-B");
  CHECK(runtime::normalise_id_part("") == "-");
  CHECK(runtime::normalise_id_part("é") == "--");  // bytes outside ASCII
}

TEST_CASE("ids: a translation file that cannot be read is refused, naming the line", "[ids]") {
  // The three keys a bad first line is followed by.
  auto then_rest = [](std::string head) { return head.append("model = M\nserial = S\ndevice = {volume}\n"); };
  const std::pair<std::string, std::string> bad[] = {
      {"model = M\nserial = S\ndevice = D\n", "t.ids: key 'vendor' is missing"},
      {then_rest("vendor A\n"), "t.ids:1: expected KEY = VALUE, got 'vendor A'"},
      {"colour = red\n", "t.ids:1: unknown key 'colour' (vendor, model, serial, device)"},
      {then_rest("# header\nvendor = {vendr}\n"), "t.ids:2: unknown field {vendr} (array, model, serial, volume)"},
      {then_rest("vendor = {model|}\n"), "t.ids:1: unknown field {} (array, model, serial, volume)"},
      {then_rest("vendor = A\nvendor = B\n"), "t.ids:2: key 'vendor' given twice"},
      {then_rest("vendor = X-{model\n"), "t.ids:1: 'vendor' has a brace left open"},
  };
  for (const auto& [text, message] : bad) {
    INFO(text);
    try {
      NodeIdTranslation::parse(text, "t.ids");
      FAIL("accepted");
    } catch (const runtime::TranslationError& e) {
      CHECK(std::string(e.what()) == message);
    }
  }
}

TEST_CASE("ids: an array's storage node identifier follows its driver family", "[ids]") {
  runtime::DeviceRow array;
  array.config.name = "sym1";
  array.config.driver = "sim";
  array.model = "Symmetrix";
  array.serial = "000184500123";
  CHECK(runtime::storage_node_id(array, "0A1") == "FARMCTL__SYMMETRIX__000184500123__0A1");
  array.config.driver = "tgt";
  CHECK(runtime::storage_node_id(array, "0A1") == "IET__VIRTUAL-DISK__000184500123__0A1");
}

}  // namespace
}  // namespace farmctl::testing
