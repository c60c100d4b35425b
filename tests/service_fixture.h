#pragma once
// The service tests' world (header-only, for service_test.cpp): a temporary
// directory with an inventory imported from kServiceWiring, `farmctl`
// commands run as child processes, a real `farmctl serve` started on a free
// loopback port as a child and stopped by SIGTERM (or killed), and an HTTP
// client for it.
//
//   ServiceWorld w;                                  // inventory imported
//   std::string acme = w.create_account("acme", "customer-admin");
//   w.cli({"farm", "put", w.write("web.fml", ...), "--owner", "acme"});
//   auto& serve = w.start_serve();                   // waits for /healthz
//   Api api = w.api(acme);
//   auto r = api.post("/v1/work-orders", {{"type", "grow-disk"}, ...});
//   w.wait_until([&] { return api.get(...).json["state"] == "closed"; });
//
// Every child is reaped before the world is destroyed (SIGKILL if it has not
// ended), so a failing test leaves no process behind. Everything listens on
// 127.0.0.1 only.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/sqlite.h"

namespace farmctl::testing {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// sym1: standard storage only (one big pool: every disk is a slice, which
// grows in place); sym2: performance storage only — so a farm asking for
// performance disks lands on sym2 and one asking for std on sym1. Four
// iSCSI hosts.
inline constexpr std::string_view kServiceWiring = R"(<?xml version="1.0"?>
<wiring-map>
  <array name="sym1" driver="sim" model="Symmetrix" serial="1" protocols="fc iscsi">
    <port id="SE-4B" iqn="iqn.2001-07.com.example:sym1.4b" type="front-end"/>
    <pool name="p0" size="2TB"/>
  </array>
  <array name="sym2" driver="sim" model="Symmetrix" serial="2" protocols="fc iscsi">
    <port id="SE-2B" iqn="iqn.2001-07.com.example:sym2.2b" type="front-end"/>
    <pool name="fast" size="1TB" type="performance" raid="5"/>
  </array>
  <host name="x01" hw="cpu-x86-64"><initiator iqn="iqn.2026-11.org.example:x01"/></host>
  <host name="x02" hw="cpu-x86-64"><initiator iqn="iqn.2026-11.org.example:x02"/></host>
  <host name="x03" hw="cpu-x86-64"><initiator iqn="iqn.2026-11.org.example:x03"/></host>
  <host name="x04" hw="cpu-x86-64"><initiator iqn="iqn.2026-11.org.example:x04"/></host>
</wiring-map>
)";

// A farm of `servers` iSCSI servers, each with a boot disk, and one global disk.
inline std::string web_farm(const std::string& name, int servers, const std::string& data_size = "1GB",
                            const std::string& data_type = "std") {
  return fmt::format(R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="{}">
  <farm-global-disks>
    <global-disk global-name="data" drivesize="{}" drivetype="{}"/>
  </farm-global-disks>
  <tier id="web" name="web">
    <role>web</role>
    <min-servers>0</min-servers>
    <max-servers>3</max-servers>
    <init-servers>{}</init-servers>
  </tier>
  <server-role id="web" name="web">
    <hw>cpu-x86-64</hw>
    <disk target="0" drivetype="iscsi" drivesize="1GB"/>
  </server-role>
</farm>
)",
                     name, data_size, data_type, servers);
}

// A farm with only a global disk: storage, no servers.
inline std::string storage_farm(const std::string& name, const std::string& size, const std::string& type = "std") {
  return fmt::format(R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="{}">
  <farm-global-disks>
    <global-disk global-name="data" drivesize="{}" drivetype="{}"/>
  </farm-global-disks>
</farm>
)",
                     name, size, type);
}

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

struct HttpResult {
  int status = 0;  // 0: no answer
  std::string body;
  Json json;  // null unless the body is JSON
};

// A client for one account (or none), with the calls the tests make.
class Api {
 public:
  Api(int port, std::string token) : client_("127.0.0.1", port), token_(std::move(token)) {
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);  // else each request waits for a delayed ACK
    client_.set_connection_timeout(5, 0);
    client_.set_read_timeout(30, 0);
    if (!token_.empty()) client_.set_bearer_token_auth(token_.c_str());
  }
  HttpResult get(const std::string& path) { return result(client_.Get(path.c_str())); }
  HttpResult post(const std::string& path, const Json& body) { return post_raw(path, body.dump()); }
  HttpResult post_raw(const std::string& path, const std::string& body,
                      const std::string& type = "application/json") {
    return result(client_.Post(path.c_str(), body, type.c_str()));
  }
  HttpResult put_raw(const std::string& path, const std::string& body, const std::string& type = "application/xml") {
    return result(client_.Put(path.c_str(), body, type.c_str()));
  }

 private:
  static HttpResult result(const httplib::Result& r) {
    HttpResult out;
    if (!r) return out;
    out.status = r->status;
    out.body = r->body;
    out.json = Json::parse(r->body, nullptr, false);
    if (out.json.is_discarded()) out.json = nullptr;
    return out;
  }
  httplib::Client client_;
  std::string token_;
};

