#include "transport/json_object_writer.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sbd {
namespace {

// The writer must say exactly what serializing the same json::object says
// (the answers used to be built that way): members in order, the library's
// escaping.
TEST(JsonObjectWriter, WritesWhatBoostJsonSerializes) {
  const std::string tricky = "quote\" backslash\\ newline\n tab\t ctrl\x01 \xc3\xa9";
  boost::json::object nested;
  nested["k"] = -5;
  boost::json::object expected;
  expected["status"] = "success";
  expected["text"] = tricky;
  expected["n"] = 9223372036854775807;
  expected["data"] = nested;
  expected["duplicate"] = true;
  expected["empty"] = "";
  const std::string written = JsonObjectWriter()
                                  .String("status", "success")
                                  .String("text", tricky)
                                  .Number("n", 9223372036854775807)
                                  .BeginObject("data")
                                  .Number("k", -5)
                                  .EndObject()
                                  .Bool("duplicate", true)
                                  .String("empty", "")
                                  .Finish();
  EXPECT_EQ(written, boost::json::serialize(expected));
}

// Arrays of objects (the transaction history), empty ones too.
TEST(JsonObjectWriter, ArraysOfObjectsAsBoostJsonSerializes) {
  boost::json::object first;
  first["type"] = "send";
  first["amount"] = 5;
  boost::json::object second;
  second["type"] = "receive";
  boost::json::array items;
  items.push_back(first);
  items.push_back(second);
  boost::json::object expected;
  expected["username"] = "alice";
  expected["transactions"] = items;
  expected["none"] = boost::json::array();
  expected["after"] = true;
  const std::string written = JsonObjectWriter()
                                  .String("username", "alice")
                                  .BeginArray("transactions")
                                  .BeginElement()
                                  .String("type", "send")
                                  .Number("amount", 5)
                                  .EndObject()
                                  .BeginElement()
                                  .String("type", "receive")
                                  .EndObject()
                                  .EndArray()
                                  .BeginArray("none")
                                  .EndArray()
                                  .Bool("after", true)
                                  .Finish();
  EXPECT_EQ(written, boost::json::serialize(expected));
}

// Plain printable ASCII takes a fast path past the serializer: every byte,
// alone and inside plain text, must still come out as Boost.JSON writes it.
TEST(JsonObjectWriter, EveryByteAsBoostJsonSerializes) {
  for (int byte = 0; byte < 256; ++byte) {
    const char c = static_cast<char>(byte);
    std::vector<std::string> texts = {std::string(1, c)};
    for (size_t at = 0; at < 20; ++at) {
      std::string text = "abcdefghijklmnopqrst";
      text[at] = c;
      texts.push_back(text);
    }
    for (const std::string& text : texts) {
      boost::json::object expected;
      expected[text] = text;
      EXPECT_EQ(JsonObjectWriter().String(text, text).Finish(), boost::json::serialize(expected))
          << "byte " << byte;
    }
  }
}

TEST(JsonObjectWriter, EmptyObject) { EXPECT_EQ(JsonObjectWriter().Finish(), "{}"); }

}  // namespace
}  // namespace sbd
