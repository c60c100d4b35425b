#pragma once
// A private tgtd for one test: its own temporary directory (management
// socket base, backing files, inventory), its own iSCSI portal on a free
// 127.0.0.1 port and its own control port. The constructor waits until both
// answer and throws — failing the test loudly — when tgtd is missing or does
// not come up. The destructor deletes every target, asks tgtd to shut down
// (`--mode system --op delete`) and, should it not exit, kills that one pid.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "runtime/tgt_admin_client.h"

namespace farmctl::testing {

class TgtdFixture {
 public:
  TgtdFixture();
  ~TgtdFixture();
  TgtdFixture(const TgtdFixture&) = delete;
  TgtdFixture& operator=(const TgtdFixture&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path data_dir() const { return dir_ / "data"; }
  std::string inventory() const { return (dir_ / "farm.db").string(); }
  std::string socket_base() const { return (dir_ / "tgtd-socket").string(); }
  int iscsi_port() const { return iscsi_port_; }
  int control_port() const { return control_port_; }
  std::string portal() const { return "127.0.0.1:" + std::to_string(iscsi_port_); }
  std::string url() const { return "iscsi://" + portal(); }
  pid_t pid() const { return pid_; }

  // The attributes a wiring map's tgt <array> needs for this daemon.
  std::string array_attributes() const;
  // `TGT_IPC_SOCKET=... tgtadm -C N --lld iscsi ` ready for the rest of a command line.
  std::string tgtadm() const;
  runtime::TgtAdminClient client() const;

 private:
  void start();
  void stop();

  std::filesystem::path dir_;
  int iscsi_port_ = 0;
  int control_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace farmctl::testing
