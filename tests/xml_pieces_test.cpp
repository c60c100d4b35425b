// A large farm file is cut into pieces that two threads read, each child of
// <farm> analysed as soon as it is read (compiler/xml_pieces.h,
// read_xml_streamed, analyze_parts). These tests pin that the pieces give
// exactly what one parse of the whole file gives: the same tree, the same
// plan, the same diagnostics, and the whole-file parse whenever a piece has
// anything wrong with it.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/analyzer.h"
#include "compiler/compiler.h"
#include "compiler/embedded_schema.h"
#include "compiler/lowering.h"
#include "compiler/xml_pieces.h"
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
  DiagnosticList one_diags, pieces_diags;
  std::optional<XmlDocument> one = read(text, SIZE_MAX, one_diags);
  std::optional<XmlDocument> pieces = read(text, 0, pieces_diags);
  REQUIRE(one);
  REQUIRE(pieces);
  CHECK(one_diags.items().empty());
  CHECK(pieces_diags.items().empty());
  CHECK(shape(*one) == shape(*pieces));
}

// The piece's text, as the parser reads it.
std::string joined(const std::vector<std::string_view>& parts) {
  std::string text;
  for (std::string_view p : parts) text += p;
  return text;
}

// Where the parser's line `line` of piece k is in the whole document.
int whole_line(const DocumentPieces& pieces, std::size_t k, int line) {
  return line >= pieces.first_shifted_line() ? line + pieces.line_shift(k) : line;
}

TEST_CASE("a document is cut at children of the root, each piece a document", "[compiler][pieces]") {
  std::string text = big_farm(400);
  std::optional<DocumentPieces> pieces = find_document_pieces(text, 4);
  REQUIRE(pieces);
  REQUIRE(pieces->pieces() == 4);
  CHECK(pieces->closer == "</farm>");
  CHECK(text.substr(0, pieces->root_tag_end).ends_with("<farm fmlversion=\"1.2\" name=\"big\">"));
  for (std::size_t k = 0; k < pieces->cuts.size(); ++k) {
    const DocumentPieces::Cut& cut = pieces->cuts[k];
    CHECK(cut.at >= text.size() / 4 * (k + 1));
    CHECK((text.substr(cut.at, 6) == "<tier " || text.substr(cut.at, 13) == "<server-role "));
    CHECK(cut.indent == "  ");
    CHECK(cut.line == 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(cut.at), '\n'));
    // the cut's element stands on its own line and column, once shifted
    std::string piece = joined(pieces->piece(text, k + 1));
    std::size_t at = piece.find(text.substr(cut.at, 60));
    REQUIRE(at != std::string::npos);
    int line_in_piece = 1 + static_cast<int>(std::count(piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    CHECK(whole_line(*pieces, k + 1, line_in_piece) == cut.line);
    CHECK(piece.ends_with(k + 2 < pieces->pieces() ? "</farm>" : "</farm>\n"));
  }
  CHECK(joined(pieces->piece(text, 0)) == text.substr(0, pieces->cuts[0].at) + "</farm>");
}

TEST_CASE("line ends are counted as the parser counts them: CR LF once", "[compiler][pieces]") {
  std::string text = big_farm(400, "", "\r\n");
  std::optional<DocumentPieces> pieces = find_document_pieces(text, 3);
  REQUIRE(pieces);
  for (const DocumentPieces::Cut& cut : pieces->cuts)
    CHECK(cut.line == 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(cut.at), '\n'));
  // Lines ended by a CR alone (old Macs) are not cut: such a file is read by one parse.
  CHECK_FALSE(find_document_pieces(big_farm(400, "", "\r"), 3));
}

TEST_CASE("documents that cannot be cut are not", "[compiler][pieces]") {
  CHECK_FALSE(find_document_pieces("<farm fmlversion=\"1.2\"/>", 2));
  CHECK_FALSE(find_document_pieces("<!DOCTYPE farm>\n<farm>\n  <tier/>\n  <tier/>\n</farm>\n", 2));
  CHECK_FALSE(find_document_pieces("<?xml version=\"1.0\"?>\n<farm><tier/><tier/></farm>", 2));
  CHECK_FALSE(find_document_pieces("   ", 2));
  CHECK_FALSE(find_document_pieces(big_farm(40), 1));
}

