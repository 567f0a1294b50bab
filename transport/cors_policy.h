// CorsPolicy: which browser origins may call the API cross-origin (API.md
// "Browser clients (CORS)"), from `--cors-origins` / SBD_CORS_ORIGINS: a
// comma-separated list of exact origins (`http://localhost:3000`) or `*`.
// An empty list is CORS off: no preflight is allowed, no answer carries CORS
// headers, and the WebSocket handshake does not check `Origin`.
//
// The server's own origin (the page it serves at /) is same-origin, not
// CORS: browsers send no preflight for it, and the WebSocket check lets it
// through whatever the list says (IsSameOrigin).
//
// Thread-safety: immutable after Parse; every method may be called from any
// thread.
#ifndef SBD_TRANSPORT_CORS_POLICY_H_
#define SBD_TRANSPORT_CORS_POLICY_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sbd {

class CorsPolicy {
 public:
  CorsPolicy() = default;  // CORS off.

  // kInvalidArgument naming the entry that is neither `*` nor an origin
  // (`scheme://host[:port]`, no path, no trailing slash).
  static absl::StatusOr<CorsPolicy> Parse(std::string_view list);

  bool enabled() const { return any_ || !origins_.empty(); }
  // Whether `origin` (an Origin header's value) is on the list.
  bool Allows(std::string_view origin) const;

  // Whether `origin` is the server's own as the request's Host names it
  // (http://HOST, for the plain-HTTP server this is).
  static bool IsSameOrigin(std::string_view origin, std::string_view host);

  // The answer headers of API.md, as constants for the session and routes.
  static constexpr std::string_view kAllowMethods = "GET, POST, PATCH, OPTIONS";
  static constexpr std::string_view kAllowHeaders = "Authorization, Content-Type";
  // Headers a cross-origin script may read besides the CORS-safelisted ones.
  static constexpr std::string_view kExposeHeaders = "Retry-After";
  // Seconds a browser may cache a preflight's answer.
  static constexpr std::string_view kMaxAgeSeconds = "3600";

 private:
  bool any_ = false;
  std::vector<std::string> origins_;
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_CORS_POLICY_H_
