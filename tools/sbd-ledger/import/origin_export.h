// OriginExport: the origin's (Second Brain Database's) `users` collection as
// `mongoexport` writes it, parsed and validated document by document.
//
// Per user document, only `username`, `sbd_tokens` and
// `sbd_tokens_transactions` are read (`_id` and every other field are
// ignored). Each history entry: `type` send|receive, `to` (send) or `from`
// (receive), `amount`, `timestamp`, `transaction_id`, `note`. Numbers may be
// plain JSON integers or `{"$numberInt": "…"}` / `{"$numberLong": "…"}`;
// timestamps ISO 8601 strings (extended_json.h) or `{"$date": …}` (an ISO
// string, `{"$numberLong": "<ms>"}` or a number of ms). docs/IMPORT.md lists
// every rule; anything else is an InputError at the document's line.
//
// Cross-document rules (duplicate usernames, pairing) are import_plan.h's.
//
// Thread-safety: pure functions over their arguments.
#ifndef SBD_TOOLS_SBD_LEDGER_IMPORT_ORIGIN_EXPORT_H_
#define SBD_TOOLS_SBD_LEDGER_IMPORT_ORIGIN_EXPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/sbd-ledger/import/input_error.h"

namespace sbd {

enum class EntryType { kSend, kReceive };

struct OriginEntry {
  EntryType type = EntryType::kSend;
  std::string counterparty;  // `to` of a send, `from` of a receive; canonical.
  int64_t amount = 0;        // 1..2^53-1.
  int64_t timestamp_us = 0;  // Microseconds since the Unix epoch, UTC.
  // The origin's, or (when it has none) "sbd-import:<user>:<index>".
  std::string transaction_id;
  bool transaction_id_made_up = false;
  std::string note;  // Empty when absent.
  size_t index = 0;  // Position in the user's sbd_tokens_transactions.

  friend bool operator==(const OriginEntry&, const OriginEntry&) = default;
};

struct OriginUser {
  std::string username;    // Canonical (lowercased, validated).
  int64_t sbd_tokens = 0;  // 0..2^53-1; 0 when the field is absent.
  int64_t line = 0;        // Where the document starts in the file.
  std::vector<OriginEntry> entries;
};

struct OriginExport {
  std::vector<OriginUser> users;  // In file order.
  size_t entry_count = 0;
};

enum class ExportFormat {
  kJsonLines,  // mongoexport's default: one document a line.
  kJsonArray,  // mongoexport --jsonArray.
};

struct ParsedExport {
  OriginExport data;
  // At most kInputErrorsMax, in file order; when any is set, `data` is
  // incomplete and must not be imported.
  std::vector<InputError> errors;
};

// Parses and validates every document of `text` (the whole file).
ParsedExport ParseOriginExport(std::string_view text, ExportFormat format);

// The transaction_id given to an entry that has none: unique per entry,
// the same for every import of the same file.
std::string MadeUpTransactionId(std::string_view username, size_t index);

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_IMPORT_ORIGIN_EXPORT_H_