TEST_CASE("pieces build the very tree one parse builds", "[compiler][pieces]") {
  SECTION("plain, two pieces") { check_same_tree(big_farm(60)); }
  SECTION("many pieces, lines ending in CR LF or CR alone") {
    check_same_tree(big_farm(9000));
    check_same_tree(big_farm(9000, "", "\r\n"));
    check_same_tree(big_farm(9000, "", "\r"));
  }
  SECTION("with a comment and tabs where it is cut") {
    check_same_tree(big_farm(60, "  <!-- a comment\n  <tier id=\"in-a-comment\"> is not a tier -->\n\t\n"));
  }
  SECTION("a cut guessed inside a comment falls back to one parse") {
    std::string comment = "  <!--\n";
    for (int i = 0; i < 400; ++i) comment += "  <tier id=\"not-a-tier\">\n";
    comment += "  -->\n";
    std::string text = big_farm(2, comment);
    std::optional<DocumentPieces> pieces = find_document_pieces(text, 2);
    REQUIRE(pieces);
    CHECK(text.substr(pieces->cuts[0].at, 25) == "<tier id=\"not-a-tier\">\n  ");  // the guess is wrong
    check_same_tree(text);
  }
  SECTION("a cut guessed inside a nested element falls back to one parse") {
    std::string nested = "  <server-role id=\"deep\" name=\"deep\">\n    <hw>x</hw>\n";
    for (int i = 0; i < 300; ++i) nested += fmt::format("  <disk target=\"{}\" drivesize=\"1GB\"/>\n", i % 200);
    nested += "  </server-role>\n";
    DiagnosticList one_diags, pieces_diags;
    std::string text = big_farm(2, nested);
    std::optional<XmlDocument> one = read(text, SIZE_MAX, one_diags);
    std::optional<XmlDocument> in_pieces = read(text, 0, pieces_diags);
    REQUIRE(one);
    REQUIRE(in_pieces);
    CHECK(shape(*one) == shape(*in_pieces));
  }
}

