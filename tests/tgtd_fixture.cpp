// A private tgtd per test: see tgtd_fixture.h.
#include "tests/tgtd_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "runtime/tgt_show_parser.h"

namespace farmctl::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("cannot make a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free 127.0.0.1 port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool portal_accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Distinct control ports for the fixtures of one process (the socket base is
// private anyway; the number keeps tgtd's lock file and socket apart too).
int next_control_port() {
  static std::atomic<int> counter{0};
  return 1000 + (static_cast<int>(::getpid()) % 20000) + counter++;
}

}  // namespace

TgtdFixture::TgtdFixture() {
  std::string pattern = (fs::temp_directory_path() / "farmctl-tgt-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  fs::create_directories(data_dir() / "images");
  try {
    start();
  } catch (...) {
    stop();
    throw;
  }
}

TgtdFixture::~TgtdFixture() { stop(); }

std::string TgtdFixture::array_attributes() const {
  return fmt::format(R"(portal="{}" control-port="{}" socket="{}" dir="{}")", portal(), control_port_, socket_base(),
                     data_dir().string());
}

std::string TgtdFixture::tgtadm() const {
  return fmt::format("TGT_IPC_SOCKET='{}' tgtadm -C {} --lld iscsi ", socket_base(), control_port_);
}

runtime::TgtAdminClient TgtdFixture::client() const {
  return runtime::TgtAdminClient(runtime::tgt_socket_path(socket_base(), control_port_));
}

void TgtdFixture::start() {
  iscsi_port_ = free_loopback_port();
  control_port_ = next_control_port();
  fs::path log = dir_ / "tgtd.log";
  std::string portal_arg = "portal=" + portal();
  std::string control = std::to_string(control_port_);
  std::string socket = socket_base();

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::setenv("TGT_IPC_SOCKET", socket.c_str(), 1);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::execlp("tgtd", "tgtd", "-f", "-C", control.c_str(), "--iscsi", portal_arg.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }

  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      bool not_found = WIFEXITED(status) && WEXITSTATUS(status) == 127;
      throw std::runtime_error(fmt::format(
          "tgtd {} (status {}); its log:\n{}",
          not_found ? "could not be run: is Debian's tgt installed? (scripts/setup installs it)" : "exited at start",
          status, read_text(log)));
    }
    bool managed = false;
    try {
      client().show();
      managed = true;
    } catch (const runtime::DeviceError&) {
    }
    if (managed && portal_accepts(iscsi_port_)) return;
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error(fmt::format("tgtd (pid {}) did not answer on {} and portal {} within 10 s; its log:\n{}",
                                       pid_, runtime::tgt_socket_path(socket_base(), control_port_), portal(),
                                       read_text(log)));
}

void TgtdFixture::stop() {
  if (pid_ > 0) {
    try {
      runtime::TgtAdminClient c = client();
      for (const runtime::TgtTarget& t : runtime::parse_tgt_show(c.show()).targets) c.delete_target(t.tid, true);
      c.shut_down();
    } catch (const std::exception&) {
      // it is killed below
    }
    bool exited = false;
    for (int i = 0; i < 250 && !exited; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) exited = true;
      else std::this_thread::sleep_for(20ms);
    }
    if (!exited) {
      ::kill(pid_, SIGKILL);  // only the daemon this fixture started
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

}  // namespace farmctl::testing
