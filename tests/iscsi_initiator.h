#pragma once
// The host side of the tgt end-to-end tests: what an iSCSI initiator with a
// given name really sees. Discovery, login and capacity go through Debian's
// libiscsi-bin tools (iscsi-ls, iscsi-inq, iscsi-readcapacity16), as an
// operator would run them; reading and writing blocks goes through libiscsi
// itself (the tools have no dd).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct iscsi_context;  // libiscsi's, kept out of this header

namespace farmctl::testing {

// What a LUN says it is: SCSI INQUIRY vendor and product, and its unit
// serial number (VPD page 0x80), blanks trimmed.
struct ScsiIdentity {
  std::string vendor;
  std::string product;
  std::string serial;
};

struct ToolRun {
  int status = -1;  // the exit status, -1 if it did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs a shell command line; output goes through a temporary file.
ToolRun run_tool(const std::string& command_line);

class IscsiInitiator {
 public:
  IscsiInitiator(std::string portal, std::string name) : portal_(std::move(portal)), name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  // SendTargets discovery plus a login to each target found: target name ->
  // its LUNs (0, the controller, included). Empty when tgt shows it nothing.
  std::map<std::string, std::vector<int>> discover() const;
  // Logs in and reads the capacity in bytes; nullopt when the login (or the
  // command) fails. `output` gets what the tool said.
  std::optional<std::uint64_t> capacity(const std::string& target, int lun, std::string* output = nullptr) const;
  // iscsi-inq, standard page and VPD page 0x80; nullopt when the login fails.
  std::optional<ScsiIdentity> identity(const std::string& target, int lun) const;
  // Logs in (iscsi-inq); false, with tgt's reason in `output`, when refused.
  bool can_log_in(const std::string& target, std::string* output = nullptr) const;

 private:
  std::string url(const std::string& target, int lun) const;
  std::string portal_;
  std::string name_;
};

// One logged-in session to one LUN (libiscsi, synchronous). Throws
// std::runtime_error when the login fails. Does not reconnect on its own.
class IscsiSession {
 public:
  IscsiSession(const std::string& portal, const std::string& initiator, const std::string& target, int lun);
  ~IscsiSession();
  IscsiSession(const IscsiSession&) = delete;
  IscsiSession& operator=(const IscsiSession&) = delete;

  // 512-byte blocks. Return false (error() says why) when the target refuses
  // or the session is gone.
  bool write(std::uint64_t lba, const std::vector<unsigned char>& data);
  std::optional<std::vector<unsigned char>> read(std::uint64_t lba, std::uint32_t blocks);
  const std::string& error() const { return error_; }

  static constexpr std::uint32_t kBlock = 512;

 private:
  ::iscsi_context* ctx_ = nullptr;
  int lun_ = 0;
  std::string error_;
};

// A recognisable block pattern: `blocks` blocks of (seed, block index, offset) bytes.
std::vector<unsigned char> pattern(std::uint32_t blocks, unsigned char seed);

}  // namespace farmctl::testing
