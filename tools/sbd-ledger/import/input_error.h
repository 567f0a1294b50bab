// InputError: one reason the importer refuses its input, at the line of the
// users file it concerns (the line a user document starts on; the reason
// names the field inside it). The command prints each as FILE:LINE: REASON.
//
// Thread-safety: a plain value.
#ifndef SBD_TOOLS_SBD_LEDGER_IMPORT_INPUT_ERROR_H_
#define SBD_TOOLS_SBD_LEDGER_IMPORT_INPUT_ERROR_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sbd {

struct InputError {
  int64_t line = 0;  // 1-based.
  std::string reason;

  friend bool operator==(const InputError&, const InputError&) = default;
};

// Errors reported before the importer stops looking: enough to show a
// pattern in a bad export without burying the terminal.
inline constexpr size_t kInputErrorsMax = 20;

// `text` as it may appear inside a reason: at most 64 bytes (cut on a UTF-8
// boundary, "..." appended), control characters as '?', in single quotes.
std::string QuoteForReason(std::string_view text);

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_IMPORT_INPUT_ERROR_H_
