#pragma once
// tgtd's management protocol, spoken directly (what tgtadm does, without a
// process per request). One request per connection on a local stream socket
// named <base>.<control port> — base /var/run/tgtd/socket, or $TGT_IPC_SOCKET
// for a private daemon, as `tgtd -C N` and `tgtadm -C N` agree. A request is a
// fixed 120-byte header (struct tgtadm_req of tgt 1.0.x, usr/tgtadm.h: mode,
// op, lld name, total length, tid, sid, lun, cid, host_no, device_type,
// ac_dir, pack, force) followed by a NUL-terminated "key=value,..." body; the
// answer is an 8-byte header (tgtadm_errno, total length) and, for show, text.
//
// Not thread-safe; requests are synchronous, each with a 10 s timeout.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "runtime/driver.h"

namespace farmctl::runtime {

// tgt's error codes (enum tgtadm_errno, tgt 1.0.85), in its order.
enum class TgtErrc : std::uint32_t {
  success,
  unknown_error,
  out_of_memory,
  no_driver,
  no_target,
  no_lun,
  no_session,
  no_connection,
  no_binding,
  target_exists,
  binding_exists,
  lun_exists,
  acl_exists,
  acl_missing,
  user_exists,
  no_user,
  too_many_users,
  invalid_request,
  outgoing_account_exists,
  target_active,
  lun_active,
  driver_active,
  unsupported_operation,
  unknown_parameter,
  prevent_removal,
};

// tgt's own words for a code ("this target already exists").
std::string_view describe(TgtErrc code);

// tgtd answered, and refused the request.
class TgtRefused : public DeviceError {
 public:
  TgtRefused(TgtErrc code, const std::string& what) : DeviceError(what), code_(code) {}
  TgtErrc code() const { return code_; }

 private:
  TgtErrc code_;
};

// No tgtd answers on the socket (not running, wrong control port or socket
// base), or it hung up mid-answer.
class TgtUnreachable : public DeviceError {
 public:
  using DeviceError::DeviceError;
};

// "<base>.<port>"; base empty: $TGT_IPC_SOCKET if set, else /var/run/tgtd/socket.
std::string tgt_socket_path(const std::string& base, int control_port);

class TgtAdminClient {
 public:
  explicit TgtAdminClient(std::string socket_path) : socket_path_(std::move(socket_path)) {}
  const std::string& socket_path() const { return socket_path_; }

  // Every target with its sessions (I_T nexus), logical units, accounts and
  // ACLs, as `tgtadm --lld iscsi --mode target --op show` prints it.
  std::string show();
  // One target's sessions and connections (`--mode conn --op show --tid N`):
  // what closing an initiator's sessions needs, without a full show.
  std::string show_connections(int tid);

  void new_target(int tid, std::string_view name);
  // force: close the target's sessions first (else tgtd refuses while any exist).
  void delete_target(int tid, bool force);
  // "offline": tgtd holds new commands to the target's LUNs back (the
  // initiator retries them) until it is "ready" again -- a quiesce.
  void set_target_state(int tid, std::string_view state);
  void bind_initiator_name(int tid, std::string_view iqn);
  void unbind_initiator_name(int tid, std::string_view iqn);
  void unbind_initiator_address(int tid, std::string_view address);
  // A disk LU backed by a file (bstype rdwr); tgt reads the file's size now.
  void new_logical_unit(int tid, int lun, std::string_view backing_path);
  void delete_logical_unit(int tid, int lun);
  // `--op update --params KEY=VALUE,...` of an LU (scsi_sn, scsi_id, vendor_id, ...).
  void update_logical_unit(int tid, int lun, std::string_view params);
  // Closes one connection of session `sid` (the "I_T nexus" number of show).
  void close_connection(int tid, std::uint64_t sid, std::uint32_t cid);
  // `--mode system --op delete`: tgtd exits once it has no target left.
  void shut_down();

  // Requests sent so far, and how many of them changed something (not show).
  int requests() const { return requests_; }
  int changes() const { return changes_; }
  std::chrono::nanoseconds waited() const { return waited_; }  // in requests, answer included
  // Called with the tgtadm command line equivalent to each changing request,
  // before it is sent (FARMCTL_TGT_TRACE).
  void set_trace(std::function<void(const std::string&)> trace) { trace_ = std::move(trace); }

  struct Header;

 private:
  // `tgtadm` is the equivalent tgtadm arguments: for the trace, and to name
  // the request in a refusal ("--op new --mode target --tid 3 ...: this target already exists").
  std::string request(const Header& header, std::string_view body, const std::string& tgtadm);

  std::function<void(const std::string&)> trace_;
  std::string socket_path_;
  int requests_ = 0;
  int changes_ = 0;
  std::chrono::nanoseconds waited_{0};
};

}  // namespace farmctl::runtime
