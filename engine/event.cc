#include "engine/event.h"

#include "absl/time/time.h"

namespace sbd {

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kAccountOpened:
      return "account_opened";
    case EventType::kTokensMinted:
      return "tokens_minted";
    case EventType::kTokensTransferred:
      return "tokens_transferred";
    case EventType::kTransactionNoteSet:
      return "transaction_note_set";
  }
  return "unknown";
}

std::string FormatTimestamp(int64_t timestamp_ms) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", absl::FromUnixMillis(timestamp_ms),
                          absl::UTCTimeZone());
}

}  // namespace sbd
