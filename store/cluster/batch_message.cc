#include "store/cluster/batch_message.h"

#include <boost/json.hpp>
#include <cassert>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace sbd {
namespace json = boost::json;
namespace {

absl::Status Malformed(std::string_view what) {
  return absl::DataLossError(absl::StrCat("stream batch message: ", std::string(what)));
}

json::object EventObject(const Event& event, const EventHash& hash) {
  json::object object;
  object["seq"] = event.seq;
  object["type"] = static_cast<int>(event.type);
  object["timestamp_ms"] = event.timestamp_ms;
  object["actor"] = event.actor;
  object["from_account"] = event.from_account;
  object["to_account"] = event.to_account;
  object["amount"] = event.amount;
  object["from_balance"] = event.from_balance;
  object["to_balance"] = event.to_balance;
  object["transaction_id"] = event.transaction_id;
  object["note"] = event.note;
  object["reason"] = event.reason;
  object["hash"] = HashHex(hash);
  return object;
}

// Reads one event object; each field must be present with its type.
class EventReader {
 public:
  explicit EventReader(const json::object& object) : object_(object) {}

  absl::Status Int(const char* name, int64_t& out) {
    const json::value* value = object_.if_contains(name);
    if (value == nullptr || !value->is_int64()) return Missing(name, "an integer");
    out = value->as_int64();
    return absl::OkStatus();
  }
  absl::Status String(const char* name, std::string& out) {
    const json::value* value = object_.if_contains(name);
    if (value == nullptr || !value->is_string()) return Missing(name, "a string");
    out = std::string(value->as_string());
    return absl::OkStatus();
  }

 private:
  static absl::Status Missing(const char* name, const char* type) {
    return Malformed(absl::StrCat("event field '", name, "' is not ", type));
  }
  const json::object& object_;
};

absl::Status ReadHash(const std::string& hex, EventHash& hash) {
  if (hex.size() != 2 * hash.size() ||
      hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Malformed("an event hash is not 64 lowercase hex digits");
  }
  const std::string bytes = absl::HexStringToBytes(hex);
  assert(bytes.size() == hash.size());
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return absl::OkStatus();
}

absl::Status ReadEvent(const json::value& value, Event& event, EventHash& hash) {
  if (!value.is_object()) return Malformed("an event is not an object");
  EventReader reader(value.as_object());
  int64_t type = 0;
  std::string hex;
  for (absl::Status status :
       {reader.Int("seq", event.seq), reader.Int("type", type),
        reader.Int("timestamp_ms", event.timestamp_ms), reader.String("actor", event.actor),
        reader.String("from_account", event.from_account),
        reader.String("to_account", event.to_account), reader.Int("amount", event.amount),
        reader.Int("from_balance", event.from_balance), reader.Int("to_balance", event.to_balance),
        reader.String("transaction_id", event.transaction_id), reader.String("note", event.note),
        reader.String("reason", event.reason), reader.String("hash", hex)}) {
    if (!status.ok()) return status;
  }
  if (type < static_cast<int>(EventType::kAccountOpened) ||
      type > static_cast<int>(EventType::kTransactionNoteSet)) {
    return Malformed(absl::StrCat("event ", event.seq, " has unknown type ", type));
  }
  event.type = static_cast<EventType>(type);
  return ReadHash(hex, hash);
}

}  // namespace

std::string EncodeBatch(absl::Span<const Event> events, absl::Span<const EventHash> hashes) {
  assert(!events.empty() && events.size() == hashes.size() && "one hash per event, at least one");
  json::array array;
  array.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    assert(events[i].seq == events.front().seq + static_cast<int64_t>(i) && "gapless seqs");
    array.push_back(EventObject(events[i], hashes[i]));
  }
  json::object body;
  body["first_seq"] = events.front().seq;
  body["last_seq"] = events.back().seq;
  body["events"] = std::move(array);
  return json::serialize(body);
}

absl::StatusOr<StreamBatch> DecodeBatch(std::string_view body) {
  boost::system::error_code error;
  json::value parsed = json::parse(json::string_view(body.data(), body.size()), error);
  if (error) return Malformed(absl::StrCat("not JSON: ", error.message()));
  if (!parsed.is_object()) return Malformed("not a JSON object");
  const json::object& object = parsed.as_object();
  const json::value* first = object.if_contains("first_seq");
  const json::value* last = object.if_contains("last_seq");
  const json::value* events = object.if_contains("events");
  if (first == nullptr || !first->is_int64() || last == nullptr || !last->is_int64() ||
      events == nullptr || !events->is_array()) {
    return Malformed("first_seq, last_seq and events are required");
  }
  const json::array& array = events->as_array();
  const int64_t first_seq = first->as_int64();
  if (first_seq < 1 || array.empty() ||
      last->as_int64() != first_seq + static_cast<int64_t>(array.size()) - 1) {
    return Malformed("first_seq..last_seq does not match the events");
  }
  StreamBatch batch;
  batch.events.resize(array.size());
  batch.hashes.resize(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    if (absl::Status status = ReadEvent(array[i], batch.events[i], batch.hashes[i]); !status.ok()) {
      return status;
    }
    if (batch.events[i].seq != first_seq + static_cast<int64_t>(i)) {
      return Malformed(absl::StrCat("event seq ", batch.events[i].seq, " where ",
                                    first_seq + static_cast<int64_t>(i), " belongs"));
    }
  }
  return batch;
}

}  // namespace sbd