TEST_CASE("a streamed read has a reader per piece, or one when a piece fails", "[compiler][pieces]") {
  struct Counter : TopElementReader {
    int elements = 0;
    int not_alone = 0;  // read while the tree held other children of the root
    void read(const XmlDocument& doc, std::uint32_t element) override {
      ++elements;
      if (doc.at(element).parent != 0 || doc.root().children != std::vector<std::uint32_t>{element}) ++not_alone;
    }
  };
  auto counters = [] { return std::make_unique<Counter>(); };
  auto count = [&](const std::string& text, std::size_t fewest_readers, std::size_t most_readers) {
    DiagnosticList diags;
    std::optional<StreamedDocument> read =
        read_xml_streamed(text, embedded_fml_schema(), "fml.xsd", diags, counters, 0);
    REQUIRE(read);
    CHECK(read->doc.elements.size() == 1);  // the root alone
    REQUIRE(read->readers.size() >= fewest_readers);
    REQUIRE(read->readers.size() <= most_readers);
    int elements = 0;
    for (const auto& r : read->readers) {
      elements += dynamic_cast<Counter&>(*r).elements;
      CHECK(dynamic_cast<Counter&>(*r).not_alone == 0);
    }
    return elements;
  };
  CHECK(count(big_farm(60), 2, 2) == 1 + 120);
  CHECK(count(big_farm(9000), 3, 32) == 1 + 18000);
  std::string comment = "  <!--\n";
  for (int i = 0; i < 400; ++i) comment += "  <tier id=\"not-a-tier\">\n";
  comment += "  -->\n";
  CHECK(count(big_farm(2, comment), 1, 1) == 1 + 4);
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

TEST_CASE("a large farm compiles in pieces to the plan and diagnostics of one parse", "[compiler][pieces]") {
  int tiers = 5000;  // over two megabytes: compile_source reads it in pieces
  REQUIRE(big_farm(tiers).size() > kTwoThreadsFromBytes);

  SECTION("a farm without errors: the same plan") {
    std::string text = big_farm(tiers);
    std::string pieces = outcome(text);
    CHECK(pieces.find("\"farm\": \"big\"") != std::string::npos);
    CHECK(pieces == outcome_in_one_piece(text));
  }
  // Each inserted before </farm>, in the last piece; what the messages must say.
  struct Late {
    const char* what;
    std::string inserted;
    std::vector<std::string> said;
  };
  std::vector<Late> lates = {
      {"duplicates across the pieces name the first in the whole file",
       // t3 again, twice (it is first at line 43, in the first piece); r5 again
       "  <tier id=\"t3\" name=\"again-a\"><role>r5</role></tier>\n"
       "  <tier id=\"t3\" name=\"web7\"><role>r-none</role></tier>\n"
       "  <server-role id=\"r5\" name=\"twice\"><hw>x</hw></server-role>\n",
       {"duplicate tier id 't3' (first at line 43)", "names role 'r-none'"}},
      {"an error of the schema in one piece: the whole file is read by one parse",
       "  <tier id=\"odd\" name=\"odd\" colour=\"red\"><role>r1</role></tier>\n", {"unknown attribute 'colour'"}},
      // The pieces are read without the validator, each checked against the
      // schema's outline: what the outline doubts is read again, validated.
      {"a required attribute missing in a later piece",
       "  <tier id=\"odd\"><role>r1</role></tier>\n", {"<tier> needs the attribute 'name'"}},
      {"text where only elements stand, in a later piece",
       "  <tier id=\"odd\" name=\"odd\">words<role>r1</role></tier>\n", {"<tier> takes no text"}},
      {"a CDATA section where only elements stand, in a later piece",
       "  <tier id=\"odd\" name=\"odd\"><![CDATA[ ]]><role>r1</role></tier>\n", {"<tier> takes no text"}},
      {"a boolean the schema refuses, in a later piece",
       "  <server-role id=\"odd\" name=\"odd\" npiv=\"yes\"><hw>x</hw></server-role>\n", {"npiv"}},
      {"old FML's comma between attributes, in a later piece: said as one parse says it",
       "  <tier id=\"old\", name=\"old\"><role>r1</role></tier>\n", {"separated by a comma"}},
  };
  for (const Late& late : lates) {
    DYNAMIC_SECTION(late.what) {
      std::string text = big_farm(tiers);
      text.insert(text.rfind("</farm>"), late.inserted);
      std::string pieces = outcome(text);
      for (const std::string& words : late.said) CHECK(pieces.find(words) != std::string::npos);
      CHECK(pieces == outcome_in_one_piece(text));
    }
  }
  SECTION("what the outline doubts but the schema takes: the same plan") {
    std::string text = big_farm(tiers);
    text.replace(text.find("name=\"big\""), 10,
                 "name=\"big\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                 "xsi:noNamespaceSchemaLocation=\"fml.xsd\"");
    text.insert(text.rfind("</farm>"),
                "  <server-role id=\"npiv\" name=\"npiv\" npiv=\" true \"><hw>x</hw></server-role>\n");
    std::string pieces = outcome(text);
    CHECK(pieces.find("\"farm\": \"big\"") != std::string::npos);
    CHECK(pieces == outcome_in_one_piece(text));
  }
  SECTION("a file that is not well-formed in its first piece") {
    std::string text = big_farm(tiers);
    text.replace(text.find("</tier>", 2000), 7, "</tear>");
    CHECK(outcome(text) == outcome_in_one_piece(text));
  }
}

TEST_CASE("farmctl compile's JSON, written straight from the farm, is the plan's JSON", "[compiler][pieces]") {
  // 2 servers x 2 private disks per tier: 5,000 tiers make 20,000 volumes,
  // written on two threads; 40 tiers on one.
  for (int tiers : {40, 5000}) {
    std::string text = big_farm(tiers);
    CompileResult plan = compile_source(text, "big.fml");
    CompileResult farm = compile_source(text, "big.fml", CompileUntil::farm);
    REQUIRE(plan.plan);
    REQUIRE(farm.farm);
    CHECK_FALSE(farm.plan);
    std::ostringstream written;
    REQUIRE(write_plan_json(*farm.farm, written));
    CHECK(written.str() == plan::to_json(*plan.plan));
  }
  // A tier of 15,000 servers is cut into parts inside it; a tier of none
  // stands between two others.
  {
    std::string text = big_farm(3);
    std::string big_tier = "<init-servers>15000</init-servers><max-servers>15000</max-servers>";
    text.replace(text.find("<init-servers>2</init-servers>"), 30, big_tier);
    text.replace(text.find("<init-servers>2</init-servers>"), 30, "<init-servers>0</init-servers>");
    CompileResult plan = compile_source(text, "big.fml");
    CompileResult farm = compile_source(text, "big.fml", CompileUntil::farm);
    INFO(plan.rendered_diagnostics());
    REQUIRE(plan.plan);
    REQUIRE(farm.farm);
    CHECK(plan.plan->servers.size() == 15'002);
    CHECK(plan.plan->servers.back().name == "web2-1");
    std::ostringstream written;
    REQUIRE(write_plan_json(*farm.farm, written));
    CHECK(written.str() == plan::to_json(*plan.plan));
  }
  // a farm of global disks only, and one with no servers at all
  for (std::string body : {std::string("  <farm-global-disks><global-disk global-name=\"g\" drivesize=\"1GB\"/>"
                                       "</farm-global-disks>\n"),
                           std::string()}) {
    std::string text = "<?xml version=\"1.0\"?>\n<farm fmlversion=\"1.2\" name=\"empty\">\n" + body + "</farm>\n";
    CompileResult plan = compile_source(text, "empty.fml");
    CompileResult farm = compile_source(text, "empty.fml", CompileUntil::farm);
    REQUIRE(plan.plan);
    REQUIRE(farm.farm);
    std::ostringstream written;
    REQUIRE(write_plan_json(*farm.farm, written));
    CHECK(written.str() == plan::to_json(*plan.plan));
  }
}

}  // namespace
}  // namespace farmctl::fml
