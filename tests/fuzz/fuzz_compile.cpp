// libFuzzer target: compile_source end to end, an input being a farm file.
// See compile_fuzz_input.h for what is checked besides the sanitizers.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/compile_fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  farmctl::fml::fuzz::compile_input(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
