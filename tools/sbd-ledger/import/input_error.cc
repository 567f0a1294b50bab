#include "tools/sbd-ledger/import/input_error.h"

namespace sbd {
namespace {

// Long enough for any valid username or UUID, short enough for one line.
constexpr size_t kQuotedBytesMax = 64;

}  // namespace

std::string QuoteForReason(std::string_view text) {
  bool cut = false;
  if (text.size() > kQuotedBytesMax) {
    size_t end = kQuotedBytesMax;
    // Back up to the start of a UTF-8 sequence (not a continuation byte).
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
    text = text.substr(0, end);
    cut = true;
  }
  std::string quoted = "'";
  for (char c : text) quoted += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
  if (cut) quoted += "...";
  quoted += "'";
  return quoted;
}

}  // namespace sbd
