#include "engine/validation.h"

#include <string>
#include <vector>

#include "engine/error_code.h"
#include "gtest/gtest.h"

namespace sbd {
namespace {

std::optional<ErrorCode> CodeOf(const absl::Status& status) { return ErrorCodeOf(status); }

TEST(CanonicalUsername, LowercasesAndAcceptsTheAllowedAlphabet) {
  EXPECT_EQ(*CanonicalUsername("Alice"), "alice");
  EXPECT_EQ(*CanonicalUsername("BOB_1.x-y"), "bob_1.x-y");
  EXPECT_EQ(*CanonicalUsername("a"), "a");
}

TEST(CanonicalUsername, LengthEdges) {
  EXPECT_TRUE(CanonicalUsername(std::string(64, 'a')).ok());
  EXPECT_EQ(CodeOf(CanonicalUsername(std::string(65, 'a')).status()), ErrorCode::kInvalidUsername);
  EXPECT_EQ(CodeOf(CanonicalUsername("").status()), ErrorCode::kInvalidUsername);
}

TEST(CanonicalUsername, RejectsCharactersOutsideTheAlphabet) {
  for (const std::string& bad :
       std::vector<std::string>{"al ice", "bob!", "c@rol", "dave/", "\xc3\xa9ve",
                                std::string("a\0b", 3), "<script>", "tab\t"}) {
    EXPECT_EQ(CodeOf(CanonicalUsername(bad).status()), ErrorCode::kInvalidUsername) << bad;
  }
}

// The in-place form: the same rules, codes and messages as CanonicalUsername.
absl::StatusOr<std::string> CanonicalizedInPlace(std::string name) {
  if (absl::Status status = CanonicalizeUsername(name); !status.ok()) return status;
  return name;
}

TEST(CanonicalizeUsername, LowercasesInPlace) {
  EXPECT_EQ(*CanonicalizedInPlace("Alice"), "alice");
  EXPECT_EQ(*CanonicalizedInPlace("BOB_1.X-Y"), "bob_1.x-y");
  EXPECT_EQ(*CanonicalizedInPlace("already_lower.9-z"), "already_lower.9-z");
  EXPECT_EQ(*CanonicalizedInPlace(std::string(64, 'Z')), std::string(64, 'z'));
}

TEST(CanonicalizeUsername, AgreesWithCanonicalUsername) {
  std::vector<std::string> names = {"",
                                    "a",
                                    "A",
                                    "MiXeD.Case_9-",
                                    std::string(64, 'a'),
                                    std::string(64, 'A'),
                                    std::string(65, 'a'),
                                    std::string(65, 'A'),
                                    std::string(65, '!'),
                                    "al ice",
                                    "Bob!",
                                    "c@rol",
                                    "\xc3\x89ve",
                                    std::string("a\0b", 3),
                                    "tab\t",
                                    "UPPER+"};
  for (int byte = 0; byte < 256; ++byte) {
    names.push_back("x" + std::string(1, static_cast<char>(byte)) + "Y");
  }
  for (const std::string& name : names) {
    const absl::StatusOr<std::string> expected = CanonicalUsername(name);
    const absl::StatusOr<std::string> in_place = CanonicalizedInPlace(name);
    ASSERT_EQ(in_place.ok(), expected.ok()) << name;
    if (expected.ok()) {
      EXPECT_EQ(*in_place, *expected) << name;
    } else {
      EXPECT_EQ(CodeOf(in_place.status()), ErrorCode::kInvalidUsername) << name;
      EXPECT_EQ(in_place.status(), expected.status()) << name;
    }
  }
}

TEST(CanonicalizeUsername, LengthAndAlphabetEdges) {
  EXPECT_EQ(CodeOf(CanonicalizedInPlace("").status()), ErrorCode::kInvalidUsername);
  EXPECT_TRUE(CanonicalizedInPlace(std::string(64, 'a')).ok());
  EXPECT_EQ(CodeOf(CanonicalizedInPlace(std::string(65, 'a')).status()),
            ErrorCode::kInvalidUsername);
  // Too long and invalid: the length is reported, as CanonicalUsername does.
  EXPECT_EQ(CanonicalizedInPlace(std::string(65, '!')).status().message(),
            "username must be 1 to 64 characters");
  EXPECT_EQ(CanonicalizedInPlace("Bob!").status().message(),
            "username may contain only a-z, 0-9, '_', '.' and '-'");
}

TEST(ValidateAmount, IntegerEdges) {
  EXPECT_EQ(*ValidateAmount(AmountField::Integer(1)), 1);
  EXPECT_EQ(*ValidateAmount(AmountField::Integer(kAmountMax)), kAmountMax);
  EXPECT_EQ(kAmountMax, 9007199254740991);
  for (int64_t bad : {int64_t{0}, int64_t{-1}, kAmountMax + 1, INT64_MIN, INT64_MAX}) {
    EXPECT_EQ(CodeOf(ValidateAmount(AmountField::Integer(bad)).status()), ErrorCode::kInvalidAmount)
        << bad;
  }
}

TEST(ValidateAmount, NonIntegersAndHugeIntegersAreInvalid) {
  // Floats (also 5.0), strings, booleans and null all arrive as kNotInteger.
  EXPECT_EQ(CodeOf(ValidateAmount({AmountField::Kind::kNotInteger, 5}).status()),
            ErrorCode::kInvalidAmount);
  EXPECT_EQ(CodeOf(ValidateAmount({AmountField::Kind::kTooLarge, 0}).status()),
            ErrorCode::kInvalidAmount);
}

TEST(ValidateNote, LengthCountsCodePoints) {
  EXPECT_TRUE(ValidateNote("").ok());
  EXPECT_TRUE(ValidateNote(std::string(500, 'x')).ok());
  EXPECT_EQ(CodeOf(ValidateNote(std::string(501, 'x'))), ErrorCode::kInvalidField);
  std::string euros;
  for (int i = 0; i < 500; ++i) euros += "\xe2\x82\xac";  // 500 x U+20AC, 1500 bytes.
  EXPECT_TRUE(ValidateNote(euros).ok());
  EXPECT_EQ(CodeOf(ValidateNote(euros + "\xe2\x82\xac")), ErrorCode::kInvalidField);
}

TEST(ValidateNote, RejectsMalformedUtf8) {
  for (const std::string& bad : std::vector<std::string>{
           "\xff", "\xc3", "\xc0\xaf" /* overlong */, "\xed\xa0\x80" /* surrogate */,
           "\xf4\x90\x80\x80" /* > U+10FFFF */, "ok\x80"}) {
    EXPECT_EQ(CodeOf(ValidateNote(bad)), ErrorCode::kInvalidField);
  }
}

TEST(ValidateTransactionId, PrintableAsciiUpTo128) {
  EXPECT_TRUE(ValidateTransactionId("a").ok());
  EXPECT_TRUE(ValidateTransactionId(std::string(128, '~')).ok());
  EXPECT_TRUE(ValidateTransactionId("order 42: {x}").ok());
  EXPECT_EQ(CodeOf(ValidateTransactionId(std::string(129, 'a'))), ErrorCode::kInvalidField);
  EXPECT_EQ(CodeOf(ValidateTransactionId("")), ErrorCode::kInvalidField);
  EXPECT_EQ(CodeOf(ValidateTransactionId("tab\there")), ErrorCode::kInvalidField);
  EXPECT_EQ(CodeOf(ValidateTransactionId("caf\xc3\xa9")), ErrorCode::kInvalidField);
  EXPECT_EQ(CodeOf(ValidateTransactionId("del\x7f")), ErrorCode::kInvalidField);
}

TEST(ErrorCode, RoundTripsThroughStatusWithItsHttpStatus) {
  absl::Status status = MakeError(ErrorCode::kInsufficientFunds, "Insufficient sbd_tokens");
  EXPECT_EQ(ErrorCodeOf(status), ErrorCode::kInsufficientFunds);
  EXPECT_EQ(status.message(), "Insufficient sbd_tokens");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kInsufficientFunds), "insufficient_funds");
  // Its HTTP status is transport's: tests/transport/http_status_test.cc.
  EXPECT_EQ(ErrorCodeName(ErrorCode::kTransactionIdConflict), "transaction_id_conflict");
  // Statuses without a code: log failures map to unavailable, others to none.
  EXPECT_EQ(ErrorCodeOf(absl::UnavailableError("disk")), ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorCodeOf(absl::ResourceExhaustedError("queue")), ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorCodeOf(absl::InternalError("bug")), std::nullopt);
  EXPECT_EQ(ErrorCodeOf(absl::OkStatus()), std::nullopt);
}

TEST(FormatTimestamp, MillisecondsUtc) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(1795705445123), "2026-11-26T15:04:05.123Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(951782400000), "2000-02-29T00:00:00.000Z");  // Leap day.
  EXPECT_EQ(FormatTimestamp(253402300799999), "9999-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace sbd
