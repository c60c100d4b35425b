// The host side of the tgt end-to-end tests: see iscsi_initiator.h.
#include "tests/iscsi_initiator.h"

#include <fmt/format.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace farmctl::testing {

ToolRun run_tool(const std::string& command_line) {
  char path[] = "/tmp/farmctl-tool-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  std::string command = fmt::format("{{ {} ; }} >'{}' 2>&1 </dev/null", command_line, path);
  int status = std::system(command.c_str());
  ToolRun run;
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  run.output = text.str();
  std::filesystem::remove(path);
  return run;
}

std::string IscsiInitiator::url(const std::string& target, int lun) const {
  return fmt::format("iscsi://{}/{}/{}", portal_, target, lun);
}

std::map<std::string, std::vector<int>> IscsiInitiator::discover() const {
  ToolRun run = run_tool(fmt::format("iscsi-ls -s -i '{}' 'iscsi://{}'", name_, portal_));
  std::map<std::string, std::vector<int>> out;
  std::istringstream lines(run.output);
  std::string current;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Target:", 0) == 0) {
      current = line.substr(7, line.find(' ') - 7);
      out[current];
    } else if (line.rfind("Lun:", 0) == 0 && !current.empty()) {
      int lun = -1;
      std::string_view digits(line.c_str() + 4);
      digits = digits.substr(0, digits.find_first_not_of("0123456789"));
      std::from_chars(digits.data(), digits.data() + digits.size(), lun);
      out[current].push_back(lun);
    }
  }
  return out;
}

std::optional<std::uint64_t> IscsiInitiator::capacity(const std::string& target, int lun, std::string* output) const {
  ToolRun run = run_tool(fmt::format("iscsi-readcapacity16 -s -i '{}' '{}'", name_, url(target, lun)));
  if (output != nullptr) *output = run.output;
  if (run.status != 0) return std::nullopt;
  std::uint64_t bytes = 0;
  std::string text = run.output;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return bytes;
}

namespace {

// The value after `key` on its line of iscsi-inq's output, blanks trimmed.
std::string inq_field(const std::string& output, const std::string& key) {
  auto at = output.find(key);
  if (at == std::string::npos) return {};
  std::string value = output.substr(at + key.size(), output.find('\n', at) - at - key.size());
  auto first = value.find_first_not_of(" [");
  auto last = value.find_last_not_of(" ]");
  return first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
}

}  // namespace

std::optional<ScsiIdentity> IscsiInitiator::identity(const std::string& target, int lun) const {
  ToolRun standard = run_tool(fmt::format("iscsi-inq -i '{}' '{}'", name_, url(target, lun)));
  ToolRun serial = run_tool(fmt::format("iscsi-inq -e 1 -c 128 -i '{}' '{}'", name_, url(target, lun)));
  if (standard.status != 0 || serial.status != 0) return std::nullopt;
  return ScsiIdentity{inq_field(standard.output, "Vendor:"), inq_field(standard.output, "Product:"),
                      inq_field(serial.output, "Unit Serial Number:")};
}

bool IscsiInitiator::can_log_in(const std::string& target, std::string* output) const {
  ToolRun run = run_tool(fmt::format("iscsi-inq -i '{}' '{}'", name_, url(target, 0)));
  if (output != nullptr) *output = run.output;
  return run.status == 0;
}

IscsiSession::IscsiSession(const std::string& portal, const std::string& initiator, const std::string& target,
                           int lun)
    : lun_(lun) {
  ctx_ = iscsi_create_context(initiator.c_str());
  if (ctx_ == nullptr) throw std::runtime_error("iscsi_create_context failed");
  iscsi_set_targetname(ctx_, target.c_str());
  iscsi_set_session_type(ctx_, ISCSI_SESSION_NORMAL);
  iscsi_set_header_digest(ctx_, ISCSI_HEADER_DIGEST_NONE);
  iscsi_set_noautoreconnect(ctx_, 1);
  iscsi_set_timeout(ctx_, 10);
  if (iscsi_full_connect_sync(ctx_, portal.c_str(), lun) != 0) {
    std::string why = iscsi_get_error(ctx_);
    iscsi_destroy_context(ctx_);
    ctx_ = nullptr;
    throw std::runtime_error(fmt::format("{} could not log in to {} LUN {}: {}", initiator, target, lun, why));
  }
}

IscsiSession::~IscsiSession() {
  if (ctx_ == nullptr) return;
  iscsi_logout_sync(ctx_);
  iscsi_destroy_context(ctx_);
}

bool IscsiSession::write(std::uint64_t lba, const std::vector<unsigned char>& data) {
  std::vector<unsigned char> copy = data;
  scsi_task* task = iscsi_write16_sync(ctx_, lun_, lba, copy.data(), static_cast<std::uint32_t>(copy.size()), kBlock,
                                       0, 0, 0, 0, 0);
  bool ok = task != nullptr && task->status == SCSI_STATUS_GOOD;
  if (!ok) error_ = iscsi_get_error(ctx_);
  if (task != nullptr) scsi_free_scsi_task(task);
  return ok;
}

std::optional<std::vector<unsigned char>> IscsiSession::read(std::uint64_t lba, std::uint32_t blocks) {
  scsi_task* task = iscsi_read16_sync(ctx_, lun_, lba, blocks * kBlock, kBlock, 0, 0, 0, 0, 0);
  std::optional<std::vector<unsigned char>> out;
  if (task != nullptr && task->status == SCSI_STATUS_GOOD && task->datain.size >= 0 &&
      static_cast<std::uint32_t>(task->datain.size) == blocks * kBlock)
    out = std::vector<unsigned char>(task->datain.data, task->datain.data + task->datain.size);
  else
    error_ = iscsi_get_error(ctx_);
  if (task != nullptr) scsi_free_scsi_task(task);
  return out;
}

std::vector<unsigned char> pattern(std::uint32_t blocks, unsigned char seed) {
  std::vector<unsigned char> out(static_cast<std::size_t>(blocks) * IscsiSession::kBlock);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<unsigned char>(seed ^ (i / IscsiSession::kBlock) ^ (i * 7));
  return out;
}

}  // namespace farmctl::testing
