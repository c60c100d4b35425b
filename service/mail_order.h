#pragma once
// Work orders that arrive by e-mail (farmctl workorder submit --from-mail):
// the subject names the type ("grow-disk", or "Grow disk"), each body line
// "key: value" is a parameter, "description: ..." the description. Blank
// lines, quoted lines ("> ...") and everything after a signature ("-- ") are
// ignored. A text/plain message, or the first text/plain part of a
// multipart one; quoted-printable is decoded, base64 refused. The reply —
// the confirmation with the order id, or the reason it was refused — is a
// mail message too, addressed back to the sender.
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "service/work_orders.h"

namespace farmctl::service {

class MailError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MailOrder {
  std::string from;        // the sender, to reply to
  std::string to;          // where it was sent: the reply's From
  std::string subject;
  std::string message_id;  // for In-Reply-To
  nlohmann::json request;  // {"type", "parameters", "description"}: as POST /v1/work-orders takes it
};

// Throws MailError naming the line at fault.
MailOrder read_mail_order(std::string_view message);

// The reply confirming `order`, or refusing the mail with `reason`.
std::string confirmation_reply(const MailOrder& mail, const WorkOrder& order);
std::string refusal_reply(const MailOrder& mail, std::string_view reason);

}  // namespace farmctl::service
