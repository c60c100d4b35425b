// libFuzzer target: each FML value parser (values.h). The first byte of an
// input picks the parser; see value_fuzz_input.h.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/value_fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  farmctl::fml::fuzz::parse_value_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
