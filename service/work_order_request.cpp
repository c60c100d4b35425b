#include "service/work_order_request.h"

#include <charconv>

#include <fmt/format.h>

#include "compiler/values.h"

namespace farmctl::service {
namespace {

constexpr std::size_t kMaxStringParam = 200;
constexpr std::size_t kMaxDescription = 2000;

std::string names_of(const OrderType& type) {
  std::string out;
  for (const ParamSpec& p : type.params) out += (out.empty() ? "" : ", ") + p.name;
  return out;
}

[[noreturn]] void bad(const ParamSpec& p, const std::string& what) {
  throw OrderRejected(400, fmt::format("parameter {}: {}", p.name, what), p.name);
}

nlohmann::json normalize_size(const ParamSpec& p, const nlohmann::json& v) {
  std::uint64_t mb = 0;
  if (v.is_number_unsigned()) {
    mb = v.get<std::uint64_t>();
  } else if (v.is_number_integer()) {  // negative (non-negative numbers parse as unsigned)
    bad(p, fmt::format("{} is negative; a size must be > 0", v.dump()));
  } else if (v.is_number_float()) {
    bad(p, fmt::format("{} is not a whole number of MB; give MB as an integer or text such as \"1.5GB\"", v.dump()));
  } else if (v.is_string()) {
    std::string text = v.get<std::string>();
    if (text.size() > 40) bad(p, "that is not a size");
    if (!text.empty() && text.front() == '-') bad(p, fmt::format("'{}' is negative; a size must be > 0", text));
    auto parsed = fml::parse_size_mb(text);
    if (!parsed) bad(p, parsed.error().message);
    mb = *parsed;
  } else {
    bad(p, fmt::format("expected a size (MB as a number, or text such as \"20GB\"), got {}", v.type_name()));
  }
  if (mb == 0) bad(p, "a size must be > 0");
  if (mb > kMaxSizeMb) bad(p, fmt::format("{} MB is more than the largest size an order may ask for (1 PB)", mb));
  return mb;
}

nlohmann::json normalize_integer(const ParamSpec& p, const nlohmann::json& v) {
  std::int64_t n = 0;
  if (v.is_number_unsigned()) {
    if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(p.max))
      bad(p, fmt::format("{} is out of range {}..{}", v.dump(), p.min, p.max));
    n = static_cast<std::int64_t>(v.get<std::uint64_t>());
  } else if (v.is_number_integer()) {
    n = v.get<std::int64_t>();
  } else if (v.is_string()) {
    std::string text = v.get<std::string>();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
      bad(p, fmt::format("'{}' is not a whole number", text.substr(0, 40)));
  } else {
    bad(p, fmt::format("expected a whole number, got {}", v.type_name()));
  }
  if (n < p.min || n > p.max) bad(p, fmt::format("{} is out of range {}..{}", n, p.min, p.max));
  return n;
}

nlohmann::json normalize_string(const ParamSpec& p, const nlohmann::json& v) {
  if (!v.is_string()) bad(p, fmt::format("expected a string, got {}", v.type_name()));
  std::string text = v.get<std::string>();
  if (text.empty()) bad(p, "must not be empty");
  if (text.size() > kMaxStringParam) bad(p, fmt::format("longer than {} characters", kMaxStringParam));
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) bad(p, "contains a control character");
  return text;
}

}  // namespace

OrderRequest parse_order_request(const nlohmann::json& body, Level level) {
  if (!body.is_object())
    throw OrderRejected(400, fmt::format("a work order is a JSON object with type, parameters and description, not {}",
                                         body.type_name()));
  for (auto& [key, value] : body.items())
    if (key != "type" && key != "parameters" && key != "description")
      throw OrderRejected(400, fmt::format("unknown field '{}': a work order has type, parameters and description",
                                           key.substr(0, 64)));
  auto type_it = body.find("type");
  if (type_it == body.end() || !type_it->is_string())
    throw OrderRejected(400, "field type is required: a work-order type (GET /v1/work-order-types lists them)");
  std::string type_name = type_it->get<std::string>();
  OrderRequest request;
  request.type = order_type(type_name);
  if (request.type == nullptr)
    throw OrderRejected(400, fmt::format("unknown work-order type '{}' (GET /v1/work-order-types lists them)",
                                         type_name.substr(0, 64)));
  if (!request.type->allowed_for(level))
    throw OrderRejected(403, fmt::format("an account of level {} may not submit {} orders", to_string(level),
                                         type_name));
  if (auto d = body.find("description"); d != body.end()) {
    if (!d->is_string()) throw OrderRejected(400, "field description must be a string");
    request.description = d->get<std::string>();
    if (request.description.size() > kMaxDescription)
      throw OrderRejected(400, fmt::format("field description is longer than {} bytes", kMaxDescription));
  }
  nlohmann::json params = nlohmann::json::object();
  if (auto p = body.find("parameters"); p != body.end()) {
    if (!p->is_object()) throw OrderRejected(400, "field parameters must be a JSON object");
    params = *p;
  }
  for (auto& [key, value] : params.items()) {
    const ParamSpec* spec = request.type->param(key);
    if (spec == nullptr)
      throw OrderRejected(400,
                          fmt::format("parameter {}: {} takes no such parameter (it takes {})", key.substr(0, 64),
                                      type_name, names_of(*request.type)),
                          key.substr(0, 64));
    switch (spec->type) {
      case ParamType::size: request.parameters[key] = normalize_size(*spec, value); break;
      case ParamType::integer: request.parameters[key] = normalize_integer(*spec, value); break;
      case ParamType::string: request.parameters[key] = normalize_string(*spec, value); break;
    }
  }
  for (const ParamSpec& spec : request.type->params)
    if (spec.required && !request.parameters.contains(spec.name))
      throw OrderRejected(400, fmt::format("parameter {} is required for {} ({})", spec.name, type_name,
                                           spec.description),
                          spec.name);
  return request;
}

}  // namespace farmctl::service
