#include "transport/cors_policy.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/absl_compat.h"

namespace sbd {
namespace {

// scheme "://" host [":" port]: what a browser puts in an Origin header.
bool IsOrigin(std::string_view text) {
  const size_t separator = text.find("://");
  if (separator == std::string_view::npos || separator == 0) return false;
  for (char c : text.substr(0, separator)) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  const std::string_view authority = text.substr(separator + 3);
  if (authority.empty()) return false;
  return std::none_of(authority.begin(), authority.end(), [](char c) {
    return c == '/' || c == '?' || c == '#' || c == '@' || c == ',' ||
           absl::ascii_isspace(static_cast<unsigned char>(c)) || c < 0x21 || c > 0x7e;
  });
}

}  // namespace

absl::StatusOr<CorsPolicy> CorsPolicy::Parse(std::string_view list) {
  CorsPolicy policy;
  for (absl::string_view entry : absl::StrSplit(ToAbsl(list), ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry == "*") {
      policy.any_ = true;
    } else if (IsOrigin(ToStd(entry))) {
      policy.origins_.emplace_back(entry);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("'", entry, "' is not an origin (scheme://host[:port]) or *"));
    }
  }
  return policy;
}

bool CorsPolicy::Allows(std::string_view origin) const {
  if (origin.empty()) return false;
  if (any_) return true;
  return std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

bool CorsPolicy::IsSameOrigin(std::string_view origin, std::string_view host) {
  constexpr std::string_view kScheme = "http://";
  return !host.empty() && origin.size() == kScheme.size() + host.size() &&
         origin.starts_with(kScheme) && origin.substr(kScheme.size()) == host;
}

}  // namespace sbd
