#include "compiler/compiler.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>
#include <optional>

#include "compiler/analyzer.h"
#include "compiler/embedded_schema.h"
#include "compiler/lowering.h"
#include "compiler/xml_reader.h"
#include "runtime/phase_timer.h"

namespace farmctl::fml {

CompileResult compile_source(std::string source, std::string file_name, CompileUntil until) {
  return compile_source(SourceText(std::move(source)), std::move(file_name), until);
}

CompileResult compile_source(SourceText source, std::string file_name, CompileUntil until) {
  CompileResult result;
  result.source = std::move(source);
  result.file_name = std::move(file_name);
  // The tree of a large file is never held whole: each child of <farm> is
  // analysed as soon as it is read, and dropped.
  std::optional<StreamedDocument> read;
  {
    runtime::PhaseTimer timer("compile: read and analyze XML");
    read = read_xml_streamed(result.source, embedded_fml_schema(), "fml.xsd", result.diagnostics, farm_part_reader());
  }
  if (read) {
    std::string stem = std::filesystem::path(result.file_name).stem().string();
    std::optional<Farm> farm;
    {
      runtime::PhaseTimer timer("compile: analyze the whole farm");
      farm = analyze_parts(read->doc.root(), read->readers, stem, result.diagnostics);
    }
    if (farm && !result.diagnostics.has_errors()) {
      if (until == CompileUntil::farm) {
        result.farm = std::move(farm);
      } else {
        runtime::PhaseTimer timer("compile: lower");
        result.plan = lower(*farm);
      }
    }
  }
  result.diagnostics.sort_by_position();
  return result;
}

CompileResult compile_file(const std::string& path, CompileUntil until) {
  std::optional<SourceText> text;
  int read_error = 0;
  {
    runtime::PhaseTimer timer("compile: read the file");
    text = SourceText::of_file(path);
    read_error = errno;
  }
  if (!text) {
    CompileResult result;
    result.file_name = path;
    std::string why = read_error == EISDIR ? "it is a directory" : std::strerror(read_error);
    result.diagnostics.error(Code::io, {}, "cannot read the file: " + why);
    return result;
  }
  // A large file is read in pieces on two threads: Xerces is set up on the
  // second core meanwhile.
  std::future<void> xerces_ready;
  if (text->view().size() >= kTwoThreadsFromBytes)
    xerces_ready = std::async(std::launch::async, ensure_xerces_initialized);
  CompileResult result = compile_source(std::move(*text), path, until);
  // A mapped file rewritten in place while it was read (source_text.h): what
  // was made of it may mix two versions, and none of it is kept.
  if (result.source.changed()) {
    result.plan.reset();
    result.farm.reset();
    result.diagnostics.error(Code::io, {}, std::string(kChangedWhileRead));
  }
  return result;
}

}  // namespace farmctl::fml
