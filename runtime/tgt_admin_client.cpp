// tgtd's management protocol: see tgt_admin_client.h. This file's external
// interface is TgtAdminClient, describe() and tgt_socket_path().
#include "runtime/tgt_admin_client.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace farmctl::runtime {

namespace {

enum Mode : std::uint32_t { kSystem = 0, kTarget = 1, kDevice = 2, kConnection = 6 };
enum Op : std::uint32_t { kNew = 0, kDelete = 1, kShow = 2, kBind = 3, kUnbind = 4, kUpdate = 5 };

constexpr int kTimeoutSeconds = 10;

constexpr std::array<std::string_view, 25> kErrorWords{
    "success",
    "unknown error",
    "out of memory",
    "can't find the driver",
    "can't find the target",
    "can't find the logical unit",
    "can't find the session",
    "can't find the connection",
    "can't find the binding",
    "this target already exists",
    "this binding already exists",
    "this logical unit number already exists",
    "this access control rule already exists",
    "this access control rule does not exist",
    "this account already exists",
    "can't find the account",
    "too many accounts",
    "invalid request",
    "this target already has an outgoing account",
    "this target is still active",
    "this logical unit is still active",
    "this driver is busy",
    "this operation isn't supported",
    "unknown parameter",
    "this device has Prevent Removal set",
};

// Closes the descriptor however the request ends.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

// struct tgtadm_req, tgt 1.0.x: 120 bytes, natural alignment, host byte order.
struct TgtAdminClient::Header {
  std::uint32_t mode = 0;
  std::uint32_t op = 0;
  char lld[64] = "iscsi";
  std::uint32_t len = 0;
  std::int32_t tid = -1;
  std::uint64_t sid = 0;
  std::uint64_t lun = std::numeric_limits<std::uint64_t>::max();
  std::uint32_t cid = 0;
  std::uint32_t host_no = 0;
  std::uint32_t device_type = 0;  // TYPE_DISK
  std::uint32_t ac_dir = 0;
  std::uint32_t pack = 0;
  std::uint32_t force = 0;
};
static_assert(sizeof(TgtAdminClient::Header) == 120, "struct tgtadm_req is 120 bytes");

namespace {

// A request's header: what it does (mode, op), to which target and LUN (-1: none).
TgtAdminClient::Header header_for(Mode mode, Op op, int tid = -1, int lun = -1) {
  TgtAdminClient::Header h;
  h.mode = mode;
  h.op = op;
  h.tid = tid;
  if (lun >= 0) h.lun = static_cast<std::uint64_t>(lun);
  return h;
}

}  // namespace

std::string_view describe(TgtErrc code) {
  auto i = static_cast<std::size_t>(code);
  return i < kErrorWords.size() ? kErrorWords[i] : std::string_view("unknown tgtadm error");
}

std::string tgt_socket_path(const std::string& base, int control_port) {
  std::string b = base;
  if (b.empty()) {
    const char* env = std::getenv("TGT_IPC_SOCKET");
    b = env != nullptr && *env != '\0' ? env : "/var/run/tgtd/socket";
  }
  return fmt::format("{}.{}", b, control_port);
}

std::string TgtAdminClient::request(const Header& header_in, std::string_view body, const std::string& tgtadm) {
  Header header = header_in;
  std::string payload(body);
  if (!payload.empty()) payload.push_back('\0');  // tgtadm sends the body's NUL too
  header.len = static_cast<std::uint32_t>(sizeof(Header) + payload.size());
  ++requests_;
  if (header.op != kShow) {
    ++changes_;
    if (trace_) trace_(tgtadm);
  }

  auto started = std::chrono::steady_clock::now();
  struct Timer {
    std::chrono::nanoseconds& total;
    std::chrono::steady_clock::time_point started;
    ~Timer() { total += std::chrono::steady_clock::now() - started; }
  } timer{waited_, started};

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(addr.sun_path))
    throw TgtUnreachable(fmt::format("tgtd management socket path is too long: {}", socket_path_));
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);

  Socket sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (sock.fd() < 0) throw TgtUnreachable(fmt::format("cannot make a socket: {}", std::strerror(errno)));
  timeval timeout{kTimeoutSeconds, 0};
  ::setsockopt(sock.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(sock.fd(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  if (::connect(sock.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    throw TgtUnreachable(fmt::format("no tgtd answers on {}: {}", socket_path_, std::strerror(errno)));

  auto send_all = [&](const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::send(sock.fd(), p, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw TgtUnreachable(fmt::format("tgtd on {} hung up: {}", socket_path_, std::strerror(errno)));
      p += n;
      size -= static_cast<std::size_t>(n);
    }
  };
  auto receive_all = [&](void* data, std::size_t size) {
    char* p = static_cast<char*>(data);
    while (size > 0) {
      ssize_t n = ::recv(sock.fd(), p, size, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        throw TgtUnreachable(fmt::format("no answer from tgtd on {}: {}", socket_path_, std::strerror(errno)));
      if (n == 0) throw TgtUnreachable(fmt::format("tgtd on {} closed the connection mid-answer", socket_path_));
      p += n;
      size -= static_cast<std::size_t>(n);
    }
  };

  send_all(&header, sizeof(header));
  if (!payload.empty()) send_all(payload.data(), payload.size());

  struct {
    std::uint32_t err;
    std::uint32_t len;
  } answer{};
  receive_all(&answer, sizeof(answer));
  if (answer.err != 0) {
    auto code = static_cast<TgtErrc>(answer.err);
    throw TgtRefused(code, fmt::format("{}: {}", tgtadm, describe(code)));
  }
  std::string text;
  if (answer.len > sizeof(answer)) {
    text.resize(answer.len - sizeof(answer));
    receive_all(text.data(), text.size());
    while (!text.empty() && text.back() == '\0') text.pop_back();
  }
  return text;
}

std::string TgtAdminClient::show() {
  Header h = header_for(kTarget, kShow);
  return request(h, {}, "tgtadm --lld iscsi --mode target --op show");
}

std::string TgtAdminClient::show_connections(int tid) {
  Header h = header_for(kConnection, kShow, tid);
  return request(h, {}, fmt::format("tgtadm --lld iscsi --mode conn --op show --tid {}", tid));
}

void TgtAdminClient::new_target(int tid, std::string_view name) {
  Header h = header_for(kTarget, kNew, tid);
  request(h, fmt::format("targetname={}", name),
          fmt::format("tgtadm --lld iscsi --mode target --op new --tid {} --targetname {}", tid, name));
}

void TgtAdminClient::delete_target(int tid, bool force) {
  Header h = header_for(kTarget, kDelete, tid);
  h.force = force ? 1 : 0;
  request(h, {}, fmt::format("tgtadm --lld iscsi --mode target --op delete{} --tid {}", force ? " --force" : "", tid));
}

void TgtAdminClient::set_target_state(int tid, std::string_view state) {
  Header h = header_for(kTarget, kUpdate, tid);
  request(h, fmt::format("state={}", state),
          fmt::format("tgtadm --lld iscsi --mode target --op update --tid {} --name state --value {}", tid, state));
}

void TgtAdminClient::bind_initiator_name(int tid, std::string_view iqn) {
  Header h = header_for(kTarget, kBind, tid);
  request(h, fmt::format("initiator-name={}", iqn),
          fmt::format("tgtadm --lld iscsi --mode target --op bind --tid {} --initiator-name {}", tid, iqn));
}

void TgtAdminClient::unbind_initiator_name(int tid, std::string_view iqn) {
  Header h = header_for(kTarget, kUnbind, tid);
  request(h, fmt::format("initiator-name={}", iqn),
          fmt::format("tgtadm --lld iscsi --mode target --op unbind --tid {} --initiator-name {}", tid, iqn));
}

void TgtAdminClient::unbind_initiator_address(int tid, std::string_view address) {
  Header h = header_for(kTarget, kUnbind, tid);
  request(h, fmt::format("initiator-address={}", address),
          fmt::format("tgtadm --lld iscsi --mode target --op unbind --tid {} --initiator-address {}", tid, address));
}

void TgtAdminClient::new_logical_unit(int tid, int lun, std::string_view backing_path) {
  Header h = header_for(kDevice, kNew, tid, lun);
  request(h, fmt::format("path={}", backing_path),
          fmt::format("tgtadm --lld iscsi --mode logicalunit --op new --tid {} --lun {} --backing-store {}", tid, lun,
                      backing_path));
}

void TgtAdminClient::delete_logical_unit(int tid, int lun) {
  Header h = header_for(kDevice, kDelete, tid, lun);
  request(h, {}, fmt::format("tgtadm --lld iscsi --mode logicalunit --op delete --tid {} --lun {}", tid, lun));
}

void TgtAdminClient::update_logical_unit(int tid, int lun, std::string_view params) {
  Header h = header_for(kDevice, kUpdate, tid, lun);
  request(h, params,
          fmt::format("tgtadm --lld iscsi --mode logicalunit --op update --tid {} --lun {} --params {}", tid, lun,
                      params));
}

void TgtAdminClient::close_connection(int tid, std::uint64_t sid, std::uint32_t cid) {
  Header h = header_for(kConnection, kDelete, tid);
  h.sid = sid;
  h.cid = cid;
  request(h, {}, fmt::format("tgtadm --lld iscsi --mode conn --op delete --tid {} --sid {} --cid {}", tid, sid, cid));
}

void TgtAdminClient::shut_down() {
  Header h = header_for(kSystem, kDelete);
  request(h, {}, "tgtadm --lld iscsi --mode system --op delete");
}

}  // namespace farmctl::runtime
