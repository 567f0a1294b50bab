// Rejection: refusing a request, counted. Every refusal of every handler
// (and the session's own: 413, 431, 503 at shutdown) goes through here, so
// each is counted in the metrics the same one way, once.
//
// Thread-safety: as Metrics (any thread).
#ifndef SBD_TRANSPORT_REJECTION_H_
#define SBD_TRANSPORT_REJECTION_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "engine/error_code.h"
#include "transport/http_message.h"
#include "transport/metrics.h"

namespace sbd {

// Counts the rejection and answers ErrorAnswer(code, detail, retry_after_s).
HttpResponse RejectRequest(Metrics& metrics, ErrorCode code, std::string_view detail,
                           int64_t retry_after_s = 1);

// RejectRequest for a failed command or read (`status` not OK): its
// ErrorCode's answer, or a 500 (not a rejection: an internal error) for a
// status without one.
HttpResponse RejectFailure(Metrics& metrics, const absl::Status& status);

}  // namespace sbd

#endif  // SBD_TRANSPORT_REJECTION_H_
