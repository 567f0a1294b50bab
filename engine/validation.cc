#include "engine/validation.h"

#include "absl/strings/ascii.h"
#include "engine/absl_compat.h"
#include "engine/error_code.h"

namespace sbd {
namespace {

bool IsUsernameChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '.' || c == '-';
}

// Counts the code points of well-formed UTF-8 (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF); nullopt for malformed input.
std::optional<size_t> Utf8CodePoints(std::string_view text) {
  size_t count = 0;
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t min_value = 0;
    uint32_t value = 0;
    if (byte < 0x80) {
      length = 1;
      value = byte;
    } else if ((byte & 0xe0) == 0xc0) {
      length = 2;
      value = byte & 0x1f;
      min_value = 0x80;
    } else if ((byte & 0xf0) == 0xe0) {
      length = 3;
      value = byte & 0x0f;
      min_value = 0x800;
    } else if ((byte & 0xf8) == 0xf0) {
      length = 4;
      value = byte & 0x07;
      min_value = 0x10000;
    } else {
      return std::nullopt;
    }
    if (i + length > text.size()) return std::nullopt;
    for (size_t k = 1; k < length; ++k) {
      const auto continuation = static_cast<unsigned char>(text[i + k]);
      if ((continuation & 0xc0) != 0x80) return std::nullopt;
      value = (value << 6) | (continuation & 0x3f);
    }
    if (value < min_value || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
      return std::nullopt;
    }
    i += length;
    ++count;
  }
  return count;
}

}  // namespace

absl::Status CanonicalizeUsername(std::string& name) {
  // Lowercasing keeps the length: check it first, then lower and check each
  // character in one pass.
  if (name.empty() || name.size() > kUsernameLengthMax) {
    return MakeError(ErrorCode::kInvalidUsername, "username must be 1 to 64 characters");
  }
  for (char& c : name) {
    c = absl::ascii_tolower(static_cast<unsigned char>(c));
    if (!IsUsernameChar(c)) {
      return MakeError(ErrorCode::kInvalidUsername,
                       "username may contain only a-z, 0-9, '_', '.' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CanonicalUsername(std::string_view name) {
  std::string canonical(name);
  if (absl::Status status = CanonicalizeUsername(canonical); !status.ok()) return status;
  return canonical;
}

absl::StatusOr<int64_t> ValidateAmount(const AmountField& amount) {
  if (amount.kind != AmountField::Kind::kInteger) {
    return MakeError(ErrorCode::kInvalidAmount, "amount must be a JSON integer");
  }
  if (amount.value < 1 || amount.value > kAmountMax) {
    return MakeError(ErrorCode::kInvalidAmount, "amount must be between 1 and 9007199254740991");
  }
  return amount.value;
}

absl::Status ValidateNote(std::string_view note) {
  std::optional<size_t> code_points = Utf8CodePoints(note);
  if (!code_points) return MakeError(ErrorCode::kInvalidField, "note is not valid UTF-8");
  if (*code_points > kNoteLengthMax) {
    return MakeError(ErrorCode::kInvalidField, "note is longer than 500 characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateTransactionId(std::string_view transaction_id) {
  if (transaction_id.empty() || transaction_id.size() > kTransactionIdLengthMax) {
    return MakeError(ErrorCode::kInvalidField, "transaction_id must be 1 to 128 characters");
  }
  for (char c : transaction_id) {
    if (c < 0x20 || c > 0x7e) {
      return MakeError(ErrorCode::kInvalidField, "transaction_id must be printable ASCII");
    }
  }
  return absl::OkStatus();
}

}  // namespace sbd
