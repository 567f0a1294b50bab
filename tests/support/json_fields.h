// Reading fields out of a JSON body (Boost.JSON) without throwing, so that a
// test that meets an unexpected body fails an assertion that prints it
// instead of dying on an exception.
//
// Thread-safety: pure functions.
#ifndef SBD_TESTS_SUPPORT_JSON_FIELDS_H_
#define SBD_TESTS_SUPPORT_JSON_FIELDS_H_

#include <boost/json.hpp>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace sbd::testing {

// The names of `value`'s members; none when it is not an object.
std::set<std::string> KeysOf(const boost::json::value& value);

// The integer member `name` of `object`; `fallback` when it is missing or
// not an integer.
int64_t JsonInt(const boost::json::object& object, std::string_view name, int64_t fallback = -1);
// The same of `body`; `fallback` as well when `body` is not an object.
int64_t JsonInt(const boost::json::value& body, std::string_view name, int64_t fallback = -1);

// The string member `name` of `object`; "" when it is missing or not a
// string.
std::string JsonString(const boost::json::object& object, std::string_view name);
// The same of `body`; "" as well when `body` is not an object.
std::string JsonString(const boost::json::value& body, std::string_view name);

}  // namespace sbd::testing

#endif  // SBD_TESTS_SUPPORT_JSON_FIELDS_H_
