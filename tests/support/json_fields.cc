#include "tests/support/json_fields.h"

namespace sbd::testing {

namespace json = boost::json;

std::set<std::string> KeysOf(const json::value& value) {
  std::set<std::string> keys;
  if (!value.is_object()) return keys;
  for (const auto& [key, unused] : value.get_object()) keys.emplace(key);
  return keys;
}

int64_t JsonInt(const json::object& object, std::string_view name, int64_t fallback) {
  const json::value* value = object.if_contains(name);
  return value != nullptr && value->is_int64() ? value->as_int64() : fallback;
}

int64_t JsonInt(const json::value& body, std::string_view name, int64_t fallback) {
  return body.is_object() ? JsonInt(body.get_object(), name, fallback) : fallback;
}

std::string JsonString(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

std::string JsonString(const json::value& body, std::string_view name) {
  return body.is_object() ? JsonString(body.get_object(), name) : "";
}

}  // namespace sbd::testing
