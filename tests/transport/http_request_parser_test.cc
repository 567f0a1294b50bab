// Request body parsing (transport/request_parser.h): the JSON rules before a
// command reaches the engine.
#include <gtest/gtest.h>

#include <string>

#include "engine/error_code.h"
#include "transport/limits.h"
#include "transport/request_parser.h"

namespace sbd {
namespace {

std::optional<ErrorCode> SendError(std::string_view body) {
  auto command = ParseSendBody(body, "alice");
  if (command.ok()) return std::nullopt;
  return ErrorCodeOf(command.status());
}

TEST(RequestParserTest, ParsesSendBody) {
  auto command = ParseSendBody(
      R"({"to_user":"Bob","amount":50,"note":"lunch \u00e9","transaction_id":"t-1"})", "alice");
  ASSERT_TRUE(command.ok()) << command.status();
  EXPECT_EQ(command->from_account, "alice");
  EXPECT_EQ(command->to_account, "Bob");  // Canonicalised by the engine, not here.
  EXPECT_EQ(command->amount.kind, AmountField::Kind::kInteger);
  EXPECT_EQ(command->amount.value, 50);
  EXPECT_EQ(command->note, "lunch \xc3\xa9");
  EXPECT_EQ(command->transaction_id, "t-1");
}

TEST(RequestParserTest, OptionalFieldsMayBeAbsentOrNull) {
  auto command = ParseSendBody(R"({"to_user":"bob","amount":1,"note":null})", "alice");
  ASSERT_TRUE(command.ok()) << command.status();
  EXPECT_EQ(command->note, "");
  EXPECT_EQ(command->transaction_id, "");
}

TEST(RequestParserTest, NotAnObjectIsInvalidJson) {
  for (std::string_view body : {"", " ", "[]", "5", "\"x\"", "null", "true", "{", "{\"a\":}",
                                "{\"to_user\":\"bob\",\"amount\":1", "{'to_user':'bob'}",
                                "{\"to_user\":\"bob\" \"amount\":1}"}) {
    EXPECT_EQ(SendError(body), ErrorCode::kInvalidJson) << body;
  }
}

TEST(RequestParserTest, TrailingContentIsInvalidJson) {
  EXPECT_EQ(SendError(R"({"to_user":"bob","amount":1} x)"), ErrorCode::kInvalidJson);
  EXPECT_EQ(SendError(R"({"to_user":"bob","amount":1}{})"), ErrorCode::kInvalidJson);
  // Whitespace after the object is fine.
  EXPECT_EQ(SendError("{\"to_user\":\"bob\",\"amount\":1} \n"), std::nullopt);
}

TEST(RequestParserTest, MalformedUtf8IsInvalidJson) {
  EXPECT_EQ(SendError("{\"to_user\":\"b\xff\xfe\",\"amount\":1}"), ErrorCode::kInvalidJson);
  EXPECT_EQ(SendError("{\"to_user\":\"bob\",\"amount\":1,\"x\":\"\xc3\"}"),
            ErrorCode::kInvalidJson);
  // A lone surrogate escape is not a character either.
  EXPECT_EQ(SendError(R"({"to_user":"bob","amount":1,"note":"\ud800"})"), ErrorCode::kInvalidJson);
}

TEST(RequestParserTest, InvalidValuesOfUnknownFieldsAreInvalidJson) {
  EXPECT_EQ(SendError(R"({"to_user":"bob","amount":1,"extra":tru})"), ErrorCode::kInvalidJson);
  EXPECT_EQ(SendError(R"({"to_user":"bob","amount":1,"extra":[1,}]})"), ErrorCode::kInvalidJson);
  EXPECT_EQ(SendError(R"({"to_user":"bob","amount":1,"extra":01})"), ErrorCode::kInvalidJson);
  // Valid unknown fields of any shape are ignored.
  EXPECT_EQ(SendError(R"({"to_user":"bob","amount":1,"extra":{"a":[1,2.5,null,true,"s"]}})"),
            std::nullopt);
}

TEST(RequestParserTest, DuplicateKeysAreInvalidJson) {
  EXPECT_EQ(SendError(R"({"to_user":"bob","amount":1,"amount":2})"), ErrorCode::kInvalidJson);
  EXPECT_EQ(SendError(R"({"to_user":"bob","to_user":"carol","amount":1})"),
            ErrorCode::kInvalidJson);
  // Escapes are compared after unescaping.
  EXPECT_EQ(SendError(R"({"to_user":"bob","amount":1,"\u0061mount":2})"), ErrorCode::kInvalidJson);
}

TEST(RequestParserTest, MissingFieldsNamesEachOne) {
  auto command = ParseSendBody("{}", "alice");
  ASSERT_FALSE(command.ok());
  EXPECT_EQ(ErrorCodeOf(command.status()), ErrorCode::kMissingFields);
  EXPECT_NE(command.status().message().find("to_user"), absl::string_view::npos);
  EXPECT_NE(command.status().message().find("amount"), absl::string_view::npos);
  EXPECT_EQ(SendError(R"({"amount":1})"), ErrorCode::kMissingFields);
  EXPECT_EQ(SendError(R"({"to_user":"bob"})"), ErrorCode::kMissingFields);
  // Missing wins over a wrong type elsewhere.
  EXPECT_EQ(SendError(R"({"to_user":5})"), ErrorCode::kMissingFields);
}

TEST(RequestParserTest, WrongTypeForAStringFieldIsInvalidField) {
  EXPECT_EQ(SendError(R"({"to_user":5,"amount":1})"), ErrorCode::kInvalidField);
  EXPECT_EQ(SendError(R"({"to_user":null,"amount":1})"), ErrorCode::kInvalidField);
  EXPECT_EQ(SendError(R"({"to_user":"bob","amount":1,"note":7})"), ErrorCode::kInvalidField);
  EXPECT_EQ(SendError(R"({"to_user":"bob","amount":1,"transaction_id":["x"]})"),
            ErrorCode::kInvalidField);
  EXPECT_EQ(SendError(R"({"to_user":{"name":"bob"},"amount":1})"), ErrorCode::kInvalidField);
}

TEST(RequestParserTest, ClassifiesAmounts) {
  struct Case {
    std::string_view json;
    AmountField::Kind kind;
    int64_t value;
  };
  const Case cases[] = {
      {"1", AmountField::Kind::kInteger, 1},
      {"0", AmountField::Kind::kInteger, 0},
      {"-5", AmountField::Kind::kInteger, -5},
      {"9007199254740991", AmountField::Kind::kInteger, 9007199254740991},
      {"9223372036854775807", AmountField::Kind::kInteger, INT64_MAX},
      {"9223372036854775808", AmountField::Kind::kTooLarge, 0},
      {"-9223372036854775809", AmountField::Kind::kTooLarge, 0},
      {"123456789012345678901234567890", AmountField::Kind::kTooLarge, 0},
      {"5.0", AmountField::Kind::kNotInteger, 0},
      {"5e0", AmountField::Kind::kNotInteger, 0},
      {"1e400", AmountField::Kind::kNotInteger, 0},
      {"\"5\"", AmountField::Kind::kNotInteger, 0},
      {"true", AmountField::Kind::kNotInteger, 0},
      {"null", AmountField::Kind::kNotInteger, 0},
      {"[5]", AmountField::Kind::kNotInteger, 0},
      {"{\"v\":5}", AmountField::Kind::kNotInteger, 0},
  };
  for (const Case& c : cases) {
    const std::string body =
        std::string(R"({"to_user":"bob","amount":)") + std::string(c.json) + "}";
    auto command = ParseSendBody(body, "alice");
    ASSERT_TRUE(command.ok()) << body << ": " << command.status();
    EXPECT_EQ(command->amount.kind, c.kind) << body;
    if (c.kind == AmountField::Kind::kInteger) {
      EXPECT_EQ(command->amount.value, c.value) << body;
    }
  }
}

TEST(RequestParserTest, ParsesTheOtherBodies) {
  auto mint = ParseMintBody(R"({"username":"bob","amount":100,"reason":"gift"})", "root");
  ASSERT_TRUE(mint.ok()) << mint.status();
  EXPECT_EQ(mint->actor, "root");
  EXPECT_EQ(mint->account, "bob");
  EXPECT_EQ(mint->amount.value, 100);
  EXPECT_EQ(mint->reason, "gift");
  EXPECT_EQ(ErrorCodeOf(ParseMintBody(R"({"username":"bob"})", "root").status()),
            ErrorCode::kMissingFields);

  auto open = ParseOpenAccountBody(R"({"username":"dave"})", "root");
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(open->account, "dave");
  EXPECT_EQ(ErrorCodeOf(ParseOpenAccountBody(R"({"username":1})", "root").status()),
            ErrorCode::kInvalidField);

  auto note = ParseSetNoteBody(R"({"transaction_id":"t","note":""})", "alice");
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(note->transaction_id, "t");
  EXPECT_EQ(note->note, "");
  EXPECT_EQ(ErrorCodeOf(ParseSetNoteBody(R"({"transaction_id":"t"})", "alice").status()),
            ErrorCode::kMissingFields);
}

TEST(RequestParserTest, ParsesTheAdminTransferBody) {
  auto transfer =
      ParseAdminTransferBody(R"({"from_user":"Alice","to_user":"shop","amount":5,"note":"a book",)"
                             R"("transaction_id":"order-9","reason":"purchase"})",
                             "shop-service");
  ASSERT_TRUE(transfer.ok()) << transfer.status();
  EXPECT_EQ(transfer->actor, "shop-service");
  EXPECT_EQ(transfer->from_account, "Alice");  // Canonicalised by the engine, not here.
  EXPECT_EQ(transfer->to_account, "shop");
  EXPECT_EQ(transfer->amount.value, 5);
  EXPECT_EQ(transfer->note, "a book");
  EXPECT_EQ(transfer->transaction_id, "order-9");
  EXPECT_EQ(transfer->reason, "purchase");

  auto bare =
      ParseAdminTransferBody(R"({"from_user":"a","to_user":"b","amount":1,"reason":null})", "svc");
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(bare->note, "");
  EXPECT_EQ(bare->reason, "");
  EXPECT_EQ(bare->transaction_id, "");

  absl::StatusOr<TransferCommand> missing = ParseAdminTransferBody(R"({"to_user":"b"})", "svc");
  EXPECT_EQ(ErrorCodeOf(missing.status()), ErrorCode::kMissingFields);
  EXPECT_EQ(missing.status().message(), "missing required fields: from_user, amount");
  EXPECT_EQ(ErrorCodeOf(ParseAdminTransferBody(
                            R"({"from_user":"a","to_user":"b","amount":1,"reason":7})", "svc")
                            .status()),
            ErrorCode::kInvalidField);
  EXPECT_EQ(
      ErrorCodeOf(ParseAdminTransferBody(R"({"from_user":"a","from_user":"b"})", "svc").status()),
      ErrorCode::kInvalidJson);
}

TEST(RequestParserTest, DeepNestingIsRefused) {
  std::string deep = R"({"to_user":"bob","amount":1,"x":)";
  for (int i = 0; i < 200; ++i) deep += "[";
  for (int i = 0; i < 200; ++i) deep += "]";
  deep += "}";
  EXPECT_EQ(SendError(deep), ErrorCode::kInvalidJson);
}

// The limit counts the levels of a field's value (the body's own object is
// not one): kRequestBodyDepthMax nested arrays pass, one more is refused.
TEST(RequestParserTest, NestingUpToTheDepthLimitIsAcceptedOneMoreIsNot) {
  auto body = [](size_t levels) {
    std::string text = R"({"to_user":"bob","amount":1,"x":)";
    text += std::string(levels, '[') + std::string(levels, ']');
    return text + "}";
  };
  EXPECT_EQ(SendError(body(kRequestBodyDepthMax)), std::nullopt);
  EXPECT_EQ(SendError(body(kRequestBodyDepthMax + 1)), ErrorCode::kInvalidJson);
}

}  // namespace
}  // namespace sbd
