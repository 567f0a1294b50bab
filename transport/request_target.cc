#include "transport/request_target.h"

#include <boost/url/parse.hpp>
#include <charconv>

#include "absl/strings/ascii.h"

namespace sbd {

std::string Printable(std::string_view text) {
  std::string printable(text);
  for (char& c : printable) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return printable;
}

std::optional<int64_t> ParseNonNegative(std::string_view text) {
  int64_t value = 0;
  if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text[0]))) {
    return std::nullopt;
  }
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::string> Query::Get(std::string_view name) const {
  if (!url) return std::nullopt;
  for (const auto& param : url->params()) {
    if (param.key == name) return param.has_value ? param.value : std::string();
  }
  return std::nullopt;
}

size_t Query::Count(std::string_view name) const {
  if (!url) return 0;
  size_t count = 0;
  for (const auto& param : url->params()) count += param.key == name ? 1 : 0;
  return count;
}

Query ParseQuery(std::string_view target) {
  Query query;
  auto parsed = boost::urls::parse_origin_form(target);
  if (parsed) query.url = *parsed;
  return query;
}

std::optional<boost::urls::pct_string_view> EncodedPath(const HttpRequest& request) {
  auto parsed = boost::urls::parse_origin_form(request.target());
  if (!parsed) return std::nullopt;
  return parsed->encoded_path();
}

}  // namespace sbd
