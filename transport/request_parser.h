// Request bodies (API.md "HTTP endpoints") parsed into engine commands with
// simdjson's on-demand API.
//
// The rules, in the order they are checked:
//  - the body must be one JSON object, fully valid JSON (every value, also of
//    unknown fields, is walked), valid UTF-8, with nothing after it, and
//    without a repeated key: else invalid_json. (A repeated key is refused
//    rather than resolved first-wins or last-wins, so a request can never
//    mean two things to two parsers.)
//  - every required field present: else missing_fields (all absent ones named);
//  - every string field a JSON string: else invalid_field. An optional field
//    given as null counts as absent.
//  - `amount` is classified into an AmountField (only a JSON integer that
//    fits int64_t is kInteger; 5.0, "5", true, null are kNotInteger) and left
//    to the engine to validate (invalid_amount), as are usernames, notes and
//    transaction ids. Unknown fields are ignored.
//
// Thread-safety: pure functions (each thread reuses its own parser).
#ifndef SBD_TRANSPORT_REQUEST_PARSER_H_
#define SBD_TRANSPORT_REQUEST_PARSER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/command.h"

namespace sbd {

// POST /sbd_tokens/send: {"to_user", "amount", "note"?, "transaction_id"?}.
absl::StatusOr<TransferCommand> ParseSendBody(std::string_view body, std::string from_account);

// POST /admin/transfer: {"from_user", "to_user", "amount", "note"?,
// "transaction_id"?, "reason"?}; `actor` is the service's or admin's `sub`.
absl::StatusOr<TransferCommand> ParseAdminTransferBody(std::string_view body, std::string actor);

// POST /admin/mint: {"username", "amount", "reason"?, "transaction_id"?}.
absl::StatusOr<MintCommand> ParseMintBody(std::string_view body, std::string actor);

// POST /admin/accounts: {"username"}.
absl::StatusOr<OpenAccountCommand> ParseOpenAccountBody(std::string_view body, std::string actor);

// PATCH /sbd_tokens/transaction/note: {"transaction_id", "note"}.
absl::StatusOr<SetNoteCommand> ParseSetNoteBody(std::string_view body, std::string actor);

}  // namespace sbd

#endif  // SBD_TRANSPORT_REQUEST_PARSER_H_
