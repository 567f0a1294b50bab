// Answers: the status, headers and JSON body of every HTTP answer of API.md,
// each written one way (JsonObjectWriter, members in the documented order).
// They only build the response: counting it (Metrics) is the caller's, and
// so is everything the session adds (version, keep-alive, CORS, length).
//
// Thread-safety: pure functions.
#ifndef SBD_TRANSPORT_ANSWERS_H_
#define SBD_TRANSPORT_ANSWERS_H_

#include <boost/beast/http/status.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "engine/cluster_view.h"
#include "engine/command.h"
#include "engine/error_code.h"
#include "engine/event.h"
#include "engine/gateway_view.h"
#include "transport/http_message.h"

namespace sbd {

// The content type of every JSON answer.
inline constexpr std::string_view kJsonContentType = "application/json";

// `body` as `content_type` with `status`; no content type if it is empty.
HttpResponse MakeResponse(boost::beast::http::status status, std::string_view content_type,
                          std::string body);

// The API's error body {"status":"error","code","detail"} with the code's
// status (HttpStatusOf). 503 and 429 carry Retry-After (`retry_after_s`, at
// least 1), 401 carries WWW-Authenticate: Bearer; insufficient_funds always
// has API.md's fixed detail.
HttpResponse ErrorAnswer(ErrorCode code, std::string_view detail, int64_t retry_after_s = 1);

// 500 internal_error, for a status that carries no ErrorCode (a bug).
HttpResponse InternalErrorAnswer(const absl::Status& status);

// GET /sbd_tokens.
HttpResponse BalanceAnswer(std::string_view account, int64_t balance);
// GET /sbd_tokens/transactions: `history` as seen by `account`.
HttpResponse HistoryAnswer(std::string_view account, absl::Span<const Event> history);
// POST /sbd_tokens/send and POST /admin/transfer (`from_user` is the debited
// account).
HttpResponse TransferAnswer(const CommandResult& result);
// POST /admin/mint.
HttpResponse MintAnswer(const CommandResult& result);
// PATCH /sbd_tokens/transaction/note.
HttpResponse NoteAnswer(const CommandResult& result);
// POST /admin/accounts (201).
HttpResponse AccountOpenedAnswer(const CommandResult& result);
// GET /healthz.
// In cluster mode (`cluster` not null) it adds the node's role and name.
HttpResponse HealthAnswer(int64_t last_seq, const ClusterView* cluster);
// A cluster gateway's GET /healthz: {"status":"ok"|"unavailable","seq",
// "role":"gateway","node","lag","following"}, 503 unless `serving`.
HttpResponse GatewayHealthAnswer(const GatewayView& gateway, bool serving);

}  // namespace sbd

#endif  // SBD_TRANSPORT_ANSWERS_H_
