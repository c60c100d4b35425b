#include "compiler/compiler.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/analyzer.h"
#include "compiler/embedded_schema.h"
#include "compiler/lowering.h"
#include "compiler/xml_reader.h"

namespace farmctl::fml {

CompileResult compile_source(std::string source, std::string file_name) {
  CompileResult result;
  result.source = std::move(source);
  result.file_name = std::move(file_name);
  std::optional<XmlDocument> doc =
      read_xml_document(result.source, embedded_fml_schema(), "fml.xsd", result.diagnostics);
  if (doc) {
    std::string stem = std::filesystem::path(result.file_name).stem().string();
    std::optional<Farm> farm = analyze(*doc, stem, result.diagnostics);
    if (farm && !result.diagnostics.has_errors()) result.plan = lower(*farm);
  }
  result.diagnostics.sort_by_position();
  return result;
}

CompileResult compile_file(const std::string& path) {
  std::error_code ec;
  bool directory = std::filesystem::is_directory(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (!in || directory) {
    CompileResult result;
    result.file_name = path;
    result.diagnostics.error(Code::io, {},
                             "cannot read the file: " + std::string(directory ? "it is a directory" : std::strerror(errno)));
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return compile_source(std::move(text).str(), path);
}

}  // namespace farmctl::fml
