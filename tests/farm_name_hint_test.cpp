// fml::farm_name_hint: the farm name a file's root tag gives, read without
// compiling it (farmctl plan reads the farm's records meanwhile). A guess
// that is checked afterwards, so the cases that matter are that it is right
// for ordinary files and gives up on the unusual ones.
#include "compiler/farm_name_hint.h"

#include <catch2/catch.hpp>

namespace farmctl::fml {
namespace {

TEST_CASE("the farm name hint reads the root tag's name, or the file's stem", "[compiler]") {
  struct Row {
    const char* what;
    const char* source;
    std::optional<std::string> hint;
  };
  const Row rows[] = {
      {"name attribute", "<?xml version=\"1.0\"?>\n<farm fmlversion=\"1.2\" name=\"web-prod\">", "web-prod"},
      {"single quotes and spaces", "<farm name = 'a b' fmlversion='1.2'>", "a b"},
      {"comments and a declaration first", "<?xml version=\"1.0\"?><!-- <farm name=\"x\"> -->\n<farm name=\"y\">",
       "y"},
      {"no name: the stem", "<farm fmlversion=\"1.2\">", "dir/web"},
      {"an empty farm element", "<farm/>", "dir/web"},
      {"an entity in the name", "<farm name=\"w&#101;b\">", std::nullopt},
      {"another root element", "<wiring-map name=\"web\">", std::nullopt},
      {"a longer element name", "<farmer name=\"web\">", std::nullopt},
      {"a tag that does not end", "<farm name=\"web\"", std::nullopt},
      {"a comment that does not end", "<!-- <farm name=\"web\">", std::nullopt},
      {"an attribute without quotes", "<farm name=web>", std::nullopt},
      {"nothing", "", std::nullopt},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    std::optional<std::string> hint = farm_name_hint(row.source, "dir/web.fml");
    if (row.hint && *row.hint == "dir/web")
      CHECK(hint == std::optional<std::string>("web"));
    else
      CHECK(hint == row.hint);
  }
}

}  // namespace
}  // namespace farmctl::fml
