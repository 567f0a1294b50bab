#include "transport/messages.h"

#include <boost/json/parse.hpp>

#include "gtest/gtest.h"

namespace sbd {
namespace {

Event Transfer(std::string note) {
  Event event;
  event.seq = 42;
  event.type = EventType::kTokensTransferred;
  event.timestamp_ms = 1795705445123;
  event.actor = "alice";
  event.from_account = "alice";
  event.to_account = "bob";
  event.amount = 50;
  event.from_balance = 70;
  event.to_balance = 80;
  event.transaction_id = "tx-1";
  event.note = std::move(note);
  return event;
}

TEST(Messages, TransferGivesTheSenderAndTheReceiverTheirOwnMessage) {
  const Event event = Transfer("");
  EXPECT_EQ(EncodeNotification(event, "alice"),
            R"({"type":"sbd_tokens_sent","seq":42,"data":{"to_username":"bob","amount":50,)"
            R"("new_balance":70,"transaction_id":"tx-1","timestamp":"2026-11-26T15:04:05.123Z"}})");
  EXPECT_EQ(EncodeNotification(event, "bob"),
            R"({"type":"sbd_tokens_received","seq":42,"data":{"from_username":"alice","amount":50,)"
            R"("new_balance":80,"transaction_id":"tx-1","timestamp":"2026-11-26T15:04:05.123Z"}})");
  EXPECT_EQ(EncodeNotification(event, "carol"), std::nullopt);
}

TEST(Messages, NotesAreEscapedByTheJsonLibrary) {
  const std::string note = "say \"hi\"\\\n\t<script>\x01 caf\xc3\xa9";
  std::optional<std::string> text = EncodeNotification(Transfer(note), "bob");
  ASSERT_TRUE(text.has_value());
  boost::json::value parsed = boost::json::parse(*text);
  EXPECT_EQ(parsed.at("data").at("note").as_string(), note);
  EXPECT_EQ(parsed.at("data").at("amount").as_int64(), 50);
  EXPECT_EQ(text->find('\n'), std::string::npos);  // Control characters escaped.
}

TEST(Messages, MintCreditsTheHolderWithAlwaysAReason) {
  Event event;
  event.seq = 43;
  event.type = EventType::kTokensMinted;
  event.timestamp_ms = 0;
  event.actor = "root";
  event.to_account = "bob";
  event.amount = 100;
  event.to_balance = 100;
  event.transaction_id = "m-1";
  EXPECT_EQ(EncodeNotification(event, "bob"),
            R"({"type":"sbd_tokens_credited","seq":43,"data":{"amount":100,"new_balance":100,)"
            R"("reason":"","transaction_id":"m-1","timestamp":"1970-01-01T00:00:00.000Z"}})");
  EXPECT_EQ(EncodeNotification(event, "root"), std::nullopt);
  event.type = EventType::kAccountOpened;
  EXPECT_EQ(EncodeNotification(event, "bob"), std::nullopt);
}

TEST(Messages, ConnectedAndPong) {
  EXPECT_EQ(EncodeConnected(9, "bob", 1057),
            R"({"type":"connected","seq":9,"data":{"username":"bob","sbd_tokens":1057}})");
  EXPECT_EQ(EncodePong(), R"({"type":"pong"})");
}

}  // namespace
}  // namespace sbd
