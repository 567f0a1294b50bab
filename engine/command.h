// Commands: what a caller asks the ledger to do. Values arrive unvalidated
// (as the transport parsed them); the ledger validates every field exactly as
// API.md lists, so every domain error code comes from the engine.
//
// The one field no client can set: `given_timestamp_ms`. A trusted in-process
// caller (`sbd-ledger import`, which records the origin's timestamps) sets it
// to give the event its time; unset, the event gets the ledger's clock. The
// transport's parsers never set it (no request field maps to it), so every
// event an HTTP request causes is timed by the server.
//
// Thread-safety: plain values; a command is moved into the Ledger's queue,
// then owned and spent by its writer thread (engine/decider.h). CommandDone
// is called once, on the thread engine/ledger.h names.
#ifndef SBD_ENGINE_COMMAND_H_
#define SBD_ENGINE_COMMAND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "engine/event.h"

namespace sbd {

// An amount as the request carried it, before validation. The transport
// classifies the JSON value; only kInteger can be valid.
struct AmountField {
  enum class Kind {
    kInteger,     // A JSON integer that fits int64_t: `value` holds it.
    kTooLarge,    // A JSON integer outside int64_t.
    kNotInteger,  // A float (also 5.0), string, boolean, null, array or object.
  };
  Kind kind = Kind::kNotInteger;
  int64_t value = 0;

  static AmountField Integer(int64_t v) { return {Kind::kInteger, v}; }
};

// POST /admin/accounts.
struct OpenAccountCommand {
  std::string actor;    // The admin's `sub`.
  std::string account;  // Unvalidated; lowercased before validation.
  std::optional<int64_t> given_timestamp_ms = std::nullopt;  // Trusted callers only (above).
};

// POST /admin/mint.
struct MintCommand {
  std::string actor;
  std::string account;
  AmountField amount;
  std::string reason;          // Optional; stored as the event's note.
  std::string transaction_id;  // Optional; empty: the ledger makes a UUID.
  std::optional<int64_t> given_timestamp_ms = std::nullopt;  // Trusted callers only (above).
};

// POST /sbd_tokens/send, and POST /admin/transfer (a service or admin moving
// tokens on behalf of from_account).
struct TransferCommand {
  std::string from_account;  // A send: the token's `sub`; an admin transfer: from_user.
  std::string to_account;
  AmountField amount;
  std::string note;            // Optional.
  std::string transaction_id;  // Optional; empty: the ledger makes a UUID.
  // Who issues it, recorded as the event's actor: empty for a send (the
  // actor is then from_account), the service's or admin's `sub` for an admin
  // transfer. docs/EVENT_LOG.md: actor != from_account marks the latter.
  // (Default-initialised, so a send's `TransferCommand{from, to, amount,
  // note, id}` need not name the two.)
  std::string actor = {};
  std::string reason = {};  // Optional (admin transfers); stored as the event's reason.
  std::optional<int64_t> given_timestamp_ms = std::nullopt;  // Trusted callers only (above).
};

// PATCH /sbd_tokens/transaction/note.
struct SetNoteCommand {
  std::string actor;  // The token's `sub`; must be a party of the transaction.
  std::string transaction_id;
  std::string note;
  std::optional<int64_t> given_timestamp_ms = std::nullopt;  // Trusted callers only (above).
};

using Command = std::variant<OpenAccountCommand, MintCommand, TransferCommand, SetNoteCommand>;

// What a successful command produced: the committed event, or for an
// idempotent replay the original event with `duplicate` set.
struct CommandResult {
  Event event;
  bool duplicate = false;
};

// Answers one submitted command: called exactly once, with its result.
using CommandDone = absl::AnyInvocable<void(absl::StatusOr<CommandResult>) &&>;

}  // namespace sbd

#endif  // SBD_ENGINE_COMMAND_H_
