#pragma once
// The XML Schemas of farm files (schemas/fml.xsd) and wiring maps
// (schemas/wiring.xsd), embedded at build time so farmctl works from any directory.
#include <string_view>

namespace farmctl::fml {
std::string_view embedded_fml_schema();
std::string_view embedded_wiring_schema();
}
