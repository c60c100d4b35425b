#include "compiler/compiler.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>

#include "compiler/analyzer.h"
#include "compiler/embedded_schema.h"
#include "compiler/lowering.h"
#include "compiler/xml_reader.h"
#include "runtime/phase_timer.h"

namespace farmctl::fml {

CompileResult compile_source(std::string source, std::string file_name, CompileUntil until) {
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

namespace {

// The whole of a file opened as `in`, of `size` bytes when known.
std::string read_whole(std::ifstream& in, std::optional<std::uintmax_t> size) {
  runtime::PhaseTimer timer("compile: read the file");
  // Read at once into a string of the file's size: a stream buffer grows by
  // doubling, which for a 60 MB farm file copied and faulted in twice as much.
  std::string text;
  if (size) {
    text.resize(*size);
    in.read(text.data(), static_cast<std::streamsize>(*size));
    text.resize(static_cast<std::size_t>(in.gcount()));
  }
  // What the size did not tell (a pipe such as /dev/stdin, a file that grew).
  if (in) {
    std::ostringstream rest;
    rest << in.rdbuf();
    text += std::move(rest).str();
  }
  return text;
}

}  // namespace

CompileResult compile_file(const std::string& path, CompileUntil until) {
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
  std::error_code size_unknown;
  std::optional<std::uintmax_t> size = std::filesystem::file_size(path, size_unknown);
  if (size_unknown) size.reset();
  // A large file is read in pieces on two threads: Xerces is set up on the
  // second core meanwhile.
  std::future<void> xerces_ready;
  if (size && *size >= kTwoThreadsFromBytes) xerces_ready = std::async(std::launch::async, ensure_xerces_initialized);
  return compile_source(read_whole(in, size), path, until);
}

}  // namespace farmctl::fml
