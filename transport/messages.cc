#include "transport/messages.h"

#include "transport/json_object_writer.h"

namespace sbd {
namespace {

// One message: {"type":T,"seq":S,"data":{...}} with the data members in
// call order.
class MessageWriter {
 public:
  MessageWriter(std::string_view type, int64_t seq) {
    writer_.String("type", type).Number("seq", seq).BeginObject("data");
  }

  MessageWriter& Field(std::string_view key, std::string_view value) {
    writer_.String(key, value);
    return *this;
  }

  MessageWriter& Field(std::string_view key, int64_t value) {
    writer_.Number(key, value);
    return *this;
  }

  // Closes the message and hands over its text; the writer is spent.
  std::string Finish() { return writer_.EndObject().Finish(); }

 private:
  JsonObjectWriter writer_;
};

}  // namespace

std::string EncodeConnected(int64_t seq, std::string_view username, int64_t balance) {
  return MessageWriter("connected", seq)
      .Field("username", username)
      .Field("sbd_tokens", balance)
      .Finish();
}

std::optional<std::string> EncodeNotification(const Event& event, std::string_view account) {
  const bool transfer = event.type == EventType::kTokensTransferred;
  const bool mint = event.type == EventType::kTokensMinted;
  std::optional<MessageWriter> writer;
  if (transfer && account == event.from_account) {
    writer.emplace("sbd_tokens_sent", event.seq);
    writer->Field("to_username", event.to_account)
        .Field("amount", event.amount)
        .Field("new_balance", event.from_balance);
  } else if (transfer && account == event.to_account) {
    writer.emplace("sbd_tokens_received", event.seq);
    writer->Field("from_username", event.from_account)
        .Field("amount", event.amount)
        .Field("new_balance", event.to_balance);
  } else if (mint && account == event.to_account) {
    writer.emplace("sbd_tokens_credited", event.seq);
    // `reason` is always present (empty when the mint gave none), as API.md
    // shows it.
    writer->Field("amount", event.amount)
        .Field("new_balance", event.to_balance)
        .Field("reason", event.note);
  } else {
    return std::nullopt;
  }
  char timestamp[kTimestampLength];
  FormatTimestampTo(event.timestamp_ms, timestamp);
  writer->Field("transaction_id", event.transaction_id)
      .Field("timestamp", std::string_view(timestamp, kTimestampLength));
  if (transfer && !event.note.empty()) writer->Field("note", event.note);
  return writer->Finish();
}

std::string EncodePong() { return R"({"type":"pong"})"; }

}  // namespace sbd
