// The outline of a schema (compiler/schema_outline.h), which the pieces of a
// large farm file are checked against instead of Xerces-C++'s validator.
// Its promise: a well-formed document that fits the outline is valid against
// the schema. Every document this suite has (examples, the bad files, the
// fuzz corpus, and mutations made here) is held to it: if it fits, the
// validator finds nothing.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/embedded_schema.h"
#include "compiler/schema_outline.h"
#include "compiler/xml_reader.h"

namespace farmctl::fml {
namespace {

namespace fs = std::filesystem;

// The outline of an embedded schema, read once.
const SchemaOutline& outline_of(std::string_view xsd) {
  static std::map<const char*, std::optional<SchemaOutline>> outlines;
  auto [it, added] = outlines.try_emplace(xsd.data());
  if (added) it->second = read_schema_outline(xsd);
  REQUIRE(it->second);
  return *it->second;
}
const SchemaOutline& fml_outline() { return outline_of(embedded_fml_schema()); }
const SchemaOutline& wiring_outline() { return outline_of(embedded_wiring_schema()); }

// What the validator says of the document: nothing when it is valid.
bool valid(const std::string& text, std::string_view xsd = embedded_fml_schema()) {
  DiagnosticList diags;
  std::optional<XmlDocument> doc = read_xml_document(text, xsd, "schema.xsd", diags, SIZE_MAX);
  return doc && !diags.has_errors();
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

std::vector<fs::path> files_in(const std::string& dir, const std::string& extension) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(fs::path(FARMCTL_SOURCE_DIR) / dir))
    if (e.is_regular_file() && (extension.empty() || e.path().extension() == extension)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// A small valid farm; `inside_tier` goes inside its tier, `inside_role`
// inside its server role, `root_attributes` on <farm>.
std::string farm(std::string_view inside_tier = "", std::string_view inside_role = "",
                 std::string_view root_attributes = "", std::string_view npiv = "false") {
  return fmt::format(
      "<?xml version=\"1.0\"?>\n<farm fmlversion=\"1.2\" name=\"f\"{}>\n"
      "  <farm-global-disks><global-disk global-name=\"g\" drivesize=\"1GB\"/></farm-global-disks>\n"
      "  <subnet id=\"s\" name=\"front\"/>\n"
      "  <tier id=\"t\" name=\"web\"><interface name=\"eth0\" subnet=\"s\"/><role>r</role>{}</tier>\n"
      "  <server-role id=\"r\" name=\"web\" npiv=\"{}\"><hw>x86</hw>\n"
      "    <disk target=\"0\" drivesize=\"8GB\"><diskimage type=\"system\">linux</diskimage></disk>{}\n"
      "    <shared-disk global-name=\"g\" target=\"5\"/>\n  </server-role>\n</farm>\n",
      root_attributes, inside_tier, npiv, inside_role);
}

TEST_CASE("the farm schema has an outline", "[compiler][outline]") {
  const SchemaOutline& outline = fml_outline();
  SchemaOutline::TypeId root = outline.root("farm");
  REQUIRE(root != SchemaOutline::kNoType);
  CHECK(outline.root("tier") == SchemaOutline::kNoType);
  CHECK(outline.type(root).required == 1);  // fmlversion
  SchemaOutline::TypeId role = outline.child(root, "server-role");
  REQUIRE(role != SchemaOutline::kNoType);
  CHECK(outline.child(root, "disk") == SchemaOutline::kNoType);
  SchemaOutline::TypeId hw = outline.child(role, "hw");
  REQUIRE(hw != SchemaOutline::kNoType);
  CHECK(outline.type(hw).text);
  CHECK(outline.type(hw).attributes.empty());
  CHECK_FALSE(outline.type(role).text);
  SchemaOutline::TypeId disk = outline.child(role, "disk");
  SchemaOutline::TypeId image = outline.child(disk, "diskimage");
  REQUIRE(image != SchemaOutline::kNoType);
  CHECK(outline.type(image).text);
  CHECK(outline.type(image).required == 1);
  const auto& role_attributes = outline.type(role).attributes;
  auto npiv = std::find_if(role_attributes.begin(), role_attributes.end(),
                           [](const SchemaOutline::Attribute& a) { return a.name == "npiv"; });
  REQUIRE(npiv != role_attributes.end());
  CHECK(npiv->type == SchemaOutline::ValueType::boolean);
  CHECK_FALSE(npiv->required);
  // a sequence of one repeated element reads as a choice of it
  SchemaOutline::TypeId globals = outline.child(root, "farm-global-disks");
  CHECK(outline.child(globals, "global-disk") != SchemaOutline::kNoType);
  CHECK_FALSE(outline.type(role).any_attribute);
}

TEST_CASE("the wiring schema has an outline: devices take any plain attribute", "[compiler][outline]") {
  const SchemaOutline& outline = wiring_outline();
  SchemaOutline::TypeId root = outline.root("wiring-map");
  REQUIRE(root != SchemaOutline::kNoType);
  SchemaOutline::TypeId array = outline.child(root, "array");
  REQUIRE(array != SchemaOutline::kNoType);
  CHECK(outline.type(array).any_attribute);
  SchemaOutline::TypeId volume = outline.child(array, "volume");
  REQUIRE(volume != SchemaOutline::kNoType);
  CHECK_FALSE(outline.type(volume).any_attribute);
  SchemaOutline::TypeId host = outline.child(root, "host");
  CHECK(outline.child(host, "initiator") != SchemaOutline::kNoType);  // a sequence of an inline type

  auto map = [](std::string_view array_attributes, std::string_view volume_attributes = "") {
    return fmt::format(
        "<?xml version=\"1.0\"?>\n<wiring-map>\n  <array name=\"a\" driver=\"sim\"{}>\n"
        "    <port id=\"P\" iqn=\"iqn.2001-07.com.example:a\"/>\n    <volume id=\"V1\" size=\"1024\"{}/>\n"
        "  </array>\n  <host name=\"h\" hw=\"x86\"><initiator iqn=\"iqn.2001-07.com.example:h\"/></host>\n"
        "</wiring-map>\n",
        array_attributes, volume_attributes);
  };
  struct Case {
    std::string what;
    std::string text;
    bool fits;
  };
  std::vector<Case> cases = {
      {"a plain map", map(""), true},
      {"a driver's own attributes on a device", map(" latency=\"5ms\" dir=\"/srv\""), true},
      {"an attribute no volume has", map("", " colour=\"red\""), false},
      {"a prefixed attribute on a device", map(" x:latency=\"5ms\" xmlns:x=\"urn:x\""), false},
      {"a default namespace on a device", map(" xmlns=\"urn:x\""), false},
      {"a device without its driver", "<wiring-map><array name=\"a\"/></wiring-map>", false},
  };
  for (const Case& c : cases) {
    INFO(c.what << "\n" << c.text);
    CHECK(fits_outline(c.text, outline) == c.fits);
    if (c.fits) CHECK(valid(c.text, embedded_wiring_schema()));
  }
  for (const fs::path& file : files_in("examples", ".xml")) {
    INFO(file.string());
    std::string text = read_file(file);
    CHECK(fits_outline(text, outline));
    CHECK(valid(text, embedded_wiring_schema()));
  }
}

TEST_CASE("an XSD that uses more than an outline holds has none", "[compiler][outline]") {
  auto schema = [](std::string_view type_body, std::string_view schema_attributes = "") {
    return fmt::format(
        "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"{}>\n"
        "  <xs:element name=\"root\" type=\"Root\"/>\n"
        "  <xs:complexType name=\"Root\">{}</xs:complexType>\n</xs:schema>\n",
        schema_attributes, type_body);
  };
  std::string choice = "<xs:choice minOccurs=\"0\" maxOccurs=\"unbounded\"><xs:element name=\"a\" type=\"xs:string\"/>"
                       "</xs:choice>";
  REQUIRE(read_schema_outline(schema(choice)));
  REQUIRE(read_schema_outline(schema(choice + "<xs:attribute name=\"n\" type=\"xs:string\" use=\"required\"/>")));
  const char* beyond[] = {
      "<xs:choice><xs:element name=\"a\" type=\"xs:string\"/></xs:choice>",  // exactly one
      "<xs:choice minOccurs=\"1\" maxOccurs=\"unbounded\"><xs:element name=\"a\" type=\"xs:string\"/></xs:choice>",
      "<xs:choice minOccurs=\"0\" maxOccurs=\"unbounded\"><xs:element name=\"a\" type=\"xs:string\" "
      "maxOccurs=\"2\"/></xs:choice>",
      "<xs:sequence><xs:element name=\"a\" type=\"xs:string\"/><xs:element name=\"b\" type=\"xs:string\"/>"
      "</xs:sequence>",
      "<xs:sequence><xs:element name=\"a\" type=\"xs:string\"/></xs:sequence>",  // exactly one
      "<xs:choice minOccurs=\"0\" maxOccurs=\"unbounded\"><xs:element name=\"a\" type=\"xs:int\"/></xs:choice>",
      "<xs:choice minOccurs=\"0\" maxOccurs=\"unbounded\"><xs:element name=\"a\"/></xs:choice>",  // any type
      "<xs:choice minOccurs=\"0\" maxOccurs=\"unbounded\"><xs:any/></xs:choice>",
      "<xs:attribute name=\"n\" type=\"xs:int\"/>",
      "<xs:attribute name=\"n\"/>",
      "<xs:attribute name=\"n\" type=\"xs:string\" default=\"x\"/>",
      "<xs:attribute name=\"n\" type=\"xs:string\" use=\"prohibited\"/>",
      "<xs:anyAttribute processContents=\"lax\"/>",
      "<xs:anyAttribute/>",  // strict: the validator would look for the attributes' declarations
      "<xs:anyAttribute processContents=\"skip\" namespace=\"##other\"/>",
      "<xs:simpleContent><xs:extension base=\"xs:token\"/></xs:simpleContent>",
      "<xs:simpleContent><xs:restriction base=\"xs:string\"/></xs:simpleContent>",
      "<xs:attributeGroup ref=\"g\"/>",
  };
  for (const char* body : beyond) {
    INFO(body);
    CHECK_FALSE(read_schema_outline(schema(body)));
  }
  CHECK_FALSE(read_schema_outline(schema(choice, " targetNamespace=\"urn:x\"")));
  CHECK_FALSE(read_schema_outline(schema(choice, " elementFormDefault=\"qualified\"")));
  CHECK_FALSE(read_schema_outline("<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">"
                                  "<xs:complexType name=\"Root\" mixed=\"true\"/>"
                                  "<xs:element name=\"root\" type=\"Root\"/></xs:schema>"));
  CHECK_FALSE(read_schema_outline("<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">"
                                  "<xs:element name=\"root\" type=\"Missing\"/></xs:schema>"));
  CHECK_FALSE(read_schema_outline("not a schema"));
}

TEST_CASE("what the outline takes and what it doubts", "[compiler][outline]") {
  struct Case {
    std::string what;
    std::string text;
    bool fits;
  };
  std::vector<Case> cases = {
      {"a valid farm", farm(), true},
      {"comments, processing instructions, blanks written as references",
       farm(" <!-- c --> <?note x?> &#32;&#10; "), true},
      {"references in text", farm("<min-servers>&#49;</min-servers>", "<hw>a &amp; b</hw>"), true},
      {"npiv written 1", farm("", "", "", "1"), true},
      {"an unknown element", farm("<colour/>"), false},
      {"an element where it may not stand", farm("<hw>x</hw>"), false},
      {"an unknown attribute", farm("", "", " colour=\"red\""), false},
      {"a required attribute missing", farm("<interface name=\"eth1\"/>"), false},
      {"text where only elements stand", farm("words"), false},
      {"an entity where only elements stand", farm("&amp;"), false},
      {"an element inside text", farm("<role>r<hw>x</hw></role>"), false},
      {"an attribute on a text element", farm("<min-servers n=\"1\">1</min-servers>"), false},
      {"a CDATA section of blanks", farm("<![CDATA[ ]]>"), false},
      {"a CDATA section in text", farm("<min-servers><![CDATA[1]]></min-servers>"), false},
      {"npiv that is not a boolean", farm("", "", "", "yes"), false},
      {"npiv with blanks, which the schema takes", farm("", "", "", " 1 "), false},
      {"the schema's instance attributes", farm("", "", " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                                                        "xsi:noNamespaceSchemaLocation=\"fml.xsd\""),
       false},
      {"a default namespace", farm("", "", " xmlns=\"urn:farm\""), false},
      {"an element with a prefix", farm("<x:role xmlns:x=\"urn:x\">r</x:role>"), false},
      {"an undeclared prefix", farm("<x:role>r</x:role>"), false},
      {"a root the schema does not declare", "<tier id=\"t\" name=\"x\"/>", false},
      {"not well-formed", "<farm fmlversion=\"1.2\"><tier></farm>", false},
  };
  for (const Case& c : cases) {
    INFO(c.what << "\n" << c.text);
    CHECK(fits_outline(c.text, fml_outline()) == c.fits);
    if (c.fits) CHECK(valid(c.text));
  }
}

TEST_CASE("every document that fits the outline is valid against the schema", "[compiler][outline]") {
  std::vector<fs::path> files = files_in("examples", ".fml");
  std::vector<fs::path> bad = files_in("tests/data/bad", ".fml");
  std::vector<fs::path> corpus = files_in("tests/fuzz/corpus/compile", "");
  files.insert(files.end(), bad.begin(), bad.end());
  files.insert(files.end(), corpus.begin(), corpus.end());
  REQUIRE(files.size() > 100);
  int fitting = 0, examples_fitting = 0;
  for (const fs::path& file : files) {
    std::string text = read_file(file);
    INFO(file.string());
    if (!fits_outline(text, fml_outline())) continue;
    ++fitting;
    if (file.parent_path().filename() == "examples") ++examples_fitting;
    CHECK(valid(text));
  }
  CHECK(examples_fitting == static_cast<int>(files_in("examples", ".fml").size()));
  CHECK(fitting > examples_fitting);  // bad files with errors the schema does not see fit too
}

}  // namespace
}  // namespace farmctl::fml
