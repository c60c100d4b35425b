// A farm file's text, mapped when large (compiler/source_text.h): the same
// text and the same plan as a read, and a file cut short under the mapping
// stops farmctl with a named reason instead of a crash.
#include "compiler/source_text.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "compiler/compiler.h"
#include "compiler/plan_ir.h"
#include "temp_dir.h"

namespace farmctl::fml {
namespace {

namespace fs = std::filesystem;

// A farm of `tiers` tiers with a role each: about 600 bytes a tier.
std::string farm_of(int tiers) {
  std::string text = "<?xml version=\"1.0\"?>\n<farm fmlversion=\"1.2\" name=\"mapped\">\n";
  for (int t = 0; t < tiers; ++t)
    text += fmt::format(
        "  <tier id=\"t{0}\" name=\"web{0}\">\n    <role>r{0}</role>\n    <init-servers>1</init-servers>\n  </tier>\n"
        "  <server-role id=\"r{0}\" name=\"web{0}\">\n    <hw>x86</hw>\n"
        "    <disk target=\"0\" drivetype=\"scsi\" drivesize=\"8GB\"><diskimage type=\"system\">linux</diskimage>"
        "</disk>\n  </server-role>\n",
        t);
  return text + "</farm>\n";
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// What a forked child wrote to stderr, and how it ended.
struct ChildEnd {
  std::string stderr_text;
  int status = 0;
};

// Runs `body` in a child process (it must end the process itself).
template <class Body>
ChildEnd in_child(Body body) {
  int err[2];
  REQUIRE(::pipe(err) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(err[1], STDERR_FILENO);
    ::close(err[0]);
    body();
    ::_exit(0);
  }
  ::close(err[1]);
  ChildEnd end;
  char buffer[1024];
  while (ssize_t n = ::read(err[0], buffer, sizeof buffer)) {
    if (n < 0) break;
    end.stderr_text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(err[0]);
  REQUIRE(::waitpid(pid, &end.status, 0) == pid);
  return end;
}

TEST_CASE("a large farm file is mapped, a small one read, and both compile as their text does", "[compiler]") {
  testing::TempDir dir;
  for (int tiers : {10, 1000}) {
    std::string text = farm_of(tiers);
    fs::path path = dir.path() / fmt::format("farm-{}.fml", tiers);
    write_file(path, text);
    INFO(text.size() << " bytes");

    std::optional<SourceText> source = SourceText::of_file(path.string());
    REQUIRE(source);
    CHECK(source->mapped() == (text.size() >= SourceText::kMapFromBytes));
    CHECK(source->view() == text);

    CompileResult from_file = compile_file(path.string());
    CompileResult from_text = compile_source(text, path.string());
    REQUIRE(from_file.plan);
    REQUIRE(from_text.plan);
    CHECK(plan::to_json(*from_file.plan) == plan::to_json(*from_text.plan));
    CHECK(from_file.source.view() == text);
  }
  // Both sizes were taken: the small farm is read, the large one mapped.
  CHECK(farm_of(10).size() < SourceText::kMapFromBytes);
  CHECK(farm_of(1000).size() >= SourceText::kMapFromBytes);
}

TEST_CASE("a mapped text moves with its pages and lets them go once", "[compiler]") {
  testing::TempDir dir;
  fs::path path = dir.path() / "farm.fml";
  std::string text = farm_of(1000);
  write_file(path, text);
  std::optional<SourceText> source = SourceText::of_file(path.string());
  REQUIRE(source);
  REQUIRE(source->mapped());
  SourceText moved = std::move(*source);
  CHECK(moved.mapped());
  CHECK(moved.view() == text);
  CHECK(source->view().empty());
  SourceText assigned;
  assigned = std::move(moved);
  CHECK(assigned.view() == text);
  assigned = SourceText(std::string("small"));
  CHECK_FALSE(assigned.mapped());
  CHECK(assigned.view() == "small");
}

TEST_CASE("a mapped file written in place is changed, one replaced by a rename is not", "[compiler]") {
  testing::TempDir dir;
  fs::path path = dir.path() / "farm.fml";
  std::string text = farm_of(1000);
  write_file(path, text);
  // Made an hour old, so that a write now moves its times whatever the
  // clock's tick.
  fs::last_write_time(path, fs::last_write_time(path) - std::chrono::hours(1));

  std::optional<SourceText> source = SourceText::of_file(path.string());
  REQUIRE(source);
  REQUIRE(source->mapped());
  CHECK_FALSE(source->changed());

  SECTION("replaced by a rename: the mapping keeps the old file, unchanged") {
    fs::path next = dir.path() / "farm.fml.new";
    write_file(next, farm_of(999));
    fs::rename(next, path);
    CHECK_FALSE(source->changed());
    CHECK(source->view() == text);
  }
  SECTION("written in place, the same size") {
    std::fstream(path, std::ios::in | std::ios::out | std::ios::binary).seekp(100).write("x", 1);
    CHECK(source->changed());
  }
  SECTION("grown in place") {
    std::ofstream(path, std::ios::app | std::ios::binary) << "<!-- more -->\n";
    CHECK(source->changed());
  }
  SECTION("a text read into memory never changes") {
    SourceText small(std::string("<farm/>"));
    CHECK_FALSE(small.changed());
  }
}

TEST_CASE("a mapped farm file cut short while it is read stops farmctl with a named reason", "[compiler]") {
  testing::TempDir dir;
  fs::path path = dir.path() / "cut.fml";
  write_file(path, farm_of(1000));
  ChildEnd end = in_child([&] {
    std::optional<SourceText> source = SourceText::of_file(path.string());
    if (!source || !source->mapped()) ::_exit(3);
    fs::resize_file(path, 0);  // another program rewriting it in place
    volatile char last = source->view().back();  // the page is gone: SIGBUS
    static_cast<void>(last);
    ::_exit(4);
  });
  INFO(end.stderr_text);
  REQUIRE(WIFEXITED(end.status));
  CHECK(WEXITSTATUS(end.status) == 1);
  CHECK(end.stderr_text == "farmctl: error: " + path.string() +
                               " was cut short while farmctl was reading it (another program rewrote it in "
                               "place); stopped: run the command again\n");
}

TEST_CASE("a SIGBUS outside every mapped farm file is left to the handler before it", "[compiler]") {
  testing::TempDir dir;
  fs::path farm = dir.path() / "farm.fml";
  fs::path other = dir.path() / "other.bin";
  write_file(farm, farm_of(1000));
  write_file(other, std::string(1 << 16, 'x'));
  ChildEnd end = in_child([&] {
    std::optional<SourceText> source = SourceText::of_file(farm.string());  // the guard is in place
    if (!source || !source->mapped()) ::_exit(3);
    int fd = ::open(other.c_str(), O_RDONLY);
    auto* pages = static_cast<const char*>(::mmap(nullptr, 1 << 16, PROT_READ, MAP_PRIVATE, fd, 0));
    if (pages == MAP_FAILED) ::_exit(5);
    fs::resize_file(other, 0);
    volatile char last = pages[(1 << 16) - 1];  // not a farm file's page
    static_cast<void>(last);
    ::_exit(4);
  });
  INFO(end.stderr_text);
  CHECK(end.stderr_text.find("cut short") == std::string::npos);
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer handled SIGBUS before the guard: it reports and exits.
  CHECK_FALSE((WIFEXITED(end.status) && (WEXITSTATUS(end.status) == 0 || WEXITSTATUS(end.status) == 4)));
#else
  REQUIRE(WIFSIGNALED(end.status));
  CHECK(WTERMSIG(end.status) == SIGBUS);
  CHECK(end.stderr_text.empty());
#endif
}

TEST_CASE("a SIGBUS sent to farmctl is not taken for a file cut short", "[compiler]") {
  testing::TempDir dir;
  fs::path farm = dir.path() / "farm.fml";
  write_file(farm, farm_of(1000));
  ChildEnd end = in_child([&] {
    std::optional<SourceText> source = SourceText::of_file(farm.string());  // the guard is in place
    if (!source || !source->mapped()) ::_exit(3);
    ::kill(::getpid(), SIGBUS);
    ::_exit(4);
  });
  INFO(end.stderr_text);
  CHECK(end.stderr_text.find("cut short") == std::string::npos);
#if !defined(__SANITIZE_ADDRESS__)
  REQUIRE(WIFSIGNALED(end.status));
  CHECK(WTERMSIG(end.status) == SIGBUS);
#endif
}

}  // namespace
}  // namespace farmctl::fml
