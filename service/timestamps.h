#pragma once
// Times as the service writes them: UTC, RFC 3339 with milliseconds
// ("2026-11-22T10:23:22.123Z"), so that text order is time order in SQLite
// and in logs.
#include <chrono>
#include <string>

namespace farmctl::service {

using Clock = std::chrono::system_clock;

std::string format_time(Clock::time_point t);
inline std::string now_text() { return format_time(Clock::now()); }
// The same as a mail Date: header ("Sat, 22 Nov 2026 10:23:22 +0000").
std::string format_mail_date(Clock::time_point t);

}  // namespace farmctl::service
