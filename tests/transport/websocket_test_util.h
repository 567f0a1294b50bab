// Helpers shared by the WebSocket tests (in-process and end to end): reading
// a known number of messages with one overall deadline, and checking a
// message against the exact shapes of API.md ("WebSocket").
//
// Thread-safety: pure functions; a WebSocketClient is driven by one thread.
#ifndef SBD_TESTS_TRANSPORT_WEBSOCKET_TEST_UTIL_H_
#define SBD_TESTS_TRANSPORT_WEBSOCKET_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/support/websocket_client.h"

namespace sbd::testing {

// Reads exactly `count` messages within `timeout` overall.
inline absl::StatusOr<std::vector<boost::json::object>> ReadMessages(
    WebSocketClient& client, size_t count,
    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<boost::json::object> messages;
  while (messages.size() < count) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0) remaining = std::chrono::milliseconds(1);
    absl::StatusOr<boost::json::value> message = client.ReadJson(remaining);
    if (!message.ok()) {
      return absl::Status(message.status().code(),
                          absl::StrCat("after ", messages.size(), " of ", count,
                                       " messages: ", message.status().message()));
    }
    if (!message->is_object()) return absl::DataLossError("message is not an object");
    messages.push_back(message->as_object());
  }
  return messages;
}

// True if no message arrives within `quiet` (the client stays usable).
inline ::testing::AssertionResult ReceivesNothing(
    WebSocketClient& client, std::chrono::milliseconds quiet = std::chrono::milliseconds(300)) {
  absl::StatusOr<std::string> message = client.Read(quiet);
  if (message.ok()) return ::testing::AssertionFailure() << "unexpected message " << *message;
  if (!absl::IsDeadlineExceeded(message.status())) {
    return ::testing::AssertionFailure() << message.status();
  }
  return ::testing::AssertionSuccess();
}

inline std::string Keys(const boost::json::object& object) {
  std::vector<std::string> keys;
  for (const auto& member : object) keys.emplace_back(member.key());
  std::sort(keys.begin(), keys.end());
  return absl::StrJoin(keys, ",");
}

inline std::string SortedKeys(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  return absl::StrJoin(keys, ",");
}

inline int64_t Seq(const boost::json::object& message) {
  const boost::json::value* seq = message.if_contains("seq");
  return seq != nullptr && seq->is_int64() ? seq->as_int64() : -1;
}

inline std::string Type(const boost::json::object& message) {
  const boost::json::value* type = message.if_contains("type");
  return type != nullptr && type->is_string() ? std::string(type->as_string()) : "";
}

inline const boost::json::object& Data(const boost::json::object& message) {
  static const boost::json::object kEmpty;
  const boost::json::value* data = message.if_contains("data");
  return data != nullptr && data->is_object() ? data->as_object() : kEmpty;
}

// `message` is exactly {"type":type,"seq":<int>,"data":{...}} and its data
// has exactly the keys API.md gives that type (plus "note" when `has_note`).
inline ::testing::AssertionResult HasApiShape(const boost::json::object& message,
                                              std::string_view type, bool has_note = false) {
  if (Keys(message) != "data,seq,type") {
    return ::testing::AssertionFailure()
           << "envelope keys " << Keys(message) << " in " << boost::json::serialize(message);
  }
  if (Type(message) != type) {
    return ::testing::AssertionFailure() << "type " << Type(message) << ", want " << type;
  }
  if (Seq(message) < 0) return ::testing::AssertionFailure() << "seq is not an integer";
  std::vector<std::string> keys;
  if (type == "connected") {
    keys = {"username", "sbd_tokens"};
  } else if (type == "sbd_tokens_sent") {
    keys = {"to_username", "amount", "new_balance", "transaction_id", "timestamp"};
  } else if (type == "sbd_tokens_received") {
    keys = {"from_username", "amount", "new_balance", "transaction_id", "timestamp"};
  } else if (type == "sbd_tokens_credited") {
    keys = {"amount", "new_balance", "reason", "transaction_id", "timestamp"};
  } else {
    return ::testing::AssertionFailure() << "unknown type " << type;
  }
  if (has_note) keys.push_back("note");
  if (Keys(Data(message)) != SortedKeys(keys)) {
    return ::testing::AssertionFailure()
           << "data keys " << Keys(Data(message)) << ", want " << SortedKeys(keys) << " in "
           << boost::json::serialize(message);
  }
  for (const char* number : {"amount", "new_balance", "sbd_tokens"}) {
    const boost::json::value* value = Data(message).if_contains(number);
    if (value != nullptr && !value->is_int64()) {
      return ::testing::AssertionFailure() << number << " is not an integer";
    }
  }
  return ::testing::AssertionSuccess();
}

inline int64_t IntField(const boost::json::object& message, std::string_view name) {
  const boost::json::value* value = Data(message).if_contains(name);
  return value != nullptr && value->is_int64() ? value->as_int64() : -1;
}

inline std::string StringField(const boost::json::object& message, std::string_view name) {
  const boost::json::value* value = Data(message).if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

// Seqs strictly increasing (in order, no duplicate).
inline ::testing::AssertionResult StrictlyIncreasing(const std::vector<int64_t>& seqs) {
  for (size_t i = 1; i < seqs.size(); ++i) {
    if (seqs[i] <= seqs[i - 1]) {
      return ::testing::AssertionFailure()
             << "seq " << seqs[i] << " at " << i << " after " << seqs[i - 1];
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace sbd::testing

#endif  // SBD_TESTS_TRANSPORT_WEBSOCKET_TEST_UTIL_H_
