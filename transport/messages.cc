#include "transport/messages.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace sbd {
namespace {

std::string Envelope(std::string_view type, int64_t seq, boost::json::object data) {
  boost::json::object message;
  message["type"] = type;
  message["seq"] = seq;
  message["data"] = std::move(data);
  return boost::json::serialize(message);
}

// The fields every transfer and mint message carries after its own.
void AddCommonFields(const Event& event, int64_t new_balance, boost::json::object& data) {
  data["amount"] = event.amount;
  data["new_balance"] = new_balance;
}

}  // namespace

std::string EncodeConnected(int64_t seq, std::string_view username, int64_t balance) {
  boost::json::object data;
  data["username"] = username;
  data["sbd_tokens"] = balance;
  return Envelope("connected", seq, std::move(data));
}

std::optional<std::string> EncodeNotification(const Event& event, std::string_view account) {
  boost::json::object data;
  std::string_view type;
  if (event.type == EventType::kTokensTransferred && account == event.from_account) {
    type = "sbd_tokens_sent";
    data["to_username"] = event.to_account;
    AddCommonFields(event, event.from_balance, data);
  } else if (event.type == EventType::kTokensTransferred && account == event.to_account) {
    type = "sbd_tokens_received";
    data["from_username"] = event.from_account;
    AddCommonFields(event, event.to_balance, data);
  } else if (event.type == EventType::kTokensMinted && account == event.to_account) {
    type = "sbd_tokens_credited";
    AddCommonFields(event, event.to_balance, data);
    // Always present (empty when the mint gave none), as API.md shows it.
    data["reason"] = event.note;
  } else {
    return std::nullopt;
  }
  data["transaction_id"] = event.transaction_id;
  data["timestamp"] = FormatTimestamp(event.timestamp_ms);
  if (event.type == EventType::kTokensTransferred && !event.note.empty()) {
    data["note"] = event.note;
  }
  return Envelope(type, event.seq, std::move(data));
}

std::string EncodePong() { return R"({"type":"pong"})"; }

}  // namespace sbd
