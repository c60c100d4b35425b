// `farmctl diff OLD NEW`: what a change to a farm file means, from the two
// files alone (compiler/farm_diff.h). OLD and NEW are paths, or git:REV:PATH,
// read with `git show REV:PATH` so a CI job can compare a branch with main,
// or /dev/null for a farm file that is new or deleted.
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "compiler/compiler.h"
#include "compiler/farm_diff.h"
#include "compiler/farm_diff_render.h"

extern char** environ;

namespace farmctl::cli {
namespace {

constexpr std::string_view kGitPrefix = "git:";
// OLD or NEW as /dev/null: the farm does not exist on that side.
constexpr std::string_view kNoFarm = "/dev/null";

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

struct ProcessOutput {
  int status = 0;  // as from waitpid
  std::string out;
  std::string err;
};

// Runs `argv` without a shell (posix_spawnp searches PATH) and collects its
// stdout and stderr. Throws CommandError when it cannot be started.
ProcessOutput run_process(const std::vector<std::string>& argv) {
  int out_pipe[2], err_pipe[2];
  if (::pipe(out_pipe) != 0) throw CommandError(fmt::format("cannot run {}: {}", argv[0], std::strerror(errno)));
  Fd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (::pipe(err_pipe) != 0) throw CommandError(fmt::format("cannot run {}: {}", argv[0], std::strerror(errno)));
  Fd err_read(err_pipe[0]), err_write(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, out_read.get());
  posix_spawn_file_actions_addclose(&actions, err_read.get());
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, out_write.get());
  posix_spawn_file_actions_addclose(&actions, err_write.get());
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw CommandError(fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)));
  out_write.reset();
  err_write.reset();

  // Both pipes at once, so a child that fills one while we wait on the other cannot stall.
  ProcessOutput result;
  pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open = 2;
  char buffer[65536];
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;
        --open;
        continue;
      }
      sinks[i]->append(buffer, static_cast<std::size_t>(n));
    }
  }
  while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

// `git show REV:PATH`: PATH is from the top of the repository, or ./PATH
// from the current directory, as git takes it.
std::string git_show(const std::string& spec, const std::string& object) {
  if (object.empty() || object.front() == '-')
    throw CommandError(fmt::format("bad source '{}': write git:REV:PATH, e.g. git:main:farms/web.fml", spec));
  ProcessOutput git = run_process({"git", "--no-pager", "show", object});
  if (!WIFEXITED(git.status) || WEXITSTATUS(git.status) != 0) {
    std::string why = trimmed(git.err);
    throw CommandError(
        fmt::format("cannot read {}: git show {} failed{}", spec, object, why.empty() ? "" : ": " + why));
  }
  return std::move(git.out);
}

// Compiles a path or git:REV:PATH; diagnostics name the source as given.
fml::CompileResult compile_source_spec(const std::string& spec) {
  if (spec.rfind(kGitPrefix, 0) != 0) return fml::compile_file(spec);
  std::string object = spec.substr(kGitPrefix.size());
  auto colon = object.find(':');  // a revision cannot hold ':' (git check-ref-format); a path may
  if (colon == std::string::npos || colon == 0 || colon + 1 == object.size())
    throw CommandError(fmt::format("bad source '{}': write git:REV:PATH, e.g. git:main:farms/web.fml", spec));
  std::string text = git_show(spec, object);
  // Compiled under PATH, whose stem is the default farm name, as for a file on disk.
  fml::CompileResult result = fml::compile_source(std::move(text), object.substr(colon + 1));
  result.file_name = spec;
  return result;
}

// A farm of that name with nothing in it.
plan::Plan no_farm_like(const plan::Plan& other) {
  plan::Plan none;
  none.farm = other.farm;
  none.fml_version = other.fml_version;
  return none;
}

}  // namespace

int run_diff(const DiffOptions& options) {
  bool old_none = options.old_source == kNoFarm, new_none = options.new_source == kNoFarm;
  if (old_none && new_none) throw CommandError(fmt::format("at most one of OLD and NEW may be {}", kNoFarm));
  fml::CompileResult old_result = old_none ? fml::CompileResult{} : compile_source_spec(options.old_source);
  fml::CompileResult new_result = new_none ? fml::CompileResult{} : compile_source_spec(options.new_source);
  std::cerr << old_result.rendered_diagnostics() << new_result.rendered_diagnostics();
  std::vector<std::string> failed;
  if (!old_none && !old_result.plan) failed.push_back(options.old_source);
  if (!new_none && !new_result.plan) failed.push_back(options.new_source);
  if (!failed.empty())
    throw CommandError(failed.size() == 1
                           ? fmt::format("{} has errors; nothing was compared", failed[0])
                           : fmt::format("{} and {} have errors; nothing was compared", failed[0], failed[1]));
  // /dev/null: no farm yet (a new farm file) or no more (a deleted one).
  if (old_none) old_result.plan = no_farm_like(*new_result.plan);
  if (new_none) new_result.plan = no_farm_like(*old_result.plan);

  plan::FarmDiff diff = plan::diff_plans(*old_result.plan, *new_result.plan);
  plan::DiffSources sources{options.old_source, options.new_source};
  if (options.json)
    std::cout << plan::render_diff_json(diff, sources);
  else if (options.format == "markdown")
    std::cout << plan::render_diff_markdown(diff, sources);
  else
    std::cout << plan::render_diff_text(diff, sources, stdout_is_terminal());
  return options.detailed_exitcode && !diff.empty() ? 2 : 0;
}

}  // namespace farmctl::cli
