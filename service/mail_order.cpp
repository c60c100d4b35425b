#include "service/mail_order.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include <fmt/format.h>

#include "service/timestamps.h"

namespace farmctl::service {
namespace {

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= text.size()) {
    std::size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string line(text.substr(i, j - i));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    i = j + 1;
  }
  return out;
}

struct Part {
  std::map<std::string, std::string> headers;  // lower-case names, unfolded
  std::string body;
};

// Headers up to the first empty line (continuation lines unfolded), then the body.
Part split_part(std::string_view text) {
  Part part;
  std::vector<std::string> lines = lines_of(text);
  std::size_t i = 0;
  std::string last;
  for (; i < lines.size() && !lines[i].empty(); ++i) {
    const std::string& line = lines[i];
    if ((line[0] == ' ' || line[0] == '\t') && !last.empty()) {
      part.headers[last].append(1, ' ').append(trim(line));
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string::npos) throw MailError(fmt::format("line {}: not a mail header: {}", i + 1, line.substr(0, 60)));
    last = lower(trim(std::string_view(line).substr(0, colon)));
    part.headers[last] = trim(std::string_view(line).substr(colon + 1));
  }
  for (++i; i < lines.size(); ++i) part.body += lines[i] + "\n";
  return part;
}

std::string header_param(const std::string& value, const std::string& name) {
  std::string l = lower(value);
  std::size_t at = l.find(name + "=");
  if (at == std::string::npos) return "";
  std::string rest = value.substr(at + name.size() + 1);
  if (!rest.empty() && rest[0] == '"') return rest.substr(1, rest.find('"', 1) - 1);
  return trim(rest.substr(0, rest.find(';')));
}

std::string decode_quoted_printable(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '\n') {  // soft line break
      ++i;
      continue;
    }
    if (i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
      continue;
    }
    out += '=';
  }
  return out;
}

// The text/plain body of a part (searching a multipart one), decoded.
std::string plain_text(const Part& part, int depth = 0) {
  std::string type = part.headers.count("content-type") ? lower(part.headers.at("content-type")) : "text/plain";
  if (type.starts_with("multipart/") && depth < 4) {
    std::string boundary = header_param(part.headers.at("content-type"), "boundary");
    if (boundary.empty()) throw MailError("a multipart message without a boundary");
    std::string delimiter = "--" + boundary;
    std::size_t at = part.body.find(delimiter);
    while (at != std::string::npos) {
      std::size_t start = part.body.find('\n', at);
      if (start == std::string::npos || part.body.compare(at + delimiter.size(), 2, "--") == 0) break;
      std::size_t next = part.body.find("\n" + delimiter, start);
      std::string text = part.body.substr(start + 1, next == std::string::npos ? std::string::npos : next - start);
      try {
        std::string found = plain_text(split_part(text), depth + 1);
        return found;
      } catch (const MailError&) {
        // not this part; try the next
      }
      at = next == std::string::npos ? next : next + 1;
    }
    throw MailError("the message has no text/plain part: write the order as plain text");
  }
  if (!type.starts_with("text/plain")) throw MailError(fmt::format("the message is {}: write the order as plain text", type));
  std::string encoding = part.headers.count("content-transfer-encoding")
                             ? lower(part.headers.at("content-transfer-encoding"))
                             : "7bit";
  if (encoding == "quoted-printable") return decode_quoted_printable(part.body);
  if (encoding == "base64") throw MailError("the message is base64-encoded: write the order as plain text");
  return part.body;
}

// "Re: Grow disk" -> "grow-disk".
std::string type_from_subject(std::string subject) {
  subject = trim(subject);
  for (bool again = true; again;) {
    again = false;
    for (const char* prefix : {"re:", "fwd:", "fw:", "aw:"}) {
      if (lower(subject).starts_with(prefix)) {
        subject = trim(subject.substr(std::string_view(prefix).size()));
        again = true;
      }
    }
  }
  std::string type;
  for (char c : lower(subject)) type += (c == ' ' || c == '_') ? '-' : c;
  return type;
}

std::string reply_headers(const MailOrder& mail, const std::string& subject_tag) {
  std::string from = mail.to.empty() ? "farmctl <farmctl@localhost>" : mail.to;
  std::string out = fmt::format("From: {}\nTo: {}\nSubject: Re: {}{}\nDate: {}\n", from, mail.from, mail.subject,
                                subject_tag, format_mail_date(Clock::now()));
  if (!mail.message_id.empty()) out += fmt::format("In-Reply-To: {}\nReferences: {}\n", mail.message_id, mail.message_id);
  out += "Auto-Submitted: auto-replied\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
         "Content-Transfer-Encoding: 8bit\n\n";
  return out;
}

}  // namespace

MailOrder read_mail_order(std::string_view message) {
  Part mail = split_part(message);
  MailOrder order;
  order.from = mail.headers.count("reply-to") ? mail.headers["reply-to"] : mail.headers["from"];
  order.to = mail.headers["to"];
  order.subject = mail.headers["subject"];
  order.message_id = mail.headers["message-id"];
  if (order.from.empty()) throw MailError("the message has no From: header, so there is no one to answer");
  std::string type = type_from_subject(order.subject);
  if (type.empty()) throw MailError("the subject is empty: it names the work-order type, e.g. grow-disk");
  nlohmann::json params = nlohmann::json::object();
  std::string description;
  std::vector<std::string> lines = lines_of(plain_text(mail));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line == "-- ") break;  // the signature
    std::string t = trim(line);
    if (t.empty() || t[0] == '>') continue;
    std::size_t colon = t.find(':');
    if (colon == std::string::npos || colon == 0)
      throw MailError(fmt::format("body line {}: '{}' is not 'key: value'", i + 1, t.substr(0, 60)));
    std::string key = lower(trim(std::string_view(t).substr(0, colon)));
    std::string value = trim(std::string_view(t).substr(colon + 1));
    if (key == "description") {
      description += (description.empty() ? "" : " ") + value;
      continue;
    }
    if (params.contains(key)) throw MailError(fmt::format("body line {}: {} is given twice", i + 1, key));
    params[key] = value;
  }
  if (description.empty()) description = fmt::format("by mail from {}: {}", order.from, trim(order.subject));
  order.request = {{"type", type}, {"parameters", params}, {"description", description}};
  return order;
}

std::string confirmation_reply(const MailOrder& mail, const WorkOrder& order) {
  std::string params;
  for (auto& [key, value] : order.parameters.items())
    params += fmt::format("    {}: {}\n", key, value.is_string() ? value.get<std::string>() : value.dump());
  return reply_headers(mail, fmt::format(" [work order {}]", order.id)) +
         fmt::format(
             "Your work order has been received.\n\n"
             "  work order:  {}\n"
             "  type:        {}\n"
             "  account:     {}\n"
             "  farm:        {}\n"
             "  state:       {}\n"
             "  received:    {}\n"
             "  parameters:\n{}\n"
             "It will be carried out shortly; quote the work order number in any question about it.\n",
             order.id, order.type, order.account, order.farm, order.state, order.created_at, params);
}

std::string refusal_reply(const MailOrder& mail, std::string_view reason) {
  return reply_headers(mail, " [refused]") +
         fmt::format("Your work order could not be accepted:\n\n  {}\n\nNothing was done. Please correct the order "
                     "and send it again.\n",
                     reason);
}

}  // namespace farmctl::service
