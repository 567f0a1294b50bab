// RequestTarget: reading a request's target (path and query) the one way
// every handler does: the percent-encoded path a route is matched on, the
// query parameters, a non-negative integer parameter, and a path made safe
// to echo in an error.
//
// Thread-safety: pure functions; a Query views the target it was parsed
// from and must not outlive it.
#ifndef SBD_TRANSPORT_REQUEST_TARGET_H_
#define SBD_TRANSPORT_REQUEST_TARGET_H_

#include <boost/url/decode_view.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/url_view.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "transport/http_message.h"

namespace sbd {

// `text` with every byte outside printable ASCII replaced by '?': a decoded
// path is echoed in an error detail, and a detail must stay valid UTF-8 JSON.
std::string Printable(std::string_view text);

// A non-negative decimal integer (no sign, no spaces, fits int64_t).
std::optional<int64_t> ParseNonNegative(std::string_view text);

// The query parameters of a request target, first occurrence of each name.
struct Query {
  std::optional<boost::urls::url_view> url;

  std::optional<std::string> Get(std::string_view name) const;
  // How many times `name` occurs (compared decoded, as Get does).
  size_t Count(std::string_view name) const;
};

Query ParseQuery(std::string_view target);

// The request target's path, still percent-encoded (a view into the
// target); nullopt if the target is malformed. Its decoded form (`*path`)
// compares with a route's path without being copied out.
std::optional<boost::urls::pct_string_view> EncodedPath(const HttpRequest& request);

}  // namespace sbd

#endif  // SBD_TRANSPORT_REQUEST_TARGET_H_
