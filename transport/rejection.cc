#include "transport/rejection.h"

#include <cassert>
#include <optional>

#include "engine/absl_compat.h"
#include "transport/answers.h"

namespace sbd {

HttpResponse RejectRequest(Metrics& metrics, ErrorCode code, std::string_view detail,
                           int64_t retry_after_s) {
  metrics.CountRejection(code);
  return ErrorAnswer(code, detail, retry_after_s);
}

HttpResponse RejectFailure(Metrics& metrics, const absl::Status& status) {
  assert(!status.ok() && "only a failure is rejected");
  if (std::optional<ErrorCode> code = ErrorCodeOf(status)) {
    return RejectRequest(metrics, *code, ToStd(status.message()));
  }
  return InternalErrorAnswer(status);
}

}  // namespace sbd
