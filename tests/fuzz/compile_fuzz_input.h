#pragma once
// How a fuzz input drives the whole compiler: the input is a farm file. Shared
// by fuzz_compile.cpp and tests/fuzz_corpus_test.cpp.
//
// Besides "no crash, no leak, no hang", it checks the front door's promise:
// a plan exactly when there is no error, and every output renders; and the
// schema outline's (compiler/schema_outline.h): what fits it, the validator
// takes.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "compiler/compiler.h"
#include "compiler/embedded_schema.h"
#include "compiler/xml_reader.h"

namespace farmctl::fml::fuzz {

inline void check_outline_promise(const std::string& source) {
  static const std::optional<SchemaOutline> outline = read_schema_outline(embedded_fml_schema());
  if (!outline || !fits_outline(source, *outline)) return;
  DiagnosticList diags;
  std::optional<XmlDocument> doc = read_xml_document(source, embedded_fml_schema(), "fml.xsd", diags, SIZE_MAX);
  if (!doc || diags.has_errors()) {
    std::fprintf(stderr, "a document fits the schema's outline, but the validator refuses it:\n%s",
                 render(diags, "fuzz.fml", source).c_str());
    std::abort();
  }
}

inline void compile_input(std::string source) {
  check_outline_promise(source);
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
