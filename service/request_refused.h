#pragma once
// A request refused, with the HTTP status that says why (400 bad request,
// 403 not allowed, 404 no such thing, 409 conflict) and the parameter at
// fault, if one is. Thrown by the API's handlers and by work-order intake
// alike; the API answers it as a 4xx with its message.
#include <stdexcept>
#include <string>

namespace farmctl::service {

class RequestRefused : public std::runtime_error {
 public:
  RequestRefused(int status, const std::string& message, std::string parameter = "")
      : std::runtime_error(message), status_(status), parameter_(std::move(parameter)) {}
  int status() const { return status_; }
  const std::string& parameter() const { return parameter_; }

 private:
  int status_;
  std::string parameter_;
};

}  // namespace farmctl::service
