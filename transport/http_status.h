// HttpStatusOf: how HTTP shows each API error code (API.md, "Errors"). The
// engine says what went wrong (ErrorCode); the transport says which status
// line carries it.
//
// Thread-safety: a pure function.
#ifndef SBD_TRANSPORT_HTTP_STATUS_H_
#define SBD_TRANSPORT_HTTP_STATUS_H_

#include <boost/beast/http/status.hpp>

#include "engine/error_code.h"

namespace sbd {

// The HTTP status API.md assigns to `code`. (The header-limit answer, 431
// with payload_too_large, is the session's exception to it.)
boost::beast::http::status HttpStatusOf(ErrorCode code);

}  // namespace sbd

#endif  // SBD_TRANSPORT_HTTP_STATUS_H_