// In a forked child: becomes `farmctl ARGS...` (the binary under test), or
// exits 127 when it cannot.
[[noreturn]] inline void exec_farmctl(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string binary = FARMCTL_BINARY;
  argv.push_back(binary.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(binary.c_str(), argv.data());
  _exit(127);
}

// A `farmctl serve` child process.
class ServeProcess {
 public:
  ServeProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
               const fs::path& log) {
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
        dup2(fd, STDOUT_FILENO);
      }
      exec_farmctl(args);
    }
  }
  ~ServeProcess() {
    if (pid_ > 0) kill9();
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }
  // SIGTERM, then wait (SIGKILL after `patience`); the exit status as waitpid gives it.
  int stop(std::chrono::seconds patience = std::chrono::seconds(20)) {
    if (pid_ > 0) kill(pid_, SIGTERM);
    return reap(patience);
  }
  int kill9() {
    if (pid_ > 0) kill(pid_, SIGKILL);
    return reap(std::chrono::seconds(10));
  }

 private:
  int reap(std::chrono::seconds patience) {
    auto deadline = std::chrono::steady_clock::now() + patience;
    while (pid_ > 0) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        status_ = status;
        pid_ = -1;
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        status_ = status;
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
  }
  pid_t pid_ = -1;
  int status_ = 0;
};

class ServiceWorld {
 public:
  ServiceWorld() {
    std::string pattern = (fs::temp_directory_path() / "farmctl-service-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;
    db_ = (dir_ / "farm.db").string();
    write("wiring.xml", std::string(kServiceWiring));
    CliResult imported = cli({"inventory", "import", (dir_ / "wiring.xml").string()});
    REQUIRE(imported.exit_code == 0);
  }
  ~ServiceWorld() {
    serve_.reset();  // reaps the child first
    std::error_code ec;
    if (!keep_) fs::remove_all(dir_, ec);
  }

  const fs::path& dir() const { return dir_; }
  const std::string& db() const { return db_; }
  int port() const { return port_; }
  fs::path log_path() const { return dir_ / "serve.log"; }
  std::string log_text() const { return read(log_path()); }

  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    return p.string();
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Runs farmctl with FARMCTL_DB set to the world's inventory.
  CliResult cli(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
    static int n = 0;
    fs::path out = dir_ / fmt::format("cli-{}.out", ++n), err = dir_ / fmt::format("cli-{}.err", n);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      setenv("FARMCTL_DB", db_.c_str(), 1);
      setenv("FARMCTL_SIM_LATENCY", "*=0", 1);
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(o, STDOUT_FILENO);
      dup2(e, STDERR_FILENO);
      int null = ::open("/dev/null", O_RDONLY);
      dup2(null, STDIN_FILENO);
      exec_farmctl(args);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), read(out), read(err)};
  }

  // Creates an account and returns its token.
  std::string create_account(const std::string& name, const std::string& level, const std::string& quota = "") {
    std::vector<std::string> args{"account", "create", name, "--level", level};
    if (!quota.empty()) args.insert(args.end(), {"--quota", quota});
    CliResult r = cli(args);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto at = r.out.find("token: ");
    REQUIRE(at != std::string::npos);
    return r.out.substr(at + 7, r.out.find('\n', at) - at - 7);
  }

  void put_farm(const std::string& file_name, const std::string& fml, const std::string& owner = "") {
    std::vector<std::string> args{"farm", "put", write(file_name, fml)};
    if (!owner.empty()) args.insert(args.end(), {"--owner", owner});
    CliResult r = cli(args);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }

  // Starts farmctl serve on a free loopback port and waits for /healthz.
  // `env` adds to (or overrides) FARMCTL_SIM_LATENCY='*=0'.
  ServeProcess& start_serve(const std::vector<std::string>& extra_args = {},
                            std::map<std::string, std::string> env = {}) {
    if (port_ == 0) port_ = free_port();
    std::vector<std::string> args{"serve", "--listen", fmt::format("127.0.0.1:{}", port_), "--db", db_,
                                  "--interval", "200ms", "--backoff", "100ms", "--backoff-max", "1s"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    env.emplace("FARMCTL_SIM_LATENCY", "*=0");
    serve_ = std::make_unique<ServeProcess>(args, env, log_path());
    Api probe(port_, "");
    bool up = wait_until([&] { return probe.get("/healthz").status == 200 || !serve_->running(); },
                         std::chrono::seconds(20));
    INFO(log_text());
    REQUIRE(up);
    REQUIRE(serve_->running());
    return *serve_;
  }
  ServeProcess& serve() { return *serve_; }

  Api api(const std::string& token) const { return Api(port_, token); }

  // Polls `ready` every 20 ms until it holds or `limit` passes.
  static bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ready()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ready();
  }

  // One value from the inventory (read alongside the running service).
  std::int64_t count(const std::string& sql) {
    runtime::Database db(db_);
    auto s = db.prepare(sql);
    s.step();
    return s.int64(0);
  }

  void keep_directory() { keep_ = true; }

 private:
  static int free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
  }

  fs::path dir_;
  std::string db_;
  int port_ = 0;
  bool keep_ = false;
  std::unique_ptr<ServeProcess> serve_;
};

}  // namespace farmctl::testing
