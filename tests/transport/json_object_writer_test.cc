#include "transport/json_object_writer.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

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

TEST(JsonObjectWriter, EmptyObject) { EXPECT_EQ(JsonObjectWriter().Finish(), "{}"); }

}  // namespace
}  // namespace sbd
