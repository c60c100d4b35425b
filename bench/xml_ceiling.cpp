// What Xerces-C++ itself costs: a farm file (or, with --wiring, a wiring
// map) read by farmctl's own reader — the same features, limits and embedded
// schema (fml::parse_only) — into a handler that keeps nothing, validating.
// For scale: a large farm file's pieces are read on two threads without the
// validator (docs/design/schema-outline.md), so compile's MB/s may pass it.
// Prints the best of three runs.
//   build/bench/xml_ceiling FILE [--wiring]
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "compiler/embedded_schema.h"
#include "compiler/xml_reader.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: xml_ceiling FILE [--wiring]\n";
    return 1;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  bool wiring = argc > 2 && std::string(argv[2]) == "--wiring";
  std::string_view schema = wiring ? farmctl::fml::embedded_wiring_schema() : farmctl::fml::embedded_fml_schema();
  double best = 1e9;
  for (int run = 0; run < 3; ++run) {
    auto started = std::chrono::steady_clock::now();
    if (!farmctl::fml::parse_only(text, schema, wiring ? "wiring.xsd" : "fml.xsd")) {
      std::cerr << "xml_ceiling: " << argv[1] << " is not a valid document\n";
      return 1;
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  fmt::print("{:.1f} MB/s ({} bytes in {:.3f} s)\n", static_cast<double>(text.size()) / 1048576 / best, text.size(),
             best);
  return 0;
}
