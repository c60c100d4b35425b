#pragma once
// The FML XML Schema (schemas/fml.xsd), embedded at build time.
#include <string_view>

namespace farmctl::fml {
std::string_view embedded_fml_schema();
}
