// A large farm file is read in two halves on two threads, each child of
// <farm> analysed as soon as it is read (compiler/xml_halves.h,
// read_xml_streamed, analyze_parts). These tests pin that the halves give
// exactly what one parse of the whole file gives: the same tree, the same
// plan, the same diagnostics, and the whole-file parse whenever a half has
// anything wrong with it.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/analyzer.h"
#include "compiler/compiler.h"
#include "compiler/embedded_schema.h"
#include "compiler/lowering.h"
#include "compiler/xml_halves.h"
#include "compiler/xml_reader.h"

namespace farmctl::fml {
namespace {

// `tiers` tiers, each with a role of its own, written as bench/gen writes
// them; `extra` goes into the middle of the farm, `line_end` ends each line.
std::string big_farm(int tiers, std::string_view extra = "", std::string_view line_end = "\n") {
  std::string body;
  body += fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{0}<!-- a farm -->{0}<farm fmlversion=\"1.2\" "
                      "name=\"big\">{0}",
                      line_end);
  body += fmt::format("  <farm-global-disks>{0}    <global-disk global-name=\"content\" drivesize=\"200GB\"/>{0}"
                      "  </farm-global-disks>{0}",
                      line_end);
  for (int t = 0; t < tiers; ++t) {
    if (t == tiers / 2) body += extra;
    body += fmt::format(
        "  <tier id=\"t{1}\" name=\"web{1}\">{0}    <role>r{1}</role>{0}    <init-servers>2</init-servers>{0}"
        "  </tier>{0}"
        "  <server-role id=\"r{1}\" name=\"rôle-{1}\">{0}    <hw>x86 &amp; co</hw>{0}"
        "    <disk target=\"0\" drivetype=\"scsi\" drivesize=\"8GB\"><diskimage type=\"system\">linux</diskimage>"
        "</disk>{0}"
        "    <disk drivename=\"/data\"\tdrivesize=\"20GB\">{0}"
        "      <attribute name=\"backup-policy\" value=\"nightly;retain=7\"/>{0}    </disk>{0}"
        "    <shared-disk global-name=\"content\" target=\"5\"/>{0}  </server-role>{0}",
        line_end, t);
  }
  body += fmt::format("</farm>{0}", line_end);
  return body;
}

std::optional<XmlDocument> read(const std::string& text, std::size_t two_threads_from_bytes,
                                DiagnosticList& diags) {
  return read_xml_document(text, embedded_fml_schema(), "fml.xsd", diags, two_threads_from_bytes);
}

std::string shape(const XmlDocument& doc) {
  std::string out;
  for (std::size_t i = 0; i < doc.elements.size(); ++i) {
    const XmlElement& e = doc.elements[i];
    out += fmt::format("{} <{}> {}:{} parent={} text='{}' {}:{} children=", i, e.name, e.pos.line, e.pos.col,
                       e.parent, e.text, e.text_pos.line, e.text_pos.col);
    for (std::uint32_t c : e.children) out += fmt::format("{},", c);
    for (const XmlAttribute& a : e.attributes)
      out += fmt::format(" {}@{}:{}='{}'@{}:{}", a.name, a.name_pos.line, a.name_pos.col, a.value, a.value_pos.line,
                         a.value_pos.col);
    out += '\n';
  }
  return out;
}

void check_same_tree(const std::string& text) {
  DiagnosticList one_diags, halves_diags;
  std::optional<XmlDocument> one = read(text, SIZE_MAX, one_diags);
  std::optional<XmlDocument> halves = read(text, 0, halves_diags);
  REQUIRE(one);
  REQUIRE(halves);
  CHECK(one_diags.items().empty());
  CHECK(halves_diags.items().empty());
  CHECK(shape(*one) == shape(*halves));
}

TEST_CASE("a document is cut at a child of the root near its middle", "[compiler][halves]") {
  std::string text = big_farm(40);
  std::optional<DocumentHalves> halves = find_document_halves(text);
  REQUIRE(halves);
  CHECK(halves->closer == "</farm>");
  CHECK(text.substr(0, halves->root_tag_end).ends_with("<farm fmlversion=\"1.2\" name=\"big\">"));
  CHECK(halves->split >= text.size() / 2);
  CHECK(text.substr(halves->split, 5) == "<tier");
  // the second half's elements stand where they stand in the whole file
  std::string second = text.substr(0, halves->root_tag_end) + halves->padding + text.substr(halves->split);
  std::size_t lines_before_split = static_cast<std::size_t>(std::count(text.begin(), text.begin() + halves->split, '\n'));
  CHECK(static_cast<std::size_t>(std::count(second.begin(), second.begin() + second.find(text.substr(halves->split, 40)), '\n')) ==
        lines_before_split);
}

TEST_CASE("line ends are counted as the parser counts them: CR LF once, a CR alone too", "[compiler][halves]") {
  std::string crlf = big_farm(40, "", "\r\n");
  std::optional<DocumentHalves> halves = find_document_halves(crlf);
  REQUIRE(halves);
  std::size_t crlfs = static_cast<std::size_t>(
      std::count(crlf.begin() + static_cast<std::ptrdiff_t>(halves->root_tag_end),
                 crlf.begin() + static_cast<std::ptrdiff_t>(halves->split), '\n'));
  CHECK(std::count(halves->padding.begin(), halves->padding.end(), '\n') == static_cast<std::ptrdiff_t>(crlfs));
  check_same_tree(crlf);
  check_same_tree(big_farm(40, "", "\r"));
}

TEST_CASE("documents that cannot be cut are not", "[compiler][halves]") {
  CHECK_FALSE(find_document_halves("<farm fmlversion=\"1.2\"/>"));
  CHECK_FALSE(find_document_halves("<!DOCTYPE farm>\n<farm>\n  <tier/>\n  <tier/>\n</farm>\n"));
  CHECK_FALSE(find_document_halves("<?xml version=\"1.0\"?>\n<farm><tier/><tier/></farm>"));
  CHECK_FALSE(find_document_halves("   "));
}

TEST_CASE("two halves build the very tree one parse builds", "[compiler][halves]") {
  SECTION("plain") { check_same_tree(big_farm(60)); }
  SECTION("with a comment and tabs where it is cut") {
    check_same_tree(big_farm(60, "  <!-- a comment\n  <tier id=\"in-a-comment\"> is not a tier -->\n\t\n"));
  }
  SECTION("a guessed cut inside a comment falls back to one parse") {
    std::string comment = "  <!--\n";
    for (int i = 0; i < 400; ++i) comment += "  <tier id=\"not-a-tier\">\n";
    comment += "  -->\n";
    std::string text = big_farm(2, comment);
    std::optional<DocumentHalves> halves = find_document_halves(text);
    REQUIRE(halves);
    CHECK(text.substr(halves->split, 25) == "<tier id=\"not-a-tier\">\n  ");  // the guess is wrong
    check_same_tree(text);
  }
  SECTION("a guessed cut inside a nested element falls back to one parse") {
    std::string nested = "  <server-role id=\"deep\" name=\"deep\">\n    <hw>x</hw>\n";
    for (int i = 0; i < 300; ++i) nested += fmt::format("  <disk target=\"{}\" drivesize=\"1GB\"/>\n", i % 200);
    nested += "  </server-role>\n";
    DiagnosticList one_diags, halves_diags;
    std::string text = big_farm(2, nested);
    std::optional<XmlDocument> one = read(text, SIZE_MAX, one_diags);
    std::optional<XmlDocument> halves = read(text, 0, halves_diags);
    REQUIRE(one);
    REQUIRE(halves);
    CHECK(shape(*one) == shape(*halves));
  }
}

TEST_CASE("a streamed read has a reader per half, or one when the halves fail", "[compiler][halves]") {
  struct Counter : TopElementReader {
    int elements = 0;
    void read(const XmlDocument& doc, std::uint32_t element) override {
      ++elements;
      CHECK(doc.at(element).parent == 0);
      CHECK(doc.root().children.back() == element);  // the one child of the root the tree holds
      CHECK(doc.root().children.size() == 1);
    }
  };
  auto counters = [] { return std::make_unique<Counter>(); };
  auto count = [&](const std::string& text, std::size_t readers) {
    DiagnosticList diags;
    std::optional<StreamedDocument> read =
        read_xml_streamed(text, embedded_fml_schema(), "fml.xsd", diags, counters, 0);
    REQUIRE(read);
    CHECK(read->doc.elements.size() == 1);  // the root alone
    REQUIRE(read->readers.size() == readers);
    int elements = 0;
    for (const auto& r : read->readers) elements += dynamic_cast<Counter&>(*r).elements;
    return elements;
  };
  CHECK(count(big_farm(60), 2) == 1 + 120);
  std::string comment = "  <!--\n";
  for (int i = 0; i < 400; ++i) comment += "  <tier id=\"not-a-tier\">\n";
  comment += "  -->\n";
  CHECK(count(big_farm(2, comment), 1) == 1 + 4);
}

// What compile_source says, as one string: the rendered diagnostics, then the plan.
std::string outcome(const std::string& text) {
  CompileResult result = compile_source(text, "big.fml");
  return result.rendered_diagnostics() + (result.plan ? plan::to_json(*result.plan) : std::string("no plan\n"));
}

// The same, from one parse of the whole tree and analyze().
std::string outcome_in_one_piece(const std::string& text) {
  DiagnosticList diags;
  std::optional<XmlDocument> doc = read(text, SIZE_MAX, diags);
  std::optional<plan::Plan> plan;
  if (doc) {
    std::optional<Farm> farm = analyze(*doc, "big", diags);
    if (farm && !diags.has_errors()) plan = lower(*farm);
  }
  diags.sort_by_position();
  return render(diags, "big.fml", text) + (plan ? plan::to_json(*plan) : std::string("no plan\n"));
}

TEST_CASE("a large farm compiles in halves to the plan and diagnostics of one piece", "[compiler][halves]") {
  int tiers = 2400;  // over a megabyte: compile_source reads it in two halves
  REQUIRE(big_farm(tiers).size() > kTwoThreadsFromBytes);

  SECTION("a farm without errors: the same plan") {
    std::string text = big_farm(tiers);
    std::string halves = outcome(text);
    CHECK(halves.find("\"farm\": \"big\"") != std::string::npos);
    CHECK(halves == outcome_in_one_piece(text));
  }
  SECTION("duplicates across the halves name the first in the whole file") {
    // t3 again, twice, in the second half; r5 again in the second half
    std::string again =
        "  <tier id=\"t3\" name=\"again-a\"><role>r5</role></tier>\n"
        "  <tier id=\"t3\" name=\"web7\"><role>r-none</role></tier>\n"
        "  <server-role id=\"r5\" name=\"twice\"><hw>x</hw></server-role>\n";
    std::string text = big_farm(tiers);
    text.insert(text.rfind("</farm>"), again);
    std::string halves = outcome(text);
    CHECK(halves.find("duplicate tier id 't3' (first at line 43)") != std::string::npos);
    CHECK(halves.find("names role 'r-none'") != std::string::npos);
    CHECK(halves == outcome_in_one_piece(text));
  }
  SECTION("an error of the schema in one half: the whole file is read in one piece") {
    std::string text = big_farm(tiers);
    text.insert(text.rfind("</farm>"), "  <tier id=\"odd\" name=\"odd\" colour=\"red\"><role>r1</role></tier>\n");
    std::string halves = outcome(text);
    CHECK(halves.find("unknown attribute 'colour'") != std::string::npos);
    CHECK(halves == outcome_in_one_piece(text));
  }
  SECTION("a file that is not well-formed in its first half") {
    std::string text = big_farm(tiers);
    text.replace(text.find("</tier>", 2000), 7, "</tear>");
    CHECK(outcome(text) == outcome_in_one_piece(text));
  }
}

}  // namespace
}  // namespace farmctl::fml
