#pragma once
// How a fuzz input drives the whole compiler: the input is a farm file. Shared
// by fuzz_compile.cpp and tests/fuzz_corpus_test.cpp.
//
// Besides "no crash, no leak, no hang", it checks the front door's promise:
// a plan exactly when there is no error, and every output renders.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "compiler/compiler.h"

namespace farmctl::fml::fuzz {

inline void compile_input(std::string source) {
  CompileResult result = compile_source(std::move(source), "fuzz.fml");
  std::string rendered = result.rendered_diagnostics();
  if (result.plan.has_value() == result.diagnostics.has_errors()) {
    std::fprintf(stderr, "a plan must come exactly when there is no error:\n%s", rendered.c_str());
    std::abort();
  }
  if (result.plan) {
    std::string json = plan::to_json(*result.plan);
    std::string text = plan::to_text(*result.plan);
    if (json.empty() || text.empty()) std::abort();
  }
}

}  // namespace farmctl::fml::fuzz
